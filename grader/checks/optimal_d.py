"""Kind `optimal_d`: the optimal-discriminator property on two known 1-D Gaussians.

Two forms, by params:
- `functions = [optimal_discriminator, gan_value, optimal_value]` (task optimal_d): the student's D* on the
  samples, scored through the student's gan_value, must rank above every other discriminator (constant ½,
  D* with shifted or scaled logits, a discriminator trained with the reference BCE loss) by at least half of
  the true margin; with p_g = p_data their V must be −log 4, and optimal_value() must say so.
- `function = discriminator_loss` (task vanilla_gan): a per-bin logit table is trained with the student's
  loss (probe `fit_logit_table`); its optimum is D = p_data / (p_data + p_g) per bin, computed here from the
  bin counts, and with p_g = p_data the trained D gives V = −log 4.

Samples are quantiles of the Gaussians rather than random draws: their means are close to the expectations,
so a D* that is right is never beaten by chance, and every grade sees the same inputs. Real and fake sample
counts differ, so a loss that averages the two batches together lands somewhere else.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Any

import numpy as np
import torch

from grader import validate
from grader.checks import CheckContext, Criteria, Outcome, check_kind
from grader.formulas import OPTIMAL_VALUE, bce_discriminator, evaluate, gan_value
from grader.validate import Invalid

DENSITIES = {"two gaussians": (NormalDist(0.0, 1.0), NormalDist(1.5, 0.75))}
N_REAL, N_FAKE = 2400, 800
BIN_EDGES = np.linspace(-2.0, 3.0, 11)  # plus one open bin on each side, so every sample has a bin
FIT_STEPS, FIT_LR = 300, 0.2
NEWTON_STEPS = 15  # logistic regression converges quadratically: ~8 steps reach float64 precision
D_TOLERANCE = 0.02  # the trained table reaches its optimum within ~1e-4; sampling puts it ~3e-3 off the truth
VALUE_TOLERANCE = 0.01  # V of a trained table; a closed-form V or optimal_value() must match to EXACT_TOLERANCE
EXACT_TOLERANCE = 1e-4
# The closed-form check: D* winning through gan_value is the property itself; V = −log 4 at p_g = p_data and
# optimal_value() each get a share.
RANK_WEIGHT, EQUAL_WEIGHT, VALUE_WEIGHT = 2.0, 1.0, 1.0
# The trained check: landing on D* with p_g ≠ p_data says more than landing on ½ with p_g = p_data.
OPTIMUM_WEIGHT = 1.5
RANK_SLACK = 1e-4  # float32 rounding of a mean over a few thousand logs
PROBABILITY_FLOOR = 1e-6  # competitors stay strictly inside (0, 1) in float32


def _quantiles(density: NormalDist, n: int) -> np.ndarray:
    """n points whose empirical distribution is `density` up to 1/n: the midpoints of n equal-mass slices."""
    return np.array([density.inv_cdf((i + 0.5) / n) for i in range(n)])


def _densities(params: dict[str, Any]) -> tuple[NormalDist, NormalDist]:
    name = params.get("densities", "two gaussians")
    if name not in DENSITIES:
        raise ValueError(f"optimal_d: unknown densities {name!r}; known: {sorted(DENSITIES)}")
    return DENSITIES[name]


@check_kind("optimal_d")
def optimal_d(ctx: CheckContext) -> Outcome:
    if "functions" in ctx.params:
        return _closed_form(ctx)
    return _trained(ctx)


# ---- the optimal_d task: the student's D*, V and optimal value ----------------------------------------------


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


def _reply(replies: Any, index: int) -> dict[str, Any]:
    if not isinstance(replies, list) or index >= len(replies) or not isinstance(replies[index], dict):
        raise Invalid("the worker's answer could not be read; did your code change the grader's objects?")
    reply = replies[index]
    if "raised" in reply:
        raise Invalid(f"raised {str(reply['raised'])[:80]}: {str(reply.get('message', ''))[:200]}")
    return reply


def _probabilities(replies: Any, index: int, n: int) -> np.ndarray:
    try:
        array = validate.tensor(_reply(replies, index).get("output"), "the result of optimal_discriminator", (n,))
    except Invalid as error:
        raise Invalid(f"optimal_discriminator: {error}") from None
    if array.min() < 0 or array.max() > 1:
        raise Invalid("optimal_discriminator returns values outside [0, 1] on positive densities")
    return array


def _without_game(criteria: Criteria, problem: str, value_problem: str) -> Outcome:
    """When D* or V cannot be read, the game cannot be played: only optimal_value() can still earn its share."""
    criteria.add(RANK_WEIGHT, False, problem)
    criteria.add(EQUAL_WEIGHT, False, problem)
    criteria.add(VALUE_WEIGHT, not value_problem, value_problem)
    return criteria.outcome("")


def _closed_form(ctx: CheckContext) -> Outcome:
    names = dict(zip(("optimal_discriminator", "gan_value", "optimal_value"), ctx.params["functions"], strict=True))
    data, model = _densities(ctx.params)
    x_real, x_fake = _quantiles(data, N_REAL), _quantiles(model, N_FAKE)
    x_same = _quantiles(data, N_FAKE)  # p_g = p_data: fakes drawn from the data density
    pairs = [_density_pair(data, model, x_real), _density_pair(data, model, x_fake)]
    pairs += [_density_pair(data, data, x_real), _density_pair(data, data, x_same)]
    calls = [{"function": names["optimal_discriminator"], "args": pair} for pair in pairs]
    calls.append({"function": names["optimal_value"], "args": []})
    first = ctx.call("call_many", module=ctx.module, calls=calls, seed=ctx.seed)

    criteria = Criteria()
    try:
        optimal_value = validate.scalar(_reply(first, 4).get("output"), "optimal_value()", allow_number=True)
        value_problem = (
            "" if abs(optimal_value - OPTIMAL_VALUE) <= EXACT_TOLERANCE else "optimal_value() should be −log 4"
        )
    except Invalid as error:
        value_problem = f"optimal_value: {error}"
    try:
        student = [_probabilities(first, i, len(x)) for i, x in enumerate((x_real, x_fake, x_real, x_same))]
    except Invalid as error:
        return _without_game(criteria, str(error), value_problem)

    competitors = _competitors(data, model, x_real, x_fake, ctx.rng)
    games = [(student[0], student[1]), *competitors, (student[2], student[3])]
    calls = [{"function": names["gan_value"], "args": list(game)} for game in games]
    second = ctx.call("call_many", module=ctx.module, calls=calls, seed=ctx.seed)
    try:
        values = [
            validate.scalar(_reply(second, i).get("output"), "the result of gan_value") for i in range(len(games))
        ]
    except Invalid as error:
        return _without_game(criteria, f"gan_value: {error}", value_problem)

    true_values = [float(evaluate(gan_value, game)[0]) for game in games]
    margins_ok = all(
        values[0] - values[k] >= (true_values[0] - true_values[k]) / 2 - RANK_SLACK
        for k in range(1, len(competitors) + 1)
    )
    if margins_ok:
        rank_problem = ""
    elif true_values[0] + RANK_SLACK < max(true_values[1:-1]):
        rank_problem = (
            "your optimal_discriminator does not maximise V on two Gaussians: D*(x) = p_data(x) / (p_data(x) + p_g(x))"
        )
    else:
        rank_problem = (
            "your gan_value does not rank discriminators by V: a better discriminator must get a larger "
            "mean log d_real + mean log(1 − d_fake) (check the sign and the two means)"
        )
    criteria.add(RANK_WEIGHT, margins_ok, rank_problem)
    criteria.add(
        EQUAL_WEIGHT,
        abs(values[-1] - OPTIMAL_VALUE) <= EXACT_TOLERANCE,
        "with p_g = p_data, your optimal_discriminator (½ everywhere) through your gan_value should give V = −log 4",
    )
    criteria.add(VALUE_WEIGHT, not value_problem, value_problem)
    return criteria.outcome(
        "your D* beats every other discriminator through your gan_value, and V = optimal_value() = −log 4 "
        "when p_g = p_data"
    )


# ---- vanilla_gan: a discriminator trained with the student's loss -------------------------------------------


def _bins(x: np.ndarray) -> np.ndarray:
    return np.digitize(x, BIN_EDGES).astype(np.int64)


def _fit(ctx: CheckContext, function: str, real_bins: np.ndarray, fake_bins: np.ndarray) -> np.ndarray:
    """The table of logits the student's loss trains; `Invalid` when the loss cannot train anything."""
    reply = ctx.call(
        "fit_logit_table",
        module=ctx.module,
        function=function,
        real_bins=real_bins,
        fake_bins=fake_bins,
        n_bins=len(BIN_EDGES) + 1,
        steps=FIT_STEPS,
        lr=FIT_LR,
        seed=ctx.seed,
    )
    if not isinstance(reply, dict):
        raise Invalid("the worker's answer could not be read; did your code change the grader's objects?")
    loss = reply.get("loss")
    if validate.tensor(loss, f"the result of {function}").size != 1:
        raise Invalid(
            f"{function} must return one number (a 0-d tensor), but it returns several: average over the batch"
        )
    if loss.get("has_graph") is not True:
        raise Invalid(f"{function}'s result has no autograd graph, so nothing can be trained with it")
    return validate.tensor(reply.get("table"), "the trained logits", (len(BIN_EDGES) + 1,), finite=False)


def _optimum(real_bins: np.ndarray, fake_bins: np.ndarray, n_real: float, n_fake: float) -> np.ndarray:
    """Per bin, the D that minimises Σ_real softplus(−l)/n_real + Σ_fake softplus(l)/n_fake (NaN where empty)."""
    n_bins = len(BIN_EDGES) + 1
    real = np.bincount(real_bins, minlength=n_bins) / n_real
    fake = np.bincount(fake_bins, minlength=n_bins) / n_fake
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where((real > 0) & (fake > 0), real / (real + fake), np.nan)


def _trained(ctx: CheckContext) -> Outcome:
    function = ctx.params.get("function", "discriminator_loss")
    data, model = _densities(ctx.params)
    real_bins, fake_bins = _bins(_quantiles(data, N_REAL)), _bins(_quantiles(model, N_FAKE))
    same_bins = _bins(_quantiles(data, N_FAKE))
    criteria = Criteria()

    table = _fit(ctx, function, real_bins, fake_bins)
    trained = torch.special.expit(torch.from_numpy(table.astype(np.float64))).numpy()
    target = _optimum(real_bins, fake_bins, N_REAL, N_FAKE)
    compared = ~np.isnan(target)
    error = np.abs(trained - target)[compared]
    if not np.isfinite(table).all():
        problem = f"training with your {function} drives the logits to inf or NaN"
    elif np.all(np.abs(trained - _optimum(real_bins, fake_bins, 1, 1))[compared] <= D_TOLERANCE):
        problem = (
            f"a discriminator trained with your {function} lands where real and fake samples are averaged "
            "together: average each term over its own batch, then add them"
        )
    elif np.all(np.abs(trained - (1 - target))[compared] <= D_TOLERANCE):
        problem = f"a discriminator trained with your {function} lands at 1 − D*: real logits go with target 1"
    else:
        problem = (
            f"a discriminator trained with your {function} on two known densities does not reach "
            "D = p_data / (p_data + p_g): minimising it must maximise V(D, G)"
        )
    criteria.add(OPTIMUM_WEIGHT, bool(np.all(error <= D_TOLERANCE)), problem)

    table = _fit(ctx, function, real_bins, same_bins)
    trained = torch.special.expit(torch.from_numpy(table.astype(np.float64))).numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        value = float(evaluate(gan_value, (trained[real_bins], trained[same_bins]))[0])
    criteria.add(
        EQUAL_WEIGHT,
        abs(value - OPTIMAL_VALUE) <= VALUE_TOLERANCE,
        f"with p_g = p_data, a discriminator trained with your {function} should settle at D = ½, where "
        "V = −log 4; it does not",
    )
    return criteria.outcome(
        f"a discriminator trained with your {function} lands on p_data / (p_data + p_g), and at V = −log 4 "
        "when p_g = p_data"
    )
