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
        # BEGIN SOLUTION
        self.width = width
        self.project = nn.Sequential(
            nn.Linear(latent_dim + num_classes, 4 * width * 4 * 4, bias=False),
            nn.BatchNorm1d(4 * width * 4 * 4),
            nn.LeakyReLU(0.2),
        )
        self.upsample = nn.Sequential(
            nn.ConvTranspose2d(4 * width, 2 * width, 4, stride=2, padding=1, bias=False),  # (B, 2w, 8, 8)
            nn.BatchNorm2d(2 * width),
            nn.LeakyReLU(0.2),
            nn.ConvTranspose2d(2 * width, width, 4, stride=2, padding=1, bias=False),  # (B, w, 16, 16)
            nn.BatchNorm2d(width),
            nn.LeakyReLU(0.2),
            nn.ConvTranspose2d(width, 1, 4, stride=2, padding=1),  # (B, 1, 32, 32)
            nn.Tanh(),
        )
        # END SOLUTION

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        # BEGIN SOLUTION
        # The label is scaled by 5 so its 10 entries are not drowned by the 100 N(0, 1) noise entries (‖z‖ ≈ 10):
        # Adam moves every weight by about lr per step, so the label's pre-activations then move 5× faster. On the
        # CPU budget this lifts class accuracy at 3000 steps from 0.56 to 0.67 (seed 1: 0.52 to 0.65); a scale of
        # 10 costs diversity.
        h = self.project(torch.cat([z, 5.0 * y], dim=1))  # (B, 4w * 16)
        return self.upsample(h.view(-1, 4 * self.width, 4, 4))  # (B, 1, 32, 32)
        # END SOLUTION


class Discriminator(nn.Module):
    """D(x, y): images (B, 1, 32, 32) and one-hot y (B, 10) → logits (B,).

    Spectral norm on every layer keeps D smooth (seed 000's hint against mode collapse). The label enters
    by projection: the logit adds <embed(y), features(x)>, which ties each class to its own direction.
    """

    def __init__(self, num_classes: int = NUM_CLASSES, width: int = 64) -> None:
        super().__init__()
        # BEGIN SOLUTION
        sn = nn.utils.parametrizations.spectral_norm
        self.features = nn.Sequential(
            sn(nn.Conv2d(1, width, 4, stride=2, padding=1)),  # (B, w, 16, 16)
            nn.LeakyReLU(0.2),
            sn(nn.Conv2d(width, 2 * width, 4, stride=2, padding=1)),  # (B, 2w, 8, 8)
            nn.LeakyReLU(0.2),
            sn(nn.Conv2d(2 * width, 4 * width, 4, stride=2, padding=1)),  # (B, 4w, 4, 4)
            nn.LeakyReLU(0.2),
            nn.Flatten(),  # (B, 4w * 16)
        )
        self.unconditional = sn(nn.Linear(4 * width * 16, 1))
        self.embed = sn(nn.Linear(num_classes, 4 * width * 16, bias=False))
        # END SOLUTION

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        # BEGIN SOLUTION
        h = self.features(x)  # (B, 4w * 16)
        return self.unconditional(h).squeeze(1) + (self.embed(y) * h).sum(dim=1)  # (B,)
        # END SOLUTION


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """Mean BCE of the real batch against 1 plus mean BCE of the fake batch against 0 (log 4 at logit 0)."""
    # BEGIN SOLUTION
    real_term = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
    return real_term + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
    # END SOLUTION


def generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """Non-saturating loss −mean log D(G(z|y)|y): strong gradients while D still rejects the fakes."""
    # BEGIN SOLUTION
    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))
    # END SOLUTION


def make_optimizers(G: nn.Module, D: nn.Module) -> tuple[torch.optim.Optimizer, torch.optim.Optimizer]:
    """(opt_G, opt_D): Adam with learning rate 1e-4 and betas (0.5, 0.999) for both (seed 000's hint)."""
    # BEGIN SOLUTION
    return (
        torch.optim.Adam(G.parameters(), lr=1e-4, betas=(0.5, 0.999)),
        torch.optim.Adam(D.parameters(), lr=1e-4, betas=(0.5, 0.999)),
    )
    # END SOLUTION


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
    # BEGIN SOLUTION
    y = one_hot(labels).to(real.device)  # (B, 10)
    fake = G(sample_latent(len(real), real.device, rng), y)  # (B, 1, 32, 32)

    # (1) Update D: maximise log D(x|y) + log(1 − D(G(z|y)|y)); the fakes are detached so G is untouched
    real_logits = D(real, y)
    fake_logits = D(fake.detach(), y)
    loss_D = discriminator_loss(real_logits, fake_logits)
    opt_D.zero_grad()
    loss_D.backward()
    opt_D.step()

    # (2) Update G: maximise log D(G(z|y)|y), the non-saturating form of minimising log(1 − D(G(z|y)|y))
    loss_G = generator_loss(D(fake, y))
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


def generate(G: nn.Module, n: int, c: int, rng: torch.Generator | None = None) -> np.ndarray:
    """n images of class c as a numpy float32 array (n, 32, 32) in [0, 1], sampled with G in eval mode."""
    # BEGIN SOLUTION
    device = next(G.parameters()).device
    with evaluating(G):
        images = G(sample_latent(n, device, rng), one_hot(torch.full((n,), c)).to(device))  # (n, 1, 32, 32)
    return to_unit_numpy(images)
    # END SOLUTION


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
    # BEGIN SOLUTION
    device = next(G.parameters()).device
    t = torch.linspace(0.0, 1.0, steps + 2, device=device)[:, None]  # (S, 1)
    z0, z1 = (z.reshape(1, -1).to(device) for z in (z0, z1))  # (1, 100)
    y0, y1 = (torch.as_tensor(y) for y in (y0, y1))
    y0, y1 = (one_hot(y) if y.dim() == 0 else y.reshape(1, -1) for y in (y0, y1))  # (1, 10)
    z = (1 - t) * z0 + t * z1  # (S, 100)
    y = (1 - t) * y0.float().to(device) + t * y1.float().to(device)  # (S, 10)
    with evaluating(G):
        return to_unit_numpy(G(z, y))
    # END SOLUTION
