"""Conditional WGAN with gradient penalty on Fashion-MNIST at 28×28 (seed 001 §3).

The seed's names are kept (`get_WLoss_generator`, `get_WLoss_discriminator`,
`get_gradient_regularisation`). The critic sees the label as 10 extra image channels: channel c is all
ones for class c and zeros elsewhere (a soft label spreads its weights over the channels).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn

from gankit.common import LATENT_DIM, NUM_CLASSES, evaluating, one_hot, sample_latent, to_unit_numpy


class Generator(nn.Module):
    """G(z, y): z (B, 100) and one-hot y (B, 10) → images (B, 1, 28, 28) in [-1, 1].

    The label is appended to the noise vector, and again as 10 constant 7×7 maps to the grid the linear layer
    makes, so the upsampling layers see the class directly (the critic's only label signal is its input
    channels, and the class is learnt faster this way); two transposed convolutions double 7×7 to 28×28.
    """

    def __init__(self, latent_dim: int = LATENT_DIM, num_classes: int = NUM_CLASSES, width: int = 64) -> None:
        super().__init__()
        # TODO: implement Generator.__init__
        raise NotImplementedError("TODO in cwgan_gp.py: implement Generator.__init__")

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        # TODO: implement Generator.forward
        raise NotImplementedError("TODO in cwgan_gp.py: implement Generator.forward")


class Critic(nn.Module):
    """C(x, y): images (B, 1, 28, 28) and one-hot y (B, 10) → scores (B,).

    No BatchNorm: the gradient penalty is defined per sample, and batch statistics would mix samples.
    """

    def __init__(self, num_classes: int = NUM_CLASSES, width: int = 64) -> None:
        super().__init__()
        # TODO: implement Critic.__init__
        raise NotImplementedError("TODO in cwgan_gp.py: implement Critic.__init__")

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        # TODO: implement Critic.forward
        raise NotImplementedError("TODO in cwgan_gp.py: implement Critic.forward")


def get_WLoss_generator(score_fake: torch.Tensor) -> torch.Tensor:
    """−mean C(G(z|y)|y)."""
    # TODO: implement get_WLoss_generator
    raise NotImplementedError("TODO in cwgan_gp.py: implement get_WLoss_generator")


def get_WLoss_discriminator(score_real: torch.Tensor, score_fake: torch.Tensor) -> torch.Tensor:
    """mean C(G(z|y)|y) − mean C(x|y), without the penalty."""
    # TODO: implement get_WLoss_discriminator
    raise NotImplementedError("TODO in cwgan_gp.py: implement get_WLoss_discriminator")


def get_gradient_regularisation(
    critic: nn.Module,
    real: torch.Tensor,
    fake: torch.Tensor,
    y: torch.Tensor,
    lam: float = 10.0,
    rng: torch.Generator | None = None,
) -> torch.Tensor:
    """lam · mean over the batch of (‖∇ C(x̂, y)‖₂ − 1)², at x̂ = ε·real + (1 − ε)·fake.

    One ε ~ U[0, 1] per sample, broadcast over (C, H, W); the norm runs over all non-batch dimensions; the
    result stays differentiable with respect to the critic's parameters (create_graph=True). `fake` may
    arrive detached or not.
    """
    # TODO: implement get_gradient_regularisation
    raise NotImplementedError("TODO in cwgan_gp.py: implement get_gradient_regularisation")


def train_step(
    G: nn.Module,
    C: nn.Module,
    opt_G: torch.optim.Optimizer,
    opt_C: torch.optim.Optimizer,
    real_batches: list[torch.Tensor],
    label_batches: list[torch.Tensor],
    lam: float = 10.0,
    rng: torch.Generator | None = None,
) -> dict[str, float]:
    """n_critic = len(real_batches) critic updates with the penalty, then one generator update.

    real_batches[i] (B, 1, 28, 28) comes with integer labels label_batches[i] (B,); fakes are made for the
    same labels. Returns loss_D (critic loss with penalty), loss_G, the penalty and the critic's
    Wasserstein estimate, from the last critic step.
    """
    # TODO: implement train_step
    raise NotImplementedError("TODO in cwgan_gp.py: implement train_step")


def generate(G: nn.Module, n: int, c: int, rng: torch.Generator | None = None) -> np.ndarray:
    """n images of class c as a numpy float32 array (n, 28, 28) in [0, 1], sampled with G in eval mode."""
    # TODO: implement generate
    raise NotImplementedError("TODO in cwgan_gp.py: implement generate")
