"""Kind `attack`: run the student's attack (the name in the role `targeted_attack`) against the frozen classifier
in the sandbox, on inputs the grader chooses per experiment, and score the adversarial images here with the
grader's own classifier copy.

params: `classifier` (the frozen classifier's data set), `target`, `eps`, `steps` (defaults for every experiment),
`samples` (images per experiment, default `SAMPLES`; one for a constant image), `tolerance` (slack on the bounds,
default 1e-6), and `experiments`: a list of {name, source, eps, steps, zero, full, target}. `source` says what the
inputs are (`SOURCES`: "test 4s", "uniform noise in [-1, 1]", "all-black image", "all-white image"). An image
succeeds when it stays within ‖x_adv − x‖∞ ≤ eps and [-1, 1] and the classifier assigns it the target; an
experiment's success rate earns nothing at `zero`, everything at `full`, linearly between. The check's fraction
is the mean over experiments.

Severity (SPEC): the check exists for the attack's success within the bounds, so two faults are primary and
halve what the experiments earned: images that leave the eps ball or [-1, 1] (in any experiment), and an
experiment the attack ran on without earning anything (it does not reach the target). An experiment the attack
could not run at all (an exception, an unusable result, say on a batch of one image) is a side fault and costs
that experiment's share only.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from gankit.classifier import predict
from gankit.data import load_dataset
from grader.checks import CheckContext, Criteria, Outcome, check_kind, threshold_fraction
from grader.checks.probing import explain, frozen_classifier, seed_for
from grader.validate import Invalid, entry, failure_of, returned_tensor

# Images per experiment: the reference turns 189 of the 196 test 4s into 9s, and a random 40 of them fall below
# 90 % with probability 0.4 % (1.5 % for 32); every image costs attack steps in a check the static grade waits on.
SAMPLES = 40
DEFAULT_TOLERANCE = 1e-6


def _test_digits(ctx: CheckContext, digit: int, count: int) -> np.ndarray:
    images, labels = load_dataset(ctx.task.dataset, "test", size=ctx.task.image_size)
    chosen = ctx.rng.choice(np.flatnonzero(labels.numpy() == digit), count, replace=False)
    return images[np.sort(chosen)].numpy()


def _shape(ctx: CheckContext, count: int) -> tuple[int, int, int, int]:
    return (count, 1, ctx.task.image_size, ctx.task.image_size)


# (pattern of `source`, the images it names: (ctx, match, samples) → float32 (n, 1, H, W) in [-1, 1])
SOURCES: list[tuple[str, Callable[[CheckContext, re.Match[str], int], np.ndarray]]] = [
    (r"test (\d)s\b.*", lambda ctx, match, n: _test_digits(ctx, int(match.group(1)), n)),
    (r"uniform noise\b.*", lambda ctx, match, n: ctx.rng.uniform(-1.0, 1.0, _shape(ctx, n))),
    (r"all-black image\b.*", lambda ctx, match, n: np.full(_shape(ctx, 1), -1.0)),
    (r"all-white image\b.*", lambda ctx, match, n: np.full(_shape(ctx, 1), 1.0)),
]


def source_images(ctx: CheckContext, source: str, samples: int) -> np.ndarray:
    for pattern, make in SOURCES:
        match = re.fullmatch(pattern, source.strip())
        if match:
            return np.ascontiguousarray(make(ctx, match, samples), dtype=np.float32)
    raise ValueError(f"{ctx.task.id}/{ctx.check.id}: no inputs are known for the source {source!r}")


@dataclass
class Result:
    """One experiment's share earned, what happened ("test 4s: 40% became 9s"), what to fix (or None), and
    whether it shows a primary fault (see the module's docstring)."""

    fraction: float
    summary: str
    hint: str | None = None
    primary_fault: bool = False


BOUNDS_HINT = (
    "images outside ‖x_adv − x‖∞ ≤ eps or [-1, 1] count as failures: project onto the eps ball and clamp to "
    "[-1, 1] after every step"
)


def _inputs(ctx: CheckContext) -> str:
    """What the grader passes, for the advice on an exception."""
    size = ctx.task.image_size
    return (
        f"model mapping (B, 1, {size}, {size}) to logits (B, 10), x float32 (B, 1, {size}, {size}) in [-1, 1] with "
        "B from 1 up (the all-black image is a batch of one), target an int, eps a float, steps an int"
    )


def _adversarial(ctx: CheckContext, output: Any, shape: tuple[int, ...]) -> np.ndarray:
    """x_adv from the reply; `Invalid`, with advice, when the attack raised or returned something unusable."""
    what = f"{ctx.task.playing('targeted_attack').name}(model, x, target, eps, steps)"
    failed = failure_of(output)
    if failed is not None:
        raise Invalid(explain(what, *failed, _inputs(ctx)))
    return returned_tensor(output, what, shape)


def run_experiment(ctx: CheckContext, experiment: dict[str, Any], index: int) -> Result:
    params = ctx.params
    source = str(experiment["source"])
    target = int(experiment.get("target", params["target"]))
    eps = float(experiment.get("eps", params["eps"]))
    steps = int(experiment.get("steps", params["steps"]))
    tolerance = float(params.get("tolerance", DEFAULT_TOLERANCE))
    x = source_images(ctx, source, int(params.get("samples", SAMPLES)))
    reply = ctx.call(
        "attack_run",
        module=ctx.module,
        function=ctx.task.playing("targeted_attack").name,
        classifier=str(params["classifier"]),
        images=ctx.put_array(f"attack_{index}", x),
        target=target,
        eps=eps,
        steps=steps,
        seed=seed_for(ctx),
    )
    try:
        x_adv = _adversarial(ctx, entry(reply, "output"), x.shape)
    except Invalid as error:
        # A side fault: this experiment's share only. Experiments differ in batch size; written as B, one fault
        # reads as one hint, not one per experiment.
        return Result(0.0, f"{source}: no usable result", str(error).replace(f"({len(x)}, ", "(B, "))
    change = np.abs(x_adv.astype(np.float64) - x).reshape(len(x), -1).max(axis=1)
    flat = x_adv.reshape(len(x), -1)
    valid = (change <= eps + tolerance) & (flat.min(axis=1) >= -1 - tolerance) & (flat.max(axis=1) <= 1 + tolerance)
    predicted = predict(frozen_classifier(str(params["classifier"])), torch.from_numpy(x_adv.astype(np.float32)))
    rate = float((valid & (predicted.numpy() == target)).mean())
    fraction = threshold_fraction(rate, float(experiment["zero"]), float(experiment["full"]))
    summary = f"{source}: {rate:.0%} became {target}s"
    broken = int((~valid).sum())
    if broken:
        return Result(fraction, f"{summary} ({broken} of {len(x)} broke the bounds)", BOUNDS_HINT, primary_fault=True)
    if fraction < 1.0:
        hint = (
            f"step against the sign of the gradient of CE(model(x_adv), {target}) (a targeted attack descends the "
            "loss of the target class) with a step size that can reach the edge of the ball"
        )
        return Result(fraction, summary, hint, primary_fault=fraction <= 0.0)
    return Result(fraction, summary)


@check_kind("attack")
def attack(ctx: CheckContext) -> Outcome:
    """The mean of what the experiments earned, halved by a primary fault: leaving the eps ball or [-1, 1], or an
    experiment that earns nothing."""
    results = [run_experiment(ctx, experiment, i) for i, experiment in enumerate(ctx.params["experiments"])]
    fraction = float(np.mean([result.fraction for result in results]))
    if any(result.primary_fault for result in results):
        fraction *= Criteria.PRIMARY_FAILURE_FACTOR
    summaries = "; ".join(result.summary for result in results)
    hints = list(dict.fromkeys(result.hint for result in results if result.hint))
    if not hints:
        return Outcome(fraction, f"your attack reached the target often enough in every experiment ({summaries})")
    return Outcome(fraction, f"{summaries}. To fix: {'; '.join(hints)}")
