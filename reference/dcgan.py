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
        # BEGIN SOLUTION
        self.width = width
        self.project = nn.Sequential(
            nn.Linear(latent_dim, 2 * width * 7 * 7, bias=False), nn.BatchNorm1d(2 * width * 7 * 7), nn.ReLU()
        )
        self.upsample = nn.Sequential(
            nn.ConvTranspose2d(2 * width, width, 4, stride=2, padding=1, bias=False),  # (B, w, 14, 14)
            nn.BatchNorm2d(width),
            nn.ReLU(),
            nn.ConvTranspose2d(width, 1, 4, stride=2, padding=1),  # (B, 1, 28, 28)
            nn.Tanh(),
        )
        # END SOLUTION

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        # BEGIN SOLUTION
        h = self.project(z).view(-1, 2 * self.width, 7, 7)  # (B, 2w, 7, 7)
        return self.upsample(h)  # (B, 1, 28, 28)
        # END SOLUTION


class Discriminator(nn.Module):
    """D(x): images (B, 1, 28, 28) → logits (B,): strided convolutions with LeakyReLU, then a linear layer."""

    def __init__(self, width: int = 64) -> None:
        super().__init__()
        # BEGIN SOLUTION
        self.body = nn.Sequential(
            nn.Conv2d(1, width, 4, stride=2, padding=1),  # (B, w, 14, 14)
            nn.LeakyReLU(0.2),
            nn.Conv2d(width, 2 * width, 4, stride=2, padding=1),  # (B, 2w, 7, 7)
            nn.BatchNorm2d(2 * width),
            nn.LeakyReLU(0.2),
            nn.Conv2d(2 * width, 2 * width, 3, stride=2, padding=1),  # (B, 2w, 4, 4)
            nn.LeakyReLU(0.2),
            nn.Flatten(),
            nn.Linear(2 * width * 4 * 4, 1),  # (B, 1)
        )
        # END SOLUTION

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # BEGIN SOLUTION
        return self.body(x).squeeze(1)  # (B,)
        # END SOLUTION


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """Mean BCE of the real batch against 1 plus mean BCE of the fake batch against 0 (log 4 at logit 0)."""
    # BEGIN SOLUTION
    real_term = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
    return real_term + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
    # END SOLUTION


def generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """Non-saturating BCE of the fakes against 1, i.e. −mean log D(G(z)) (log 2 at logit 0)."""
    # BEGIN SOLUTION
    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))
    # END SOLUTION


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
    # BEGIN SOLUTION
    fake = G(sample_latent(len(real), real.device, rng))  # (B, 1, 28, 28)

    # (1) Update D: maximise log D(x) + log(1 − D(G(z))); detach so this step leaves G's gradients alone
    real_logits = D(real)
    fake_logits = D(fake.detach())
    loss_D = discriminator_loss(real_logits, fake_logits)
    opt_D.zero_grad()
    loss_D.backward()
    opt_D.step()

    # (2) Update G: maximise log D(G(z)) (non-saturating); only opt_G steps, so D keeps its weights
    loss_G = generator_loss(D(fake))
    opt_G.zero_grad()
    loss_G.backward()
    opt_G.step()

    return {
        "loss_D": loss_D.item(),
        "loss_G": loss_G.item(),
        "d_acc_real": (real_logits > 0).float().mean().item(),
        "d_acc_fake": (fake_logits < 0).float().mean().item(),
    }
    # END SOLUTION


def generate(G: nn.Module, n: int, rng: torch.Generator | None = None) -> np.ndarray:
    """n images as a numpy float32 array (n, 28, 28) in [0, 1], sampled with G in eval mode."""
    # BEGIN SOLUTION
    device = next(G.parameters()).device
    with evaluating(G):
        return to_unit_numpy(G(sample_latent(n, device, rng)))
    # END SOLUTION
