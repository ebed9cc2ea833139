"""Kind `optimal_d`: the optimal-discriminator property on two known 1-D Gaussians.

Two forms, by params:
- `functions = [optimal_discriminator, gan_value, ...]` (task optimal_d): the student's D* on the samples,
  scored through the student's gan_value, must rank above every other discriminator (constant ½, D* with
  shifted or scaled logits, a discriminator trained with the reference BCE loss) by at least half of the true
  margin. That ranking is the property this form exists for (primary: failing it costs at least half). With
  p_g = p_data the student's gan_value must also give V = −log 4 (a side property: it is gan_value's own
  value). optimal_value() is graded by the task's `optimal_value` check alone, so a wrong constant costs one
  check, not two (SPEC: a fault never costs a second check).
- `function = discriminator_loss` (task vanilla_gan): a per-bin logit table is trained with the student's
  loss (probe `fit_logit_table`); its optimum is D = p_data / (p_data + p_g) per bin, computed here from the
  bin counts. Landing there is the primary property, and so is landing on D = ½, V = −log 4, when
  p_g = p_data (the grader computes V from the trained D: it is the same optimum for equal densities).

Samples are quantiles of the Gaussians rather than random draws: their means are close to the expectations,
so a D* that is right is never beaten by chance, and every grade sees the same inputs. Real and fake sample
counts differ, so a loss that averages the two batches together lands somewhere else. The logit table never
starts at logit 0 and no bin's optimum is exactly there (`grader.checks.probing`): at 0, autograd gives some
correct losses a one-sided slope or none.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Any

import numpy as np
import torch

from grader import validate
from grader.checks import CheckContext, Criteria, Outcome, check_kind
from grader.checks.probing import explain, logits_away_from_zero
from grader.formulas import OPTIMAL_VALUE, bce_discriminator, evaluate, gan_value
from grader.validate import Invalid

DENSITIES = {"two gaussians": (NormalDist(0.0, 1.0), NormalDist(1.5, 0.75))}
N_REAL, N_FAKE = 2400, 800
# Fakes for p_g = p_data: 790, not 800 = N_REAL / 3, since then some bins would hold exactly a third of their real
# count, an optimum of D = ½, logit 0, exactly; with 790 every bin's optimum keeps ≥ 0.002 from logit 0.
N_SAME = 790
BIN_EDGES = np.linspace(-2.0, 3.0, 11)  # plus one open bin on each side, so every sample has a bin
FIT_STEPS, FIT_LR = 300, 0.2
START_LOGITS = (0.1, 0.5)  # |logit| of the table's start: small like a fresh network's, never 0
NEWTON_STEPS = 15  # logistic regression converges quadratically: ~8 steps reach float64 precision
D_TOLERANCE = 0.02  # the trained table reaches its optimum within ~1e-4; sampling puts it ~3e-3 off the truth
VALUE_TOLERANCE = 0.01  # V of a trained table; the closed-form V must match to EXACT_TOLERANCE
EXACT_TOLERANCE = 1e-4
# The closed-form check: D* winning through gan_value is the property itself; V = −log 4 at p_g = p_data a share.
RANK_WEIGHT, EQUAL_WEIGHT = 2.0, 1.0
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
    """Primary: the student's D* winning through gan_value (closed form), or the trained D landing on
    p_data / (p_data + p_g) and on ½ with V = −log 4 (trained)."""
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


# What the grader passes, for the advice on a shape or dtype error.
D_STAR_INPUTS = "p_data and p_g, float32 tensors of density values of the same shape (n,)"
VALUE_INPUTS = "d_real (N,) and d_fake (M,), float32 tensors of probabilities in (0, 1), N ≠ M"
LOSS_INPUTS = "real_logits (N,) and fake_logits (M,), float32 tensors of logits, N ≠ M"


def _reply(replies: Any, index: int, function: str, inputs: str) -> dict[str, Any]:
    if not isinstance(replies, list) or index >= len(replies) or not isinstance(replies[index], dict):
        raise Invalid("the worker's answer could not be read; did your code change the grader's objects?")
    reply = replies[index]
    if "raised" in reply:
        raise Invalid(explain(function, str(reply["raised"]), str(reply.get("message", "")), inputs))
    return reply


def _probabilities(replies: Any, index: int, n: int, function: str) -> np.ndarray:
    output = _reply(replies, index, function, D_STAR_INPUTS).get("output")
    array = validate.tensor(output, f"the result of {function}", (n,))
    if array.min() < 0 or array.max() > 1:
        raise Invalid(f"{function} returns values outside [0, 1] on positive densities")
    return array


def _closed_form(ctx: CheckContext) -> Outcome:
    d_star, value_of = ctx.params["functions"]
    data, model = _densities(ctx.params)
    x_real, x_fake, x_same = _quantiles(data, N_REAL), _quantiles(model, N_FAKE), _quantiles(data, N_SAME)
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
        initial=logits_away_from_zero(ctx.rng, len(BIN_EDGES) + 1, *START_LOGITS),
        steps=FIT_STEPS,
        lr=FIT_LR,
        seed=ctx.seed,
    )
    if not isinstance(reply, dict):
        raise Invalid("the worker's answer could not be read; did your code change the grader's objects?")
    loss = reply.get("loss")
    if isinstance(loss, dict) and loss.get("kind") == "error":
        raise Invalid(explain(function, str(loss.get("error")), str(loss.get("message", "")), LOSS_INPUTS))
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


def _probabilities_of(table: np.ndarray) -> np.ndarray:
    return torch.special.expit(torch.from_numpy(table.astype(np.float64))).numpy()


def _optimum_problem(function: str, table: np.ndarray, real_bins: np.ndarray, fake_bins: np.ndarray) -> str:
    """Why the table trained on unequal densities misses D* ("" when it lands there), naming the likely fault."""
    trained, target = _probabilities_of(table), _optimum(real_bins, fake_bins, N_REAL, N_FAKE)
    compared = ~np.isnan(target)

    def lands_on(optimum: np.ndarray) -> bool:
        return bool(np.all(np.abs(trained - optimum)[compared] <= D_TOLERANCE))

    if lands_on(target):
        return ""
    if not np.isfinite(table).all():
        return f"training with your {function} drives the logits to inf or NaN"
    if lands_on(_optimum(real_bins, fake_bins, 1, 1)):
        return (
            f"a discriminator trained with your {function} lands where real and fake samples are averaged "
            "together: average each term over its own batch, then add them"
        )
    if lands_on(1 - target):
        return f"a discriminator trained with your {function} lands at 1 − D*: real logits go with target 1"
    return (
        f"a discriminator trained with your {function} on two known densities does not reach "
        "D = p_data / (p_data + p_g): minimising it must maximise V(D, G)"
    )


def _trained(ctx: CheckContext) -> Outcome:
    function = ctx.params.get("function", "discriminator_loss")
    data, model = _densities(ctx.params)
    real_bins, fake_bins = _bins(_quantiles(data, N_REAL)), _bins(_quantiles(model, N_FAKE))
    same_bins = _bins(_quantiles(data, N_SAME))
    criteria = Criteria()

    problem = _optimum_problem(function, _fit(ctx, function, real_bins, fake_bins), real_bins, fake_bins)
    criteria.add(OPTIMUM_WEIGHT, not problem, problem, primary=True)

    trained = _probabilities_of(_fit(ctx, function, real_bins, same_bins))
    with np.errstate(invalid="ignore", divide="ignore"):
        value = float(evaluate(gan_value, (trained[real_bins], trained[same_bins]))[0])
    criteria.add(
        EQUAL_WEIGHT,
        abs(value - OPTIMAL_VALUE) <= VALUE_TOLERANCE,
        f"with p_g = p_data, a discriminator trained with your {function} should settle at D = ½, where "
        "V = −log 4; it does not",
        primary=True,
    )
    return criteria.outcome(
        f"a discriminator trained with your {function} lands on p_data / (p_data + p_g), and at V = −log 4 "
        "when p_g = p_data"
    )
