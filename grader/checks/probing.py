"""How checks probe a student's code: where a loss is probed, and how a probe that raised is told to the student.

Where (SPEC, conventions that decide a grade: "no probe at exactly logit 0"). Every standard formulation of
softplus and BCE is differentiable away from logit 0, but at exactly 0 autograd gives some of them a wrong slope:
`max(x, 0) − x·t + log1p(e^−|x|)` a one-sided one (relu, clamp and abs have slope 0 there), and
`torch.where(x > 0, x, 0) + log1p(e^−|x|)` none at all, so a table of logits started at 0 never moves. Probes
therefore never put a logit at 0, nor make 0 the point an experiment must settle on: `logits_away_from_zero`
draws logits that keep `MIN_LOGIT_MAGNITUDE` from 0 (both signs), `away_from_zero` says whether fixed ones do.

How: `explain` says what a student's exception is about: the inputs the grader passed (so a shape error
names the shapes expected), the advice for the common exceptions, then the start of the exception's text.

Seeded: `seed_for` draws the seed a probe runs under from the check's own generator, so a re-grade probes alike.
Judged: `frozen_classifier` is the grader's own copy of a frozen classifier, for the kinds that classify what the
student's code returned (attack, generated_accuracy).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import numpy as np
import torch

from gankit.classifier import load_frozen_classifier
from grader.advice import with_advice

if TYPE_CHECKING:
    from grader.checks import CheckContext

# Far above float32's smallest normal number and far below the logits a network produces, so a logit this far
# from 0 stays off 0 in float32 and the slope there is the slope of the smooth function.
MIN_LOGIT_MAGNITUDE = 1e-4
QUOTED_CHARS = 120  # of the exception's own text, after the advice


def logits_away_from_zero(
    rng: np.random.Generator, shape: int | tuple[int, ...], smallest: float = MIN_LOGIT_MAGNITUDE, largest: float = 1.0
) -> np.ndarray:
    """float32 logits of `shape`: |logit| uniform in [smallest, largest], each sign equally likely, never 0."""
    if not MIN_LOGIT_MAGNITUDE <= smallest <= largest:
        raise ValueError(f"logits must keep {MIN_LOGIT_MAGNITUDE} from 0: got [{smallest}, {largest}]")
    magnitudes = rng.uniform(smallest, largest, shape)
    return (rng.choice((-1.0, 1.0), size=shape) * magnitudes).astype(np.float32)


def away_from_zero(logits: np.ndarray | float) -> bool:
    """Whether every logit keeps `MIN_LOGIT_MAGNITUDE` from 0 (for inputs written out by hand)."""
    return bool(np.all(np.abs(np.asarray(logits, dtype=np.float32)) >= np.float32(MIN_LOGIT_MAGNITUDE)))


def explain(what: str, kind: str, message: str, inputs: str) -> str:
    """What a student's exception tells the student: what raised, on which `inputs` (the shapes and dtypes a shape,
    dtype or signature error is about), the advice of `grader.advice` where one fits, and the exception's own
    text, shortened."""
    said = with_advice(" ".join(str(message).split()), QUOTED_CHARS)
    return f"{what} raised {kind[:80]} when called with {inputs}: {said}"


@functools.lru_cache(maxsize=4)
def frozen_classifier(dataset: str) -> torch.nn.Module:
    """The grader's own copy of the frozen classifier (the worker loads its own: nothing is shared)."""
    model, _ = load_frozen_classifier(dataset, "cpu")
    return model


def seed_for(ctx: CheckContext) -> int:
    """The seed of one probe (the worker seeds torch, numpy and random with it), drawn from the check's inputs."""
    return int(ctx.rng.integers(2**31 - 1))
