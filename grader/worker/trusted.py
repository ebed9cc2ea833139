"""The task's trusted losses, penalty and clipping, written once for both sides of the sandbox.

The parent compares a student's losses with them (`grader.formulas`); the worker puts them in place of the
student's module-level names while it traces `train_step`, so that a step is judged by what it does with
the losses (which network each update moves, in which direction) and a wrong loss costs only its own check.
Nothing here is secret: it is the math the statements print.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F

DEFAULT_LAM = 10.0
DEFAULT_CLIP = 0.01


def bce_discriminator(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """Mean BCE of the real batch against 1 plus mean BCE of the fake batch against 0, each over its own batch."""
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def nonsaturating_generator(fake_logits: torch.Tensor) -> torch.Tensor:
    """−mean log σ(l) = mean softplus(−l): BCE of the fakes against 1."""
    return F.softplus(-fake_logits).mean()


def minimax_generator(fake_logits: torch.Tensor) -> torch.Tensor:
    """mean log(1 − σ(l)) = −mean softplus(l): the saturating loss of the original game."""
    return -F.softplus(fake_logits).mean()


def wasserstein_critic(score_real: torch.Tensor, score_fake: torch.Tensor) -> torch.Tensor:
    return score_fake.mean() - score_real.mean()


def wasserstein_generator(score_fake: torch.Tensor) -> torch.Tensor:
    return -score_fake.mean()


def gradient_penalty(
    critic: nn.Module,
    real: torch.Tensor,
    fake: torch.Tensor,
    y: torch.Tensor | None = None,
    lam: float = DEFAULT_LAM,
    rng: torch.Generator | None = None,
) -> torch.Tensor:
    """λ · mean over the batch of (‖∇ C(x̂, y)‖₂ − 1)², x̂ = ε·real + (1 − ε)·fake, one ε ~ U[0, 1] per sample."""
    eps = torch.rand(len(real), *([1] * (real.dim() - 1)), generator=rng, device=real.device)
    x_hat = (eps * real.detach() + (1 - eps) * fake.detach()).requires_grad_(True)
    scores = critic(x_hat) if y is None else critic(x_hat, y)
    (grads,) = torch.autograd.grad(scores.sum(), x_hat, create_graph=True)
    return lam * ((grads.flatten(1).norm(dim=1) - 1) ** 2).mean()


def clip_weights(critic: nn.Module, c: float = DEFAULT_CLIP) -> None:
    with torch.no_grad():
        for parameter in critic.parameters():
            parameter.clamp_(-c, c)


# By the formula names task.toml gives (and the roles of the penalty and the clipping helper): what the
# train_step probe substitutes for the student's functions.
SUBSTITUTES: dict[str, Callable[..., Any]] = {
    "bce_discriminator": bce_discriminator,
    "nonsaturating_generator": nonsaturating_generator,
    "minimax_generator": minimax_generator,
    "wasserstein_critic": wasserstein_critic,
    "wasserstein_generator": wasserstein_generator,
    "gradient_penalty": gradient_penalty,
    "clip_weights": clip_weights,
}
