"""Kind `gradient_penalty`: the WGAN-GP penalty on critics whose input gradient is known in closed form.

The worker calls the student's `penalty(critic, real, fake, y, lam=…, rng=…)` (the optional arguments its
signature accepts; one without `lam` is judged at the documented λ), with `fake` detached and again attached
to a graph, on grader-made critics that record
their inputs: linear ones, C = <w, x> + <u, y>, where the penalty is λ(‖w‖ − 1)² for any ε, and a quadratic
one, C = ½·s·‖x‖² + <u, y>, whose gradient s·x̂ differs per sample, so the value can be recomputed from the
recorded x̂. From the same records: one ε per sample on the segment real–fake, labels passed through. The
linear critic's weights give the penalty's own gradient, d/dw λ(‖w‖ − 1)², which exists only with
create_graph. Each property is a criterion of its own, so one mistake names itself; a mistake in the penalty's
own properties costs at least half of the check (primary criteria), handling only one of detached and attached
fakes costs a small share.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch

from gankit.common import NUM_CLASSES
from grader import validate
from grader.advice import with_advice
from grader.checks import CheckContext, Criteria, Outcome, check_kind
from grader.validate import Invalid

DEFAULT_LAM = 10.0  # the signature's default, which a student may have hard-coded
QUADRATIC_SCALE = 0.1  # s: ‖s·x̂‖ straddles 1 for interpolates of images in [-1, 1]
# Norm axes of the per-sample gradient (B, 1, H, W) a student may have reduced over instead of all of them.
NORM_AXES = {"all": (1, 2, 3), "channels": (1,), "width": (3,), "height": (2,)}
EPS_SPREAD = 1e-4  # float32 mixing of inputs at least 0.5 apart recovers ε to ~1e-7


@dataclass
class Case:
    name: str
    batch: int
    w_norm: float  # 0: the quadratic critic
    lam: float


def _cases(lam: float) -> list[Case]:
    return [
        Case("linear", 8, 1.6, lam),
        # ‖w‖ < 1 tells a two-sided penalty from max(0, ‖g‖ − 1)², a different λ one that ignores `lam`.
        Case("linear_small", 8, 0.5, lam / 4),
        Case("quadratic", 32, 0.0, lam),
    ]


def _inputs(ctx: CheckContext, case: Case, size: int) -> dict[str, Any]:
    rng = ctx.rng
    shape = (case.batch, 1, size, size)
    # real and fake have opposite signs and differ by at least 0.5 everywhere, so x̂ gives ε back exactly.
    sign = rng.choice([-1.0, 1.0], size=shape)
    real = sign * rng.uniform(0.25, 1.0, size=shape)
    fake = -sign * rng.uniform(0.25, 1.0, size=shape)
    w = rng.normal(size=(1, size, size))
    w = w * (case.w_norm / np.linalg.norm(w)) if case.w_norm else np.zeros_like(w)
    y = np.eye(NUM_CLASSES)[rng.integers(0, NUM_CLASSES, size=case.batch)]
    return {
        "real": real.astype(np.float32),
        "fake": fake.astype(np.float32),
        "y": y.astype(np.float32),
        "w": w.astype(np.float32),
        "u": rng.normal(size=NUM_CLASSES).astype(np.float32),
        "scale": 0.0 if case.w_norm else QUADRATIC_SCALE,
        "given": {"lam": case.lam},
    }


# Mistakes a penalty can make besides the norm's axes, each with the sentence that names it. "none" first: the
# right formula wins where a mistake gives the same number (a fixed 10 when lam is 10).
MISTAKES = {
    "none": "",
    "one_sided": "make the penalty two-sided, (‖g‖ − 1)², not max(0, ‖g‖ − 1)²",
    "fixed_lam": "multiply by the lam argument, not by a fixed 10",
    "no_lam": "multiply the mean by lam",
    "sum": "average (‖g‖ − 1)² over the batch instead of summing it",
    "squared_norm": "use the norm ‖g‖, not its square, in (‖g‖ − 1)²",
    "unsquared": "square the difference: (‖g‖ − 1)², not |‖g‖ − 1|",
}


def _formula(grads: torch.Tensor, lam: float, axes: tuple[int, ...], mistake: str) -> torch.Tensor:
    """The penalty of per-sample input gradients (B, 1, H, W), the right way or with one known mistake."""
    norms = grads.pow(2).sum(dim=axes)
    norms = norms if mistake == "squared_norm" else norms.sqrt()
    gap = norms - 1.0
    terms = {"one_sided": gap.clamp(min=0.0) ** 2, "unsquared": gap.abs()}.get(mistake, gap**2)
    factor = {"fixed_lam": DEFAULT_LAM, "no_lam": 1.0}.get(mistake, lam)
    return factor * (terms.sum() if mistake == "sum" else terms.mean())


def _close(value: float, expected: float) -> bool:
    return abs(value - expected) <= 1e-4 * max(1.0, abs(expected))


def _linear_grads(w: torch.Tensor, batch: int) -> torch.Tensor:
    return w.expand(batch, *w.shape)  # the linear critic's input gradient is w for every sample


@dataclass
class Reading:
    """One case as the parent reads it: which formula its value matches, or why the case gave nothing usable."""

    lam: float = DEFAULT_LAM  # the λ the value is judged at: the case's, or the default where lam was left out
    error: str | None = None
    value: float | None = None
    axes: str | None = None  # a key of NORM_AXES; None: the value matches no known formula
    mistake: str | None = None  # a key of MISTAKES
    x_hat: np.ndarray | None = None
    y_seen: np.ndarray | None = None
    grad_w: np.ndarray | None = None

    @property
    def known(self) -> bool:
        return self.axes is not None


def _is_tensor(described: Any, shape: tuple[int, ...]) -> bool:
    if not isinstance(described, dict) or described.get("kind") != "tensor":
        return False
    array = described.get("array")
    return isinstance(array, np.ndarray) and array.shape == shape and array.dtype.kind == "f"


def _read(result: Any, case: Case, inputs: dict[str, Any], size: int, function: str) -> Reading:
    if not isinstance(result, dict):
        raise Invalid("the gradient-penalty probe returned something unreadable")
    reading = Reading(lam=case.lam)
    shape = (case.batch, 1, size, size)
    calls = result.get("calls")
    # The interpolates are the last batch-sized input the critic saw (a student may also score real and fake).
    calls = calls if isinstance(calls, list) else []
    interpolates = [c for c in calls if isinstance(c, dict) and _is_tensor(c.get("x"), shape)]
    if interpolates:
        last = interpolates[-1]
        reading.x_hat = validate.tensor(last["x"], "the critic's input", shape)
        if _is_tensor(last.get("y"), (case.batch, NUM_CLASSES)):
            reading.y_seen = validate.tensor(last["y"], "the critic's labels", (case.batch, NUM_CLASSES))
    if "error" in result:
        reading.error = f"{function} raised {with_advice(str(result['error']))}"
        return reading
    try:
        reading.value = validate.scalar(result.get("value"), f"the value of {function}")
    except Invalid as error:
        reading.error = str(error)
        return reading
    if _is_tensor(result.get("grad_w"), (1, size, size)):
        reading.grad_w = validate.tensor(result["grad_w"], "the penalty's gradient", (1, size, size), finite=False)
    if case.w_norm:
        grads = _linear_grads(torch.from_numpy(inputs["w"]).double(), case.batch)
    elif reading.x_hat is not None:
        grads = QUADRATIC_SCALE * torch.from_numpy(reading.x_hat).double()
    else:
        return reading  # the quadratic critic never saw the interpolates: nothing to compare with
    for mistake in MISTAKES:
        for axes_name, axes in NORM_AXES.items():
            if _close(reading.value, float(_formula(grads, case.lam, axes, mistake))):
                reading.axes, reading.mistake = axes_name, mistake
                return reading
    return reading


def _eps_problem(reading: Reading, inputs: dict[str, Any]) -> str | None:
    """Why the recorded x̂ is not ε·real + (1 − ε)·fake with one ε in [0, 1] per sample, or None."""
    if reading.x_hat is None:
        return "call the critic once on the whole batch of interpolates x̂, shape (B, 1, H, W)"
    real, fake = inputs["real"].astype(np.float64), inputs["fake"].astype(np.float64)
    eps = ((reading.x_hat - fake) / (real - fake)).reshape(len(real), -1)  # (B, C·H·W)
    if (eps.max(axis=1) - eps.min(axis=1) > EPS_SPREAD).any():
        return "draw one ε per sample, shape (B, 1, 1, 1) broadcast over (C, H, W), not one per pixel"
    if eps.min() < -EPS_SPREAD or eps.max() > 1 + EPS_SPREAD:
        return "evaluate the critic at x̂ = ε·real + (1 − ε)·fake with ε ~ U[0, 1], on the segment between them"
    if len(eps) > 1 and eps.mean(axis=1).std() < 1e-3:
        return "draw a different ε for each sample, torch.rand(B, 1, 1, 1), not one for the whole batch"
    return None


def _gradient_problem(reading: Reading, case: Case, inputs: dict[str, Any]) -> str | None:
    """Why d(penalty)/dw on a linear critic is not the gradient of the formula its value matches, or None."""
    if reading.error:
        return reading.error
    if reading.grad_w is None:
        return (
            "the penalty does not reach the critic's parameters: compute the input gradient with "
            "torch.autograd.grad(..., create_graph=True) and keep the result a tensor (no .item(), no detach)"
        )
    if not np.isfinite(reading.grad_w).all():
        return "the penalty's gradient with respect to the critic's weights contains NaN or inf"
    if not reading.known:
        return None  # a value of no known formula has no known gradient; the value criteria say so
    w = torch.from_numpy(inputs["w"]).double().requires_grad_(True)
    value = _formula(_linear_grads(w, case.batch), reading.lam, NORM_AXES[reading.axes], reading.mistake)
    (expected,) = torch.autograd.grad(value, w)
    expected = expected.numpy()
    if not np.allclose(reading.grad_w, expected, rtol=1e-3, atol=1e-5 * max(np.abs(expected).max(), 1e-3)):
        return (
            "the penalty's gradient with respect to the critic's weights is not that of its value: keep the "
            "input gradient in the graph (create_graph=True) and do not detach it"
        )
    return None


LINEAR = ("linear", "linear_small")  # the cases whose value is fixed by w alone
WRONG_AXES = (
    "take the norm over all non-batch dimensions, grad.flatten(1).norm(dim=1), not over the channels or one "
    "image axis only"
)
UNKNOWN_VALUE = (
    "on a linear critic C(x, y) = <w, x> + <u, y> the penalty must be exactly λ·(‖w‖ − 1)² for any ε: "
    "take the gradient of critic(x̂, y).sum() with respect to x̂, its norm over all non-batch dimensions, "
    "the two-sided (‖g‖ − 1)², the mean over the batch and the factor lam"
)


def _read_modes(
    result: Any, case: Case, inputs: dict[str, Any], size: int, function: str, default_lam: float
) -> tuple[Reading, Reading]:
    """The case read with `fake` detached and attached; a penalty without `lam` is judged at its default."""
    if not isinstance(result, dict):
        raise Invalid("the gradient-penalty probe returned something unreadable")
    readings = []
    for mode in ("detached", "attached"):
        reply = result.get(mode)
        dropped = reply.get("dropped") if isinstance(reply, dict) else None
        lam_dropped = isinstance(dropped, list) and "lam" in dropped
        readings.append(_read(reply, replace(case, lam=default_lam) if lam_dropped else case, inputs, size, function))
    return readings[0], readings[1]


@check_kind("gradient_penalty")
def gradient_penalty(ctx: CheckContext) -> Outcome:
    """Primary: the value on each critic (the formula, its norm's axes, the gradient taken at the interpolates),
    one ε per sample on the segment, the gradient reaching the critic's weights, the labels passed through.
    Side: the same result whether `fake` arrives detached or attached to G's graph."""
    function = ctx.params.get("function", "get_gradient_regularisation")
    lam = float(ctx.params.get("lam", DEFAULT_LAM))
    default_lam = float(dict(ctx.task.optional_parameters(function)).get("lam", DEFAULT_LAM))
    size = ctx.task.image_size
    cases = {case.name: case for case in _cases(lam)}
    inputs = {name: _inputs(ctx, case, size) for name, case in cases.items()}
    results = ctx.call(
        "gradient_penalty",
        module=ctx.module,
        function=function,
        cases=list(inputs.values()),
        optional=ctx.task.optional_parameters(function),
    )
    if not isinstance(results, list) or len(results) != len(cases):
        raise Invalid("the gradient-penalty probe returned something unreadable")
    modes = {
        name: _read_modes(result, cases[name], inputs[name], size, function, default_lam)
        for name, result in zip(cases, results, strict=True)
    }
    # The math is judged on fakes as train_step detaches them, or attached where only that works: which of the
    # two a penalty handles is its own side criterion.
    readings = {name: detached if detached.error is None else attached for name, (detached, attached) in modes.items()}
    ran = {name: reading for name, reading in readings.items() if reading.error is None}
    first_error = next((r.error for r in readings.values() if r.error), None)
    linear = [readings[name] for name in LINEAR]
    valued = [*linear, readings["quadratic"]]
    criteria = Criteria()

    # Each part of the formula is judged on its own: a wrong norm axis does not also cost the "mean times λ"
    # share, and a sum instead of a mean does not also cost the norm's.
    linear_error = next((r.error for r in linear if r.error), None)
    mistake = next((MISTAKES[r.mistake] for r in linear if r.mistake not in (None, "none")), None)
    criteria.add(
        1.0,
        all(r.known and r.mistake == "none" for r in linear),
        linear_error or mistake or UNKNOWN_VALUE,
        primary=True,
    )
    criteria.add(
        1.0,
        any(r.known for r in valued) and all(r.axes in (None, "all") for r in valued),
        linear_error or (WRONG_AXES if any(r.known for r in valued) else UNKNOWN_VALUE),
        primary=True,
    )
    quadratic = readings["quadratic"]
    criteria.add(
        1.0,
        quadratic.known and quadratic.mistake in {"none", *(r.mistake for r in linear)},
        quadratic.error
        or "on a critic whose gradient changes with x the penalty is wrong: take the gradient of "
        "critic(x̂, y).sum() with respect to x̂ itself, at the interpolates",
        primary=True,
    )
    eps_problems = [_eps_problem(r, inputs[name]) for name, r in ran.items()]
    eps_problem = next((problem for problem in eps_problems if problem), None) if ran else first_error
    criteria.add(1.0, eps_problem is None, eps_problem or "", primary=True)
    gradient_problems = [_gradient_problem(readings[name], cases[name], inputs[name]) for name in LINEAR]
    gradient_problem = next((problem for problem in gradient_problems if problem), None)
    criteria.add(1.0, gradient_problem is None, gradient_problem or "", primary=True)
    labels_ok = bool(ran) and all(
        r.y_seen is not None and np.allclose(r.y_seen, inputs[name]["y"], atol=1e-6) for name, r in ran.items()
    )
    criteria.add(
        0.5,
        labels_ok,
        first_error if not ran else "pass the labels through: call critic(x_hat, y) with the y you were given",
        primary=True,
    )
    both = [(detached, attached) for detached, attached in modes.values()]
    mode_error = next((r.error for pair in both for r in pair if r.error), None)
    criteria.add(
        0.5,
        all(d.error is None and a.error is None and (d.axes, d.mistake) == (a.axes, a.mistake) for d, a in both),
        (mode_error if mode_error and ran else None)
        or "the penalty must give the same result whether fake is detached or still attached to G's graph: "
        "detach real and fake before mixing them, then x_hat.requires_grad_(True)",
    )
    return criteria.outcome(
        "the gradient penalty is exact, one ε per sample, norm over all non-batch dimensions, "
        "differentiable w.r.t. the critic's weights, labels passed through"
    )
