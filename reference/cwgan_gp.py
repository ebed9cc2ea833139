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
        # BEGIN SOLUTION
        self.width = width
        self.project = nn.Sequential(
            nn.Linear(latent_dim + num_classes, 2 * width * 7 * 7, bias=False),
            nn.BatchNorm1d(2 * width * 7 * 7),
            nn.ReLU(),
        )
        self.upsample = nn.Sequential(
            nn.ConvTranspose2d(2 * width + num_classes, width, 4, stride=2, padding=1, bias=False),  # (B, w, 14, 14)
            nn.BatchNorm2d(width),
            nn.ReLU(),
            nn.ConvTranspose2d(width, 1, 4, stride=2, padding=1),  # (B, 1, 28, 28)
            nn.Tanh(),
        )
        # END SOLUTION

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        # BEGIN SOLUTION
        h = self.project(torch.cat([z, y], dim=1)).view(-1, 2 * self.width, 7, 7)  # (B, 2w, 7, 7)
        label_maps = y[:, :, None, None].expand(-1, -1, 7, 7)  # (B, 10, 7, 7)
        return self.upsample(torch.cat([h, label_maps], dim=1))  # (B, 1, 28, 28)
        # END SOLUTION


class Critic(nn.Module):
    """C(x, y): images (B, 1, 28, 28) and one-hot y (B, 10) → scores (B,).

    No BatchNorm: the gradient penalty is defined per sample, and batch statistics would mix samples.
    """

    def __init__(self, num_classes: int = NUM_CLASSES, width: int = 64) -> None:
        super().__init__()
        # BEGIN SOLUTION
        self.body = nn.Sequential(
            nn.Conv2d(1 + num_classes, width, 4, stride=2, padding=1),  # (B, w, 14, 14)
            nn.LeakyReLU(0.2),
            nn.Conv2d(width, 2 * width, 4, stride=2, padding=1),  # (B, 2w, 7, 7)
            nn.LeakyReLU(0.2),
            nn.Flatten(),
            nn.Linear(2 * width * 7 * 7, 1),  # (B, 1)
        )
        # END SOLUTION

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        # BEGIN SOLUTION
        label_maps = y[:, :, None, None].expand(-1, -1, x.shape[2], x.shape[3])  # (B, 10, 28, 28)
        return self.body(torch.cat([x, label_maps], dim=1)).squeeze(1)  # (B,)
        # END SOLUTION


def get_WLoss_generator(score_fake: torch.Tensor) -> torch.Tensor:
    """−mean C(G(z|y)|y)."""
    # BEGIN SOLUTION
    return -score_fake.mean()
    # END SOLUTION


def get_WLoss_discriminator(score_real: torch.Tensor, score_fake: torch.Tensor) -> torch.Tensor:
    """mean C(G(z|y)|y) − mean C(x|y), without the penalty."""
    # BEGIN SOLUTION
    return score_fake.mean() - score_real.mean()
    # END SOLUTION


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
    # BEGIN SOLUTION
    eps = torch.rand(len(real), *([1] * (real.dim() - 1)), device=real.device, generator=rng)  # (B, 1, 1, 1)
    mixed = (eps * real + (1 - eps) * fake.detach()).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(mixed, y).sum(), mixed, create_graph=True)  # (B, 1, 28, 28)
    norms = grad.flatten(1).norm(dim=1)  # (B,)
    return lam * ((norms - 1) ** 2).mean()
    # END SOLUTION


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
    # BEGIN SOLUTION
    # (1) Update the critic n_critic times: Wasserstein loss plus gradient penalty on detached fakes
    for real, labels in zip(real_batches, label_batches, strict=True):
        y = one_hot(labels).to(real.device)  # (B, 10)
        with torch.no_grad():
            fake = G(sample_latent(len(real), real.device, rng), y)  # (B, 1, 28, 28)
        wasserstein_loss = get_WLoss_discriminator(C(real, y), C(fake, y))
        penalty = get_gradient_regularisation(C, real, fake, y, lam, rng)
        loss_C = wasserstein_loss + penalty
        opt_C.zero_grad()
        loss_C.backward()
        opt_C.step()

    # (2) Update G once for the last batch's labels; only opt_G steps, so C keeps its weights
    loss_G = get_WLoss_generator(C(G(sample_latent(len(y), y.device, rng), y), y))
    opt_G.zero_grad()
    loss_G.backward()
    opt_G.step()

    return {
        "loss_D": loss_C.item(),
        "loss_G": loss_G.item(),
        "gradient_penalty": penalty.item(),
        "wasserstein": -wasserstein_loss.item(),
    }
    # END SOLUTION


def generate(G: nn.Module, n: int, c: int, rng: torch.Generator | None = None) -> np.ndarray:
    """n images of class c as a numpy float32 array (n, 28, 28) in [0, 1], sampled with G in eval mode."""
    # BEGIN SOLUTION
    device = next(G.parameters()).device
    with evaluating(G):
        return to_unit_numpy(G(sample_latent(n, device, rng), one_hot(torch.full((n,), c)).to(device)))
    # END SOLUTION
