"""Unconditional DCGAN on MNIST at 28×28 (seed 001 §2, seed 002).

The generator upsamples with transposed convolutions; the discriminator returns logits (B,), and the
losses take logits so they stay finite at ±100.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from gankit.common import LATENT_DIM, evaluating, sample_latent, to_unit_numpy


class Generator(nn.Module):
    """G(z): z (B, 100) → images (B, 1, 28, 28) in [-1, 1].

    A linear layer to a 7×7 grid, then two transposed convolutions (even 4×4 kernels, against
    checkerboard artefacts) that double the size, BatchNorm and ReLU between, tanh at the end.
    """

    def __init__(self, latent_dim: int = LATENT_DIM, width: int = 64) -> None:
        super().__init__()
        # TODO: implement Generator.__init__
        raise NotImplementedError("TODO in dcgan.py: implement Generator.__init__")

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        # TODO: implement Generator.forward
        raise NotImplementedError("TODO in dcgan.py: implement Generator.forward")


class Discriminator(nn.Module):
    """D(x): images (B, 1, 28, 28) → logits (B,): strided convolutions with LeakyReLU, then a linear layer."""

    def __init__(self, width: int = 64) -> None:
        super().__init__()
        # TODO: implement Discriminator.__init__
        raise NotImplementedError("TODO in dcgan.py: implement Discriminator.__init__")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # TODO: implement Discriminator.forward
        raise NotImplementedError("TODO in dcgan.py: implement Discriminator.forward")


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """Mean BCE of the real batch against 1 plus mean BCE of the fake batch against 0 (log 4 at logit 0)."""
    # TODO: implement discriminator_loss
    raise NotImplementedError("TODO in dcgan.py: implement discriminator_loss")


def generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """Non-saturating BCE of the fakes against 1, i.e. −mean log D(G(z)) (log 2 at logit 0)."""
    # TODO: implement generator_loss
    raise NotImplementedError("TODO in dcgan.py: implement generator_loss")


def train_step(
    G: nn.Module,
    D: nn.Module,
    opt_G: torch.optim.Optimizer,
    opt_D: torch.optim.Optimizer,
    real: torch.Tensor,
    rng: torch.Generator | None = None,
) -> dict[str, float]:
    """One D update on a real batch (B, 1, 28, 28) and detached fakes, then one G update.

    Returns the two losses and D's accuracy on the real batch (logit > 0) and the fakes (logit < 0).
    """
    # TODO: implement train_step
    raise NotImplementedError("TODO in dcgan.py: implement train_step")


def generate(G: nn.Module, n: int, rng: torch.Generator | None = None) -> np.ndarray:
    """n images as a numpy float32 array (n, 28, 28) in [0, 1], sampled with G in eval mode."""
    # TODO: implement generate
    raise NotImplementedError("TODO in dcgan.py: implement generate")
