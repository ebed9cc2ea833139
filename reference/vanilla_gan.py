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
        # BEGIN SOLUTION
        # BatchNorm keeps the hidden activations of G well scaled, which speeds up the early steps.
        self.net = nn.Sequential(
            nn.Linear(latent_dim, hidden),
            nn.BatchNorm1d(hidden),
            nn.LeakyReLU(0.2),
            nn.Linear(hidden, 2 * hidden),
            nn.BatchNorm1d(2 * hidden),
            nn.LeakyReLU(0.2),
            nn.Linear(2 * hidden, IMAGE_PIXELS),
            nn.Tanh(),
        )
        # END SOLUTION

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        # BEGIN SOLUTION
        return self.net(z).view(-1, *IMAGE_SHAPE)  # (B, 1, 28, 28)
        # END SOLUTION


class Discriminator(nn.Module):
    """D(x): images (B, 1, 28, 28) in [-1, 1] → logits (B,), an MLP; the probability "real" is σ(logit).

    Dropout, as in Goodfellow et al., keeps D from memorising the real batch and overpowering G early.
    """

    def __init__(self, hidden: int = 256) -> None:
        super().__init__()
        # BEGIN SOLUTION
        self.net = nn.Sequential(
            nn.Flatten(),  # (B, 784)
            nn.Linear(IMAGE_PIXELS, 2 * hidden),
            nn.LeakyReLU(0.2),
            nn.Dropout(0.3),
            nn.Linear(2 * hidden, hidden),
            nn.LeakyReLU(0.2),
            nn.Dropout(0.3),
            nn.Linear(hidden, 1),  # (B, 1)
        )
        # END SOLUTION

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # BEGIN SOLUTION
        return self.net(x).squeeze(1)  # (B,)
        # END SOLUTION


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """Mean BCE of the real batch against 1 plus mean BCE of the fake batch against 0 (log 4 at logit 0).

    This is −[mean log D(x) + mean log(1 − D(G(z)))]: minimising it is D ascending V(D, G).
    """
    # BEGIN SOLUTION
    real_term = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
    return real_term + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
    # END SOLUTION


def generator_loss_minimax(fake_logits: torch.Tensor) -> torch.Tensor:
    """Saturating loss of the original game, mean log(1 − D(G(z))) = −mean softplus(l) (−log 2 at logit 0).

    G minimises it; its gradient σ(l) vanishes when D confidently rejects the fakes (l → −∞).
    """
    # BEGIN SOLUTION
    return -F.softplus(fake_logits).mean()
    # END SOLUTION


def generator_loss_nonsaturating(fake_logits: torch.Tensor) -> torch.Tensor:
    """Non-saturating ("logistic") loss −mean log D(G(z)) = mean softplus(−l) (log 2 at logit 0).

    Same fixed point as the minimax loss, but its gradient stays near −1 per sample while D rejects the fakes.
    """
    # BEGIN SOLUTION
    return F.softplus(-fake_logits).mean()
    # END SOLUTION


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
    # BEGIN SOLUTION
    ############################
    # (1) Update D k times: ascend mean log D(x) + mean log(1 − D(G(z))), one real batch per update
    ############################
    for real in real_batches:
        fake = G(sample_latent(len(real), real.device, rng)).detach()  # (m, 1, 28, 28), no path back into G
        real_logits, fake_logits = D(real), D(fake)  # (m,), (m,)
        loss_D = discriminator_loss(real_logits, fake_logits)
        opt_D.zero_grad()
        loss_D.backward()
        opt_D.step()

    ############################
    # (2) Update G once: descend generator_loss(D(G(z))) on fresh noise
    ############################
    m, device = len(real_batches[-1]), real_batches[-1].device
    loss_G = generator_loss(D(G(sample_latent(m, device, rng))))
    opt_G.zero_grad()
    loss_G.backward()  # also fills D's .grad, which opt_D never steps on: the next D update zeroes it first
    opt_G.step()

    return {
        "loss_D": loss_D.item(),
        "loss_G": loss_G.item(),
        "d_acc_real": (real_logits > 0).float().mean().item(),
        "d_acc_fake": (fake_logits < 0).float().mean().item(),
    }
    # END SOLUTION
