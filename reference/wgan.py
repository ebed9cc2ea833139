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
        # BEGIN SOLUTION
        self.width = width
        self.project = nn.Sequential(
            nn.Linear(latent_dim, 4 * width * 4 * 4, bias=False), nn.BatchNorm1d(4 * width * 16), nn.ReLU()
        )
        self.upsample = nn.Sequential(
            nn.ConvTranspose2d(4 * width, 2 * width, 4, stride=2, padding=1, bias=False),  # (B, 2w, 8, 8)
            nn.BatchNorm2d(2 * width),
            nn.ReLU(),
            nn.ConvTranspose2d(2 * width, width, 4, stride=2, padding=1, bias=False),  # (B, w, 16, 16)
            nn.BatchNorm2d(width),
            nn.ReLU(),
            nn.ConvTranspose2d(width, 1, 4, stride=2, padding=1),  # (B, 1, 32, 32)
            nn.Tanh(),
        )
        # END SOLUTION

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        # BEGIN SOLUTION
        return self.upsample(self.project(z).view(-1, 4 * self.width, 4, 4))  # (B, 1, 32, 32)
        # END SOLUTION


class Critic(nn.Module):
    """C(x): images (B, 1, 32, 32) → real-valued scores (B,), no sigmoid: higher means "more real"."""

    def __init__(self, width: int = 64) -> None:
        super().__init__()
        # BEGIN SOLUTION
        self.body = nn.Sequential(
            nn.Conv2d(1, width, 4, stride=2, padding=1),  # (B, w, 16, 16)
            nn.LeakyReLU(0.2),
            nn.Conv2d(width, 2 * width, 4, stride=2, padding=1),  # (B, 2w, 8, 8)
            nn.LeakyReLU(0.2),
            nn.Conv2d(2 * width, 4 * width, 4, stride=2, padding=1),  # (B, 4w, 4, 4)
            nn.LeakyReLU(0.2),
            nn.Flatten(),
            nn.Linear(4 * width * 16, 1),  # (B, 1)
        )
        # END SOLUTION

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # BEGIN SOLUTION
        return self.body(x).squeeze(1)  # (B,)
        # END SOLUTION


def critic_loss(score_real: torch.Tensor, score_fake: torch.Tensor) -> torch.Tensor:
    """mean C(G(z)) − mean C(x): minimising it widens the critic's estimate of the Wasserstein distance."""
    # BEGIN SOLUTION
    return score_fake.mean() - score_real.mean()
    # END SOLUTION


def generator_loss(score_fake: torch.Tensor) -> torch.Tensor:
    """−mean C(G(z)): the generator pushes the critic's scores of its samples up."""
    # BEGIN SOLUTION
    return -score_fake.mean()
    # END SOLUTION


def clip_weights(critic: nn.Module, c: float = 0.01) -> None:
    """Clamp every tensor in critic.parameters() (weights, biases, norm parameters) to [−c, c], in place."""
    # BEGIN SOLUTION
    with torch.no_grad():
        for parameter in critic.parameters():
            parameter.clamp_(-c, c)
    # END SOLUTION


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
    # BEGIN SOLUTION
    # (1) Update the critic n_critic times on fresh real batches and fresh, detached fakes
    for real in real_batches:
        with torch.no_grad():
            fake = G(sample_latent(len(real), real.device, rng))  # (B, 1, 32, 32)
        loss_C = critic_loss(C(real), C(fake))
        opt_C.zero_grad()
        loss_C.backward()
        opt_C.step()
        clip_weights(C, clip)

    # (2) Update G once: raise the critic's score of new fakes; opt_C does not step, so C keeps its weights
    loss_G = generator_loss(C(G(sample_latent(len(real_batches[-1]), real_batches[-1].device, rng))))
    opt_G.zero_grad()
    loss_G.backward()
    opt_G.step()

    return {"loss_D": loss_C.item(), "loss_G": loss_G.item(), "wasserstein": -loss_C.item()}
    # END SOLUTION
