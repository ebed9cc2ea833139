"""Trusted reference formulas, by the names a `[[names]]` entry of `task.toml` gives in its `formula`.

Each formula is written once, in torch, and evaluated in float64 on the very float32 inputs the student's code
received, so the reference itself adds no rounding worth speaking of. Next to each formula: its inputs'
default names and domain (which inputs the grader may choose), whether it is elementwise, the constant factors
a fair grader accepts (the halved BCE discriminator loss), and the usual confusions with the sentence that
tells a student what they wrote instead. This module runs only on the trusted side.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from grader.worker.trusted import (
    bce_discriminator,
    minimax_generator,
    nonsaturating_generator,
    wasserstein_critic,
    wasserstein_generator,
)

Function = Callable[..., torch.Tensor]


def optimal_discriminator(p_data: torch.Tensor, p_g: torch.Tensor) -> torch.Tensor:
    return p_data / (p_data + p_g)


def gan_value(d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
    """Monte-Carlo V(D, G) from probabilities, each expectation over its own batch."""
    return torch.log(d_real).mean() + torch.log1p(-d_fake).mean()


OPTIMAL_VALUE = -math.log(4.0)


@dataclass(frozen=True)
class Confusion:
    """A formula students write instead of the asked one, and the sentence that says so."""

    function: Function
    hint: str


@dataclass(frozen=True)
class Formula:
    name: str
    function: Function
    description: str  # completes "… should be {description}"
    inputs: tuple[str, ...]
    domain: str  # "logits" | "scores" | "probabilities" | "densities": which inputs make sense
    elementwise: bool = False  # the result has the inputs' shape (else it is one number)
    scales: tuple[float, ...] = (1.0,)  # constant factors accepted in place of the formula itself
    confusions: tuple[Confusion, ...] = ()
    network: str | None = None  # "D" or "G": whose loss it is, for the train_step check; None: not a loss


def _concatenated_bce(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    return torch.cat([F.softplus(-real), F.softplus(fake)]).mean()


def _concatenated_value(d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
    return torch.cat([torch.log(d_real), torch.log1p(-d_fake)]).mean()


_OWN_BATCH = "average each term over its own batch (real and fake batches may differ in size), then add them"
_SATURATING = (
    "this is the saturating loss mean log(1 − σ(l)); the non-saturating loss is −mean log σ(l), "
    "BCE of the fake logits against target 1"
)

_FORMULAS = (
    Formula(
        "bce_discriminator",
        bce_discriminator,
        "the mean BCE of the real logits against 1 plus the mean BCE of the fake logits against 0",
        ("real_logits", "fake_logits"),
        "logits",
        scales=(1.0, 0.5),  # the average of the two terms changes nothing under Adam (SPEC)
        confusions=(
            Confusion(_concatenated_bce, f"it averages the real and fake batches together: {_OWN_BATCH}"),
            Confusion(
                lambda real, fake: F.softplus(real).mean() + F.softplus(-fake).mean(),
                "the targets are swapped: real logits go with target 1, fake logits with target 0",
            ),
        ),
        network="D",
    ),
    Formula(
        "nonsaturating_generator",
        nonsaturating_generator,
        "the non-saturating loss −mean log σ(l)",
        ("fake_logits",),
        "logits",
        confusions=(
            Confusion(minimax_generator, _SATURATING),
            Confusion(
                lambda fake: F.softplus(fake).mean(),
                "this is BCE of the fake logits against target 0 (the discriminator's view); the generator's "
                "non-saturating loss uses target 1: −mean log σ(l)",
            ),
        ),
        network="G",
    ),
    Formula(
        "minimax_generator",
        minimax_generator,
        "the minimax (saturating) loss mean log(1 − σ(l))",
        ("fake_logits",),
        "logits",
        confusions=(
            Confusion(
                nonsaturating_generator,
                "this is the non-saturating loss −mean log σ(l); the minimax loss is mean log(1 − σ(l)), whose "
                "gradient vanishes at very negative logits",
            ),
            Confusion(
                lambda fake: F.softplus(fake).mean(),
                "the sign is flipped: G minimises mean log(1 − σ(l)), which is −BCE of the fake logits against 0",
            ),
        ),
        network="G",
    ),
    Formula(
        "wasserstein_critic",
        wasserstein_critic,
        "mean score_fake − mean score_real",
        ("score_real", "score_fake"),
        "scores",
        confusions=(
            Confusion(
                lambda real, fake: real.mean() - fake.mean(),
                "the sign is flipped: the critic minimises mean score_fake − mean score_real",
            ),
            Confusion(
                lambda real, fake: torch.cat([-real, fake]).mean(),
                f"it averages the real and fake batches together: {_OWN_BATCH}",
            ),
        ),
        network="D",
    ),
    Formula(
        "wasserstein_generator",
        wasserstein_generator,
        "−mean score_fake",
        ("score_fake",),
        "scores",
        confusions=(
            Confusion(
                lambda fake: fake.mean(),
                "the sign is flipped: the generator minimises −mean score_fake (it pushes the scores up)",
            ),
        ),
        network="G",
    ),
    Formula(
        "optimal_discriminator",
        optimal_discriminator,
        "p_data / (p_data + p_g), elementwise",
        ("p_data", "p_g"),
        "densities",
        elementwise=True,
        confusions=(
            Confusion(
                lambda p_data, p_g: p_g / (p_data + p_g), "p_data and p_g are swapped: D* = p_data / (p_data + p_g)"
            ),
        ),
    ),
    Formula(
        "gan_value",
        gan_value,
        "mean log d_real + mean log(1 − d_fake)",
        ("d_real", "d_fake"),
        "probabilities",
        confusions=(
            Confusion(
                lambda d_real, d_fake: -gan_value(d_real, d_fake),
                "the sign is flipped: gan_value is V itself, mean log d_real + mean log(1 − d_fake), not the loss −V",
            ),
            Confusion(_concatenated_value, f"it averages the real and fake batches together: {_OWN_BATCH}"),
        ),
    ),
)

FORMULAS: dict[str, Formula] = {formula.name: formula for formula in _FORMULAS}


def evaluate(
    function: Function, arrays: Sequence[np.ndarray], gradient: bool = False
) -> tuple[np.ndarray, list[np.ndarray]]:
    """`function` in float64 on `arrays`: its value, and with `gradient` d(sum of it)/d(each array)."""
    inputs = [torch.from_numpy(np.asarray(array, dtype=np.float64)).requires_grad_(gradient) for array in arrays]
    output = function(*inputs)
    if not gradient:
        return output.detach().numpy(), []
    grads = torch.autograd.grad(output.sum(), inputs)
    return output.detach().numpy(), [g.numpy() for g in grads]
