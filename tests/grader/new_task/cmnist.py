"""The reference of a ninth task that only the new-task test knows: a class-conditional DCGAN on MNIST 28×28
whose names differ from every catalogue task's (`Gen`, `Disc`, `d_loss`, `g_loss`, `step`, `sample`,
`optimisers`), so a grader table keyed by a student's name would show."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from gankit.common import LATENT_DIM, NUM_CLASSES, evaluating, one_hot, sample_latent, to_unit_numpy


class Gen(nn.Module):
    """G(z, y): z (B, 100) and one-hot y (B, 10) → images (B, 1, 28, 28) in [-1, 1]."""

    def __init__(self, width: int = 32) -> None:
        super().__init__()
        # BEGIN SOLUTION
        self.width = width
        self.project = nn.Sequential(nn.Linear(LATENT_DIM + NUM_CLASSES, 2 * width * 7 * 7), nn.ReLU())
        self.upsample = nn.Sequential(
            nn.ConvTranspose2d(2 * width, width, 4, stride=2, padding=1),  # (B, w, 14, 14)
            nn.BatchNorm2d(width),
            nn.ReLU(),
            nn.ConvTranspose2d(width, 1, 4, stride=2, padding=1),  # (B, 1, 28, 28)
            nn.Tanh(),
        )
        # END SOLUTION

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        # BEGIN SOLUTION
        h = self.project(torch.cat([z, 5.0 * y], dim=1))  # (B, 2w * 49)
        return self.upsample(h.view(-1, 2 * self.width, 7, 7))  # (B, 1, 28, 28)
        # END SOLUTION


class Disc(nn.Module):
    """D(x, y): images (B, 1, 28, 28) and one-hot y (B, 10) → logits (B,)."""

    def __init__(self, width: int = 32) -> None:
        super().__init__()
        # BEGIN SOLUTION
        self.features = nn.Sequential(
            nn.Conv2d(1 + NUM_CLASSES, width, 4, stride=2, padding=1),  # (B, w, 14, 14)
            nn.LeakyReLU(0.2),
            nn.Conv2d(width, 2 * width, 4, stride=2, padding=1),  # (B, 2w, 7, 7)
            nn.LeakyReLU(0.2),
            nn.Flatten(),
            nn.Linear(2 * width * 49, 1),
        )
        # END SOLUTION

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        # BEGIN SOLUTION
        planes = y[:, :, None, None].expand(-1, -1, x.shape[2], x.shape[3])  # (B, 10, 28, 28)
        return self.features(torch.cat([x, planes], dim=1)).squeeze(1)  # (B,)
        # END SOLUTION


def d_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """Mean BCE of the real logits against 1 plus mean BCE of the fake logits against 0."""
    # BEGIN SOLUTION
    real = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
    return real + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
    # END SOLUTION


def g_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """The non-saturating loss −mean log σ(l)."""
    return F.softplus(-fake_logits).mean()  # SOLUTION


def optimisers(G: nn.Module, D: nn.Module) -> tuple[torch.optim.Optimizer, torch.optim.Optimizer]:
    """Adam(lr 2e-4, betas (0.5, 0.999)) for each network."""
    # BEGIN SOLUTION
    return tuple(torch.optim.Adam(net.parameters(), lr=2e-4, betas=(0.5, 0.999)) for net in (G, D))
    # END SOLUTION


def step(
    G: nn.Module,
    D: nn.Module,
    opt_G: torch.optim.Optimizer,
    opt_D: torch.optim.Optimizer,
    real: torch.Tensor,
    labels: torch.Tensor,
    rng: torch.Generator | None = None,
) -> dict[str, float]:
    """One D update on real and detached fakes for the same labels, then one G update."""
    # BEGIN SOLUTION
    y = one_hot(labels).to(real.device)
    fake = G(sample_latent(len(real), real.device, rng), y)
    opt_D.zero_grad()
    real_logits, fake_logits = D(real, y), D(fake.detach(), y)
    loss_D = d_loss(real_logits, fake_logits)
    loss_D.backward()
    opt_D.step()
    opt_G.zero_grad()
    loss_G = g_loss(D(fake, y))
    loss_G.backward()
    opt_G.step()
    return {
        "loss_D": loss_D.item(),
        "loss_G": loss_G.item(),
        "d_acc_real": (real_logits > 0).float().mean().item(),
        "d_acc_fake": (fake_logits < 0).float().mean().item(),
    }
    # END SOLUTION


def sample(G: nn.Module, n: int, c: int, rng: torch.Generator | None = None) -> np.ndarray:
    """n images of class c, float32 (n, 28, 28) in [0, 1]."""
    # BEGIN SOLUTION
    device = next(G.parameters()).device
    with evaluating(G), torch.no_grad():
        images = G(sample_latent(n, device, rng), one_hot(torch.full((n,), c)).to(device))
    return to_unit_numpy(images)
    # END SOLUTION
