"""Kind `loss_formula`: a student's loss (or elementwise formula) against the trusted one in `grader.formulas`.

Inputs: ordinary ones drawn by hypothesis (derandomised, so every grade sees the same ones) plus explicit
extreme ones (logits of ±100, probabilities near 0 and 1, densities near 0), real and fake batches of
different sizes, never a logit at exactly 0 (SPEC: gradients are compared only where every standard
formulation is differentiable). All calls of a check travel in one `call_many` round trip, as float32 arrays,
what networks produce. Values and gradients are compared with float32 tolerances, after one constant factor
the formula accepts (the halved BCE discriminator loss) is chosen on the ordinary inputs and then required on
all of them: a factor ½ on some inputs only is no accepted formulation.

params: `function` (a name, or a list checked in one check with shared points; each compared with the formula its
`[[names]]` entry names),
`inputs` (the argument names, for messages), `gradient` (default: yes for losses, no for elementwise
formulas), `different_sizes` (default: yes; real and fake batches of different lengths).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# Hypothesis runs every installed package's plugin at its first example; trio's registers a random module (most
# of a second) and what other packages' plugins do is not the grader's to decide: the examples depend on nothing
# but the seed.
os.environ.setdefault("HYPOTHESIS_NO_PLUGINS", "1")
import hypothesis  # noqa: E402 - after the setting above
import numpy as np
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra.numpy import arrays  # noqa: E402

from gankit.catalogue import Task
from grader import validate
from grader.advice import with_advice
from grader.checks import CheckContext, Criteria, Outcome, check_kind
from grader.checks.probing import away_from_zero
from grader.formulas import FORMULAS, Formula, evaluate
from grader.validate import Invalid

RTOL = 1e-4
ATOL = 1e-4
ORDINARY_EXAMPLES = 25
MAX_BATCH = 12
# Criterion weights: what a loss that trains well needs most (right values and gradients on the logits a
# network produces) weighs most and is primary (a fault there costs at least half of the check); extremes and
# the graph are side properties that cost their share, so one fault never costs all.
# "graph": the result is a tensor (for a loss: one number that keeps its autograd graph).
WEIGHTS = {"graph": 1.0, "values": 2.0, "extreme_values": 1.0, "gradients": 1.5, "extreme_gradients": 0.5}


@dataclass(frozen=True)
class Domain:
    """Which inputs a formula's arguments can take, and how to talk about them."""

    low: float
    high: float
    ordinary: str  # "on {ordinary}"
    extreme: str  # "at {extreme}"
    fix: str  # what to do when the extremes fail
    extremes: dict[int, tuple[tuple[Any, ...], ...]]  # by number of arguments


DOMAINS = {
    "logits": Domain(
        -6.0,
        6.0,
        "ordinary logits",
        "logits of ±100",
        "work on the logits with softplus, F.logsigmoid or binary_cross_entropy_with_logits, not log(sigmoid(·)) "
        "or BCELoss(sigmoid(·))",
        {
            1: (([100.0],), ([-100.0],), ([100.0, -100.0, 1.5],), ([-100.0, -50.0, -30.0, 20.0, 60.0, 100.0],)),
            2: (
                ([100.0, -100.0, 2.5], [-100.0, 100.0]),
                ([-100.0], [100.0, 100.0, -3.0, 50.0]),
                ([30.0, -50.0, 100.0, -100.0, 7.0], [-30.0, 60.0, -100.0]),
            ),
        },
    ),
    "scores": Domain(
        -20.0,
        20.0,
        "ordinary scores",
        "large scores (±100 to ±1000)",
        "use the raw scores as they are, without sigmoid, clamping or normalising",
        {
            1: (([100.0],), ([-100.0, 1000.0, -1000.0, 3.0],)),
            2: (([100.0, -100.0, 1000.0], [-1000.0, 5.0]), ([-1000.0], [100.0, -100.0, 1000.0, 2.0])),
        },
    ),
    "probabilities": Domain(
        0.01,
        0.99,
        "probabilities in (0, 1)",
        "probabilities near 0 and 1",
        "use log(d) and log(1 − d) (or log1p(−d)) without clamping",
        {2: (([1e-3, 0.999, 0.5], [0.999, 1e-3]), ([0.999], [1e-3, 1e-3, 0.2, 0.999]))},
    ),
    "densities": Domain(
        0.01,
        10.0,
        "positive density values",
        "density values near 0",
        "divide p_data by p_data + p_g as it is, without adding an eps or clamping",
        {
            2: (
                ([1e-30, 1e-30, 2.0, 0.0], [1e-30, 3.0, 1e-30, 1.5]),
                ([[1e-20, 4.0], [0.5, 2.0]], [[1e-20, 0.0], [1e-25, 1e-20]]),
            )
        },
    ),
}
# Real and fake batches whose lengths differ a lot, as fractions of a domain's ordinary range (never its
# middle, logit 0): averaging the two batches together is then visibly wrong.
UNEQUAL_BATCHES = ((0.3, 0.85), (0.05, 0.15, 0.25, 0.4, 0.55, 0.65, 0.7, 0.9, 0.95))


@dataclass(frozen=True)
class Example:
    arrays: tuple[np.ndarray, ...]
    extreme: bool


def _collect(strategy: st.SearchStrategy[Any], count: int) -> list[Any]:
    """`count` examples of `strategy`, the same ones on every run (no database, derandomised)."""
    found: list[Any] = []

    @hypothesis.settings(
        derandomize=True,
        database=None,
        max_examples=count,
        deadline=None,
        phases=[hypothesis.Phase.generate],
        suppress_health_check=list(hypothesis.HealthCheck),
    )
    @hypothesis.given(strategy)
    def collect(example: Any) -> None:
        found.append(example)

    collect()
    return found


@functools.cache
def examples(domain_name: str, arity: int, elementwise: bool, different_sizes: bool) -> tuple[Example, ...]:
    """The inputs for a formula of `arity` arguments over `domain_name` (cached: the same for every grade)."""
    domain = DOMAINS[domain_name]
    if arity not in domain.extremes:
        raise ValueError(f"no inputs for {arity} argument(s) of {domain_name}")
    elements = st.floats(float(np.float32(domain.low)), float(np.float32(domain.high)), width=32)
    if domain.low < 0:
        # No probe at or next to logit 0, where some correct formulations have a one-sided slope (SPEC).
        elements = elements.filter(away_from_zero)
    if elementwise:
        shapes = st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple)
        strategy = shapes.flatmap(lambda shape: st.tuples(*[arrays(np.float32, shape, elements=elements)] * arity))
    elif different_sizes:
        strategy = st.tuples(*[arrays(np.float32, st.integers(1, MAX_BATCH), elements=elements)] * arity)
    else:
        strategy = st.integers(1, MAX_BATCH).flatmap(
            lambda n: st.tuples(*[arrays(np.float32, n, elements=elements)] * arity)
        )
    ordinary = [Example(tuple(drawn), False) for drawn in _collect(strategy, ORDINARY_EXAMPLES)]
    if arity == 2 and different_sizes and not elementwise:
        batches = (domain.low + (domain.high - domain.low) * np.array(batch) for batch in UNEQUAL_BATCHES)
        ordinary.append(Example(tuple(batch.astype(np.float32) for batch in batches), False))
    extreme = [Example(tuple(np.array(a, dtype=np.float32) for a in args), True) for args in domain.extremes[arity]]
    return tuple(ordinary + extreme)


@dataclass
class Reading:
    """What one call returned, read by the trusted side: a value or why there is none, and the gradients."""

    value: np.ndarray | None = None
    problem: str = ""
    nonfinite: bool = False
    graph_problem: str = ""
    grads: list[np.ndarray] | None = None
    grad_problem: str = ""


@dataclass(frozen=True)
class Plan:
    """One student function checked against one formula."""

    function: str
    formula: Formula
    names: tuple[str, ...]
    gradient: bool
    examples: tuple[Example, ...]


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def _plans(task: Task, params: dict[str, Any]) -> list[Plan]:
    functions = _as_list(params["function"])
    plans = []
    for function in functions:
        formula_name = task.named(function).formula
        if formula_name is None:
            raise ValueError(f"{task.id}: {function} names no formula in task.toml, so loss_formula cannot check it")
        formula = FORMULAS[formula_name]
        names = tuple(params["inputs"]) if "inputs" in params and len(functions) == 1 else formula.inputs
        if len(names) != len(formula.inputs):
            raise ValueError(f"loss_formula: {formula_name} takes {len(formula.inputs)} inputs, not {len(names)}")
        gradient = bool(params.get("gradient", not formula.elementwise))
        different_sizes = bool(params.get("different_sizes", True))
        inputs = examples(formula.domain, len(names), formula.elementwise, different_sizes)
        plans.append(Plan(function, formula, names, gradient, inputs))
    return plans


def _nonfinite(described: Any) -> bool:
    if not isinstance(described, dict):
        return False
    array = described.get("array", described.get("value"))
    if isinstance(array, float | int):
        return not np.isfinite(array)
    return isinstance(array, np.ndarray) and array.dtype.kind == "f" and not np.isfinite(array).all()


def _read(reply: Any, plan: Plan, example: Example) -> Reading:
    function = plan.function
    if not isinstance(reply, dict):
        message = f"what {function} returned could not be read"
        return Reading(problem=message, graph_problem=message, grad_problem=message)
    failed = validate.failure_of(reply.get("output"))
    if failed is not None:
        message = f"{function} raised {failed[0]}: {with_advice(failed[1], validate.MESSAGE_CHARS)}"
        return Reading(problem=message, graph_problem=message, grad_problem=message)
    reading = Reading()
    output, what = reply.get("output"), f"the result of {function}"
    try:
        if plan.formula.elementwise:
            reading.value = validate.tensor(output, what, shape=example.arrays[0].shape)
        else:
            reading.value = np.asarray(validate.scalar(output, what, allow_number=True))
    except Invalid as error:
        reading.problem, reading.nonfinite = str(error), _nonfinite(output)
    reading.graph_problem = _graph_problem(output, plan)
    if reading.problem and reading.graph_problem:
        reading.problem = reading.graph_problem  # the same fault, said once
    if plan.gradient:
        reading.grads, reading.grad_problem = _read_grads(reply.get("grads"), plan, example)
    return reading


def _graph_problem(output: Any, plan: Plan) -> str:
    """Why the result is not what a loss must be (a one-number tensor with its graph); '' when it is."""
    function = plan.function
    try:
        array = validate.tensor(output, f"{function}'s result", finite=False)
    except Invalid as error:
        return f"{error}: return the torch tensor itself (no .item(), numpy or float())"
    if plan.formula.elementwise:
        return ""
    if array.size != 1:
        return f"{function} must return one number (a 0-d tensor), but it returns several: average over the batch"
    if plan.gradient and output.get("has_graph") is not True:
        return (
            f"{function}'s result has no autograd graph: compute it with torch operations on its inputs, "
            "without .item(), .detach(), numpy or torch.no_grad()"
        )
    return ""


def _read_grads(grads: Any, plan: Plan, example: Example) -> tuple[list[np.ndarray] | None, str]:
    if not isinstance(grads, list) or len(grads) != len(example.arrays):
        return None, f"no gradient flows through {plan.function}: it must return a tensor that keeps its graph"
    read = []
    for described, name, array in zip(grads, plan.names, example.arrays, strict=True):
        if isinstance(described, dict) and described.get("kind") == "none":
            return None, f"{plan.function}'s result does not depend on {name} through autograd"
        try:
            read.append(validate.tensor(described, f"the gradient w.r.t. {name}", shape=array.shape, finite=False))
        except Invalid as error:
            return None, str(error)
    return read, ""


def _value_close(student: np.ndarray, reference: np.ndarray, example: Example, domain: str) -> bool:
    # A loss over inputs of size ~100 carries float32 rounding of ~1e-5 even when it is small after cancelling.
    scale = max([1.0] + [float(np.abs(a).max()) for a in example.arrays]) if domain in ("logits", "scores") else 1.0
    with np.errstate(invalid="ignore", over="ignore"):
        return bool(np.all(np.abs(student - reference) <= RTOL * np.abs(reference) + ATOL * scale))


def _grads_close(student: list[np.ndarray], reference: list[np.ndarray]) -> bool:
    # A mean over n elements gives gradients of size ~1/n: the absolute tolerance follows that.
    with np.errstate(invalid="ignore", over="ignore"):
        return all(
            bool(np.all(np.abs(s - r) <= RTOL * np.abs(r) + ATOL / max(1, r.size)))
            for s, r in zip(student, reference, strict=True)
        )


def _score(plan: Plan, replies: list[Any], criteria: Criteria) -> None:
    formula, function, domain = plan.formula, plan.function, DOMAINS[plan.formula.domain]
    readings = [_read(reply, plan, example) for reply, example in zip(replies, plan.examples, strict=True)]
    references = [evaluate(formula.function, example.arrays, plan.gradient) for example in plan.examples]
    ordinary = [i for i, example in enumerate(plan.examples) if not example.extreme]
    extreme = [i for i, example in enumerate(plan.examples) if example.extreme]

    def agree(indices: list[int], values: dict[int, np.ndarray], scale: float) -> int:
        """How many of `indices` gave a value equal to `scale` times the one in `values`."""
        return sum(
            readings[i].value is not None
            and _value_close(readings[i].value, scale * values[i], plan.examples[i], formula.domain)
            for i in indices
        )

    reference_values = {i: reference[0] for i, reference in enumerate(references)}
    # The factor is chosen on the ordinary inputs and then required everywhere: ½ on some inputs only fails.
    scale = max(formula.scales, key=lambda s: agree(ordinary, reference_values, s))

    def grads_match(i: int) -> bool:
        grads = readings[i].grads
        return grads is not None and _grads_close(grads, [scale * g for g in references[i][1]])

    graph_problem = next((readings[i].graph_problem for i in ordinary + extreme if readings[i].graph_problem), "")
    criteria.add(WEIGHTS["graph"], not graph_problem, graph_problem)

    values_ok = agree(ordinary, reference_values, scale) == len(ordinary)
    values_failure = ""
    if not values_ok:
        values_failure = next((readings[i].problem for i in ordinary if readings[i].problem), "") or _diagnosis(
            plan, ordinary, agree
        )
    criteria.add(WEIGHTS["values"], values_ok, values_failure, primary=True)

    extreme_ok = agree(extreme, reference_values, scale) == len(extreme)
    # One fault, one sentence: a wrong formula is wrong at the extremes too, and a lost graph loses gradients.
    raised = next((readings[i].problem for i in extreme if readings[i].problem and not readings[i].nonfinite), "")
    if values_failure:
        extreme_failure = values_failure
    elif any(readings[i].nonfinite for i in extreme):
        extreme_failure = f"{function} gives inf or NaN at {domain.extreme}: {domain.fix}"
    else:
        extreme_failure = raised or f"{function} is wrong at {domain.extreme}: {domain.fix}"
    criteria.add(WEIGHTS["extreme_values"], extreme_ok, extreme_failure)

    if not plan.gradient:
        return
    grad_problem = next((readings[i].grad_problem for i in ordinary if readings[i].grad_problem), "")
    grads_failure = (
        values_failure
        or graph_problem
        or grad_problem
        or f"{function} has the right values but the wrong gradient: do not detach, clamp or round inside it"
    )
    criteria.add(WEIGHTS["gradients"], all(grads_match(i) for i in ordinary), grads_failure, primary=True)
    extreme_grads_failure = (
        (extreme_failure if not extreme_ok else "")
        or graph_problem
        or f"the gradient of {function} is wrong or not finite at {domain.extreme}: {domain.fix}"
    )
    criteria.add(WEIGHTS["extreme_gradients"], all(grads_match(i) for i in extreme), extreme_grads_failure)


def _diagnosis(plan: Plan, ordinary: list[int], agree: Callable[[list[int], dict[int, np.ndarray], float], int]) -> str:
    """The sentence for wrong values: a known confusion when the values follow one, else the formula asked."""
    for confusion in plan.formula.confusions:
        values = {i: evaluate(confusion.function, plan.examples[i].arrays)[0] for i in ordinary}
        if any(agree(ordinary, values, scale) == len(ordinary) for scale in plan.formula.scales):
            return f"{plan.function}: {confusion.hint}"
    return f"{plan.function} should be {plan.formula.description} on {DOMAINS[plan.formula.domain].ordinary}"


@check_kind("loss_formula")
def loss_formula(ctx: CheckContext) -> Outcome:
    plans = _plans(ctx.task, ctx.params)
    calls = [
        {"function": plan.function, "args": list(example.arrays), "grad": plan.gradient}
        for plan in plans
        for example in plan.examples
    ]
    replies = ctx.call("call_many", module=ctx.module, calls=calls, seed=ctx.seed)
    if not isinstance(replies, list) or len(replies) != len(calls):
        raise Invalid("the worker's answer could not be read; did your code change the grader's objects?")
    criteria, start, successes = Criteria(), 0, []
    for plan in plans:
        _score(plan, replies[start : start + len(plan.examples)], criteria)
        start += len(plan.examples)
        what = "in value and gradient" if plan.gradient else "in value"
        successes.append(f"{plan.function} matches {plan.formula.description} {what}, extreme inputs included")
    return criteria.outcome("; ".join(successes))
