"""Class-conditional DCGAN on Fashion-MNIST at 32×32 (seed 000 Task 2, seed 004 Q3.3–3.5).

Networks take one-hot labels (B, 10) as float vectors, so soft labels interpolate between classes.
The discriminator returns logits (B,); every loss takes logits and stays finite at ±100.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from gankit.common import LATENT_DIM, NUM_CLASSES, evaluating, one_hot, sample_latent, to_unit_numpy


class Generator(nn.Module):
    """G(z, y): z (B, 100) and one-hot y (B, 10) → images (B, 1, 32, 32) in [-1, 1].

    The DCGAN figure of seed 000: a linear projection to a 4×4 grid, then transposed convolutions that
    double the size, each followed by BatchNorm and LeakyReLU; tanh at the end.
    """

    def __init__(self, latent_dim: int = LATENT_DIM, num_classes: int = NUM_CLASSES, width: int = 64) -> None:
        super().__init__()
        # TODO: implement Generator.__init__
        raise NotImplementedError("TODO in cdcgan.py: implement Generator.__init__")

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        # TODO: implement Generator.forward
        raise NotImplementedError("TODO in cdcgan.py: implement Generator.forward")


class Discriminator(nn.Module):
    """D(x, y): images (B, 1, 32, 32) and one-hot y (B, 10) → logits (B,).

    Spectral norm on every layer keeps D smooth (seed 000's hint against mode collapse). The label enters
    by projection: the logit adds <embed(y), features(x)>, which ties each class to its own direction.
    """

    def __init__(self, num_classes: int = NUM_CLASSES, width: int = 64) -> None:
        super().__init__()
        # TODO: implement Discriminator.__init__
        raise NotImplementedError("TODO in cdcgan.py: implement Discriminator.__init__")

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        # TODO: implement Discriminator.forward
        raise NotImplementedError("TODO in cdcgan.py: implement Discriminator.forward")


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """Mean BCE of the real batch against 1 plus mean BCE of the fake batch against 0 (log 4 at logit 0)."""
    # TODO: implement discriminator_loss
    raise NotImplementedError("TODO in cdcgan.py: implement discriminator_loss")


def generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """Non-saturating loss −mean log D(G(z|y)|y): strong gradients while D still rejects the fakes."""
    # TODO: implement generator_loss
    raise NotImplementedError("TODO in cdcgan.py: implement generator_loss")


def make_optimizers(G: nn.Module, D: nn.Module) -> tuple[torch.optim.Optimizer, torch.optim.Optimizer]:
    """(opt_G, opt_D): Adam with learning rate 1e-4 and betas (0.5, 0.999) for both (seed 000's hint)."""
    # TODO: implement make_optimizers
    raise NotImplementedError("TODO in cdcgan.py: implement make_optimizers")


def train_step(
    G: nn.Module,
    D: nn.Module,
    opt_G: torch.optim.Optimizer,
    opt_D: torch.optim.Optimizer,
    real: torch.Tensor,
    labels: torch.Tensor,
    rng: torch.Generator | None = None,
) -> dict[str, float]:
    """One D update, then one G update, on a real batch (B, 1, 32, 32) with integer labels (B,).

    The fakes are generated for the same labels as the real batch. Returns the two losses and D's
    accuracy on the real batch (logit > 0) and on the fake batch (logit < 0), both from the D step.
    """
    # TODO: implement train_step
    raise NotImplementedError("TODO in cdcgan.py: implement train_step")


def generate(G: nn.Module, n: int, c: int, rng: torch.Generator | None = None) -> np.ndarray:
    """n images of class c as a numpy float32 array (n, 32, 32) in [0, 1], sampled with G in eval mode."""
    # TODO: implement generate
    raise NotImplementedError("TODO in cdcgan.py: implement generate")


def interpolate(
    G: nn.Module,
    z0: torch.Tensor,
    z1: torch.Tensor,
    y0: int | torch.Tensor,
    y1: int | torch.Tensor,
    steps: int = 6,
) -> np.ndarray:
    """Morph from G(z0, y0) to G(z1, y1): steps + 2 images (8 by default), endpoints included.

    z0, z1 are latent codes (100,); y0, y1 are class indices or label vectors (10,). Noise and label
    vectors move together along straight lines. Returns numpy float32 (steps + 2, 32, 32) in [0, 1].
    """
    # TODO: implement interpolate
    raise NotImplementedError("TODO in cdcgan.py: implement interpolate")
