"""Wasserstein GAN with weight clipping on Fashion-MNIST at 32×32 (seed 002 "outstanding", seed 001 §3).

The critic returns unbounded scores (B,), no sigmoid. Clipping every critic parameter to [−c, c] after
each critic update is the original paper's crude way to keep the critic Lipschitz.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from gankit.common import LATENT_DIM, sample_latent


class Generator(nn.Module):
    """G(z): z (B, 100) → images (B, 1, 32, 32) in [-1, 1]; a 4×4 projection then three doubling
    transposed convolutions with BatchNorm and ReLU, tanh at the end."""

    def __init__(self, latent_dim: int = LATENT_DIM, width: int = 64) -> None:
        super().__init__()
        # TODO: implement Generator.__init__
        raise NotImplementedError("TODO in wgan.py: implement Generator.__init__")

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        # TODO: implement Generator.forward
        raise NotImplementedError("TODO in wgan.py: implement Generator.forward")


class Critic(nn.Module):
    """C(x): images (B, 1, 32, 32) → real-valued scores (B,), no sigmoid: higher means "more real"."""

    def __init__(self, width: int = 64) -> None:
        super().__init__()
        # TODO: implement Critic.__init__
        raise NotImplementedError("TODO in wgan.py: implement Critic.__init__")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # TODO: implement Critic.forward
        raise NotImplementedError("TODO in wgan.py: implement Critic.forward")


def critic_loss(score_real: torch.Tensor, score_fake: torch.Tensor) -> torch.Tensor:
    """mean C(G(z)) − mean C(x): minimising it widens the critic's estimate of the Wasserstein distance."""
    # TODO: implement critic_loss
    raise NotImplementedError("TODO in wgan.py: implement critic_loss")


def generator_loss(score_fake: torch.Tensor) -> torch.Tensor:
    """−mean C(G(z)): the generator pushes the critic's scores of its samples up."""
    # TODO: implement generator_loss
    raise NotImplementedError("TODO in wgan.py: implement generator_loss")


def clip_weights(critic: nn.Module, c: float = 0.01) -> None:
    """Clamp every tensor in critic.parameters() (weights, biases, norm parameters) to [−c, c], in place."""
    # TODO: implement clip_weights
    raise NotImplementedError("TODO in wgan.py: implement clip_weights")


def train_step(
    G: nn.Module,
    C: nn.Module,
    opt_G: torch.optim.Optimizer,
    opt_C: torch.optim.Optimizer,
    real_batches: list[torch.Tensor],
    clip: float = 0.01,
    rng: torch.Generator | None = None,
) -> dict[str, float]:
    """n_critic = len(real_batches) critic updates, each followed by clipping, then one generator update.

    Each real batch is (B, 1, 32, 32). Returns the last critic loss (loss_D), the generator loss (loss_G)
    and the critic's Wasserstein estimate mean C(x) − mean C(G(z)) from the last critic step.
    """
    # TODO: implement train_step
    raise NotImplementedError("TODO in wgan.py: implement train_step")
