"""The original GAN of Goodfellow et al. (2014) on MNIST 28×28 with MLPs (seed 003 Task 1.1–1.3, seed 002).

G maps z ~ N(0, I) (B, 100) to images (B, 1, 28, 28) in [-1, 1]; D maps images to logits (B,).
Every loss takes logits and stays finite at ±100: log σ(l) = −softplus(−l) and log(1 − σ(l)) = −softplus(l).
Two generator losses let students compare the saturating minimax loss with the non-saturating one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from gankit.common import LATENT_DIM, sample_latent

IMAGE_SHAPE = (1, 28, 28)
IMAGE_PIXELS = 28 * 28


class Generator(nn.Module):
    """G(z): latent codes (B, latent_dim) → images (B, 1, 28, 28) in [-1, 1] (tanh output), an MLP."""

    def __init__(self, latent_dim: int = LATENT_DIM, hidden: int = 256) -> None:
        super().__init__()
        # TODO: implement Generator.__init__
        raise NotImplementedError("TODO in vanilla_gan.py: implement Generator.__init__")

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        # TODO: implement Generator.forward
        raise NotImplementedError("TODO in vanilla_gan.py: implement Generator.forward")


class Discriminator(nn.Module):
    """D(x): images (B, 1, 28, 28) in [-1, 1] → logits (B,), an MLP; the probability "real" is σ(logit).

    Dropout, as in Goodfellow et al., keeps D from memorising the real batch and overpowering G early.
    """

    def __init__(self, hidden: int = 256) -> None:
        super().__init__()
        # TODO: implement Discriminator.__init__
        raise NotImplementedError("TODO in vanilla_gan.py: implement Discriminator.__init__")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # TODO: implement Discriminator.forward
        raise NotImplementedError("TODO in vanilla_gan.py: implement Discriminator.forward")


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """Mean BCE of the real batch against 1 plus mean BCE of the fake batch against 0 (log 4 at logit 0).

    This is −[mean log D(x) + mean log(1 − D(G(z)))]: minimising it is D ascending V(D, G).
    """
    # TODO: implement discriminator_loss
    raise NotImplementedError("TODO in vanilla_gan.py: implement discriminator_loss")


def generator_loss_minimax(fake_logits: torch.Tensor) -> torch.Tensor:
    """Saturating loss of the original game, mean log(1 − D(G(z))) = −mean softplus(l) (−log 2 at logit 0).

    G minimises it; its gradient σ(l) vanishes when D confidently rejects the fakes (l → −∞).
    """
    # TODO: implement generator_loss_minimax
    raise NotImplementedError("TODO in vanilla_gan.py: implement generator_loss_minimax")


def generator_loss_nonsaturating(fake_logits: torch.Tensor) -> torch.Tensor:
    """Non-saturating ("logistic") loss −mean log D(G(z)) = mean softplus(−l) (log 2 at logit 0).

    Same fixed point as the minimax loss, but its gradient stays near −1 per sample while D rejects the fakes.
    """
    # TODO: implement generator_loss_nonsaturating
    raise NotImplementedError("TODO in vanilla_gan.py: implement generator_loss_nonsaturating")


def train_step(
    G: nn.Module,
    D: nn.Module,
    opt_G: torch.optim.Optimizer,
    opt_D: torch.optim.Optimizer,
    real_batches: Sequence[torch.Tensor],
    generator_loss: Callable[[torch.Tensor], torch.Tensor] = generator_loss_nonsaturating,
    rng: torch.Generator | None = None,
) -> dict[str, float]:
    """One iteration of Algorithm 1: k = len(real_batches) D updates, then one G update.

    Each real batch (m, 1, 28, 28) gets one D update against m fresh, detached fakes. The G update draws
    fresh noise (as many codes as the last real batch) and minimises `generator_loss` of D's logits on the
    fakes; it steps only opt_G, so D's weights stay as the last D update left them. Returns loss_D and
    D's accuracies (logit > 0 on real, logit < 0 on fake) from the last D update, and loss_G.
    """
    # TODO: implement train_step
    raise NotImplementedError("TODO in vanilla_gan.py: implement train_step")
