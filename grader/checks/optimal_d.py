"""Kind `optimal_d`: the student's closed-form optimal discriminator, played through the student's own V.

params: `functions = [optimal_discriminator, gan_value]` (the student's D* and V), `densities`. On two known 1-D
Gaussians the student's D* on the samples, scored through the student's gan_value, must rank above every other
discriminator (constant ½, D* with shifted or scaled logits, a discriminator trained with the reference BCE loss)
by at least half of the true margin. That ranking is the property this kind exists for (primary: failing it
costs at least half). With p_g = p_data the student's gan_value must also give V = −log 4 (a side property: it is
gan_value's own value). optimal_value() is graded by the task's `optimal_value` check alone, so a wrong constant
costs one check, not two (SPEC: a fault never costs a second check). The trained form is `trained_optimal_d`.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Any

import numpy as np
import torch

from grader import validate
from grader.checks import CheckContext, Criteria, Outcome, check_kind
from grader.checks.densities import EQUAL_WEIGHT, N_FAKE, N_REAL, N_SAME, densities, quantiles
from grader.checks.probing import explain
from grader.formulas import OPTIMAL_VALUE, bce_discriminator, evaluate, gan_value
from grader.validate import Invalid

NEWTON_STEPS = 15  # logistic regression converges quadratically: ~8 steps reach float64 precision
EXACT_TOLERANCE = 1e-4  # on V = −log 4 with p_g = p_data
RANK_WEIGHT = 2.0  # D* winning through gan_value is the property itself; V = −log 4 at p_g = p_data a share
RANK_SLACK = 1e-4  # float32 rounding of a mean over a few thousand logs
PROBABILITY_FLOOR = 1e-6  # competitors stay strictly inside (0, 1) in float32


def _reference_trained(data: NormalDist, model: NormalDist, rng: np.random.Generator) -> Any:
    """A discriminator trained with the reference BCE loss: logistic regression on (1, x, x²), which contains
    D* for two Gaussians, fitted by Newton's method on random samples (so it misses D* by sampling error only).
    Newton, not torch.optim: an optimizer's first step imports torch._dynamo, over a second on a busy CPU."""
    real = torch.from_numpy(rng.normal(data.mean, data.stdev, N_REAL))
    fake = torch.from_numpy(rng.normal(model.mean, model.stdev, N_REAL))

    def features(x: torch.Tensor) -> torch.Tensor:
        return torch.stack([torch.ones_like(x), x, x * x], dim=1)

    def loss(weights: torch.Tensor) -> torch.Tensor:
        return bce_discriminator(features(real) @ weights, features(fake) @ weights)

    weights = torch.zeros(3, dtype=torch.float64)
    for _ in range(NEWTON_STEPS):
        gradient = torch.autograd.functional.jacobian(loss, weights)
        weights = weights - torch.linalg.solve(torch.autograd.functional.hessian(loss, weights), gradient)
    return lambda x: torch.sigmoid(features(torch.from_numpy(x)) @ weights).numpy()


def _competitors(
    data: NormalDist, model: NormalDist, x_real: np.ndarray, x_fake: np.ndarray, rng: np.random.Generator
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Other discriminators as (probabilities on the real samples, on the fake samples)."""

    def logit_of_optimum(x: np.ndarray) -> np.ndarray:
        return np.array([math.log(data.pdf(v) / model.pdf(v)) for v in x])

    def clip(p: np.ndarray) -> np.ndarray:
        return np.clip(p, PROBABILITY_FLOOR, 1 - PROBABILITY_FLOOR)

    logits = logit_of_optimum(x_real), logit_of_optimum(x_fake)
    sigmoid = torch.special.expit
    variants: list[tuple[np.ndarray, np.ndarray]] = [(np.full_like(x_real, 0.5), np.full_like(x_fake, 0.5))]
    for shift, stretch in ((0.5, 1.0), (-0.5, 1.0), (0.0, 0.5), (0.0, 1.5)):
        variants.append(tuple(sigmoid(torch.from_numpy(stretch * lg + shift)).numpy() for lg in logits))
    trained = _reference_trained(data, model, rng)
    variants.append((trained(x_real), trained(x_fake)))
    return [(clip(r).astype(np.float32), clip(f).astype(np.float32)) for r, f in variants]


def _density_pair(first: NormalDist, second: NormalDist, x: np.ndarray) -> list[np.ndarray]:
    return [np.array([d.pdf(v) for v in x], dtype=np.float32) for d in (first, second)]


# What the grader passes, for the advice on a shape or dtype error.
D_STAR_INPUTS = "p_data and p_g, float32 tensors of density values of the same shape (n,)"
VALUE_INPUTS = "d_real (N,) and d_fake (M,), float32 tensors of probabilities in (0, 1), N ≠ M"


def _reply(replies: Any, index: int, function: str, inputs: str) -> dict[str, Any]:
    if not isinstance(replies, list) or index >= len(replies) or not isinstance(replies[index], dict):
        raise Invalid("the worker's answer could not be read; did your code change the grader's objects?")
    reply = replies[index]
    failed = validate.failure_of(reply.get("output"))
    if failed is not None:
        raise Invalid(explain(function, *failed, inputs))
    return reply


def _probabilities(replies: Any, index: int, n: int, function: str) -> np.ndarray:
    output = _reply(replies, index, function, D_STAR_INPUTS).get("output")
    array = validate.tensor(output, f"the result of {function}", (n,))
    if array.min() < 0 or array.max() > 1:
        raise Invalid(f"{function} returns values outside [0, 1] on positive densities")
    return array


@check_kind("optimal_d")
def optimal_d(ctx: CheckContext) -> Outcome:
    d_star, value_of = ctx.params["functions"]
    data, model = densities(ctx.params)
    x_real, x_fake, x_same = quantiles(data, N_REAL), quantiles(model, N_FAKE), quantiles(data, N_SAME)
    pairs = [_density_pair(data, model, x_real), _density_pair(data, model, x_fake)]
    pairs += [_density_pair(data, data, x_real), _density_pair(data, data, x_same)]
    calls = [{"function": d_star, "args": pair} for pair in pairs]
    first = ctx.call("call_many", module=ctx.module, calls=calls, seed=ctx.seed)
    try:
        student = [_probabilities(first, i, len(x), d_star) for i, x in enumerate((x_real, x_fake, x_real, x_same))]
    except Invalid as error:
        return Outcome(0.0, str(error))  # without the student's D* there is no game to play

    competitors = _competitors(data, model, x_real, x_fake, ctx.rng)
    games = [(student[0], student[1]), *competitors, (student[2], student[3])]
    calls = [{"function": value_of, "args": list(game)} for game in games]
    second = ctx.call("call_many", module=ctx.module, calls=calls, seed=ctx.seed)
    try:
        values = [
            validate.scalar(_reply(second, i, value_of, VALUE_INPUTS).get("output"), f"the result of {value_of}")
            for i in range(len(games))
        ]
    except Invalid as error:
        return Outcome(0.0, str(error))

    true_values = [float(evaluate(gan_value, game)[0]) for game in games]
    margins_ok = all(
        values[0] - values[k] >= (true_values[0] - true_values[k]) / 2 - RANK_SLACK
        for k in range(1, len(competitors) + 1)
    )
    if margins_ok:
        rank_problem = ""
    elif true_values[0] + RANK_SLACK < max(true_values[1:-1]):
        rank_problem = f"your {d_star} does not maximise V on two Gaussians: D*(x) = p_data(x) / (p_data(x) + p_g(x))"
    else:
        rank_problem = (
            f"your {value_of} does not rank discriminators by V: a better discriminator must get a larger "
            "mean log d_real + mean log(1 − d_fake) (check the sign and the two means)"
        )
    criteria = Criteria()
    criteria.add(RANK_WEIGHT, margins_ok, rank_problem, primary=True)
    criteria.add(
        EQUAL_WEIGHT,
        abs(values[-1] - OPTIMAL_VALUE) <= EXACT_TOLERANCE,
        f"with p_g = p_data, your {d_star} (½ everywhere) through your {value_of} should give V = −log 4 "
        "(natural logs, each mean over its own batch)",
    )
    return criteria.outcome(
        f"your D* beats every other discriminator through your {value_of}, and V = −log 4 when p_g = p_data"
    )
