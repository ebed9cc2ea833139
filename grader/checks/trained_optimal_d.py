"""Kind `trained_optimal_d`: a discriminator trained with the student's discriminator loss lands on D*.

params: `function` (the student's discriminator loss), `densities`. A per-bin logit table is trained with the
student's loss (probe `fit_logit_table`); its optimum is D = p_data / (p_data + p_g) per bin, computed here from
the bin counts. Landing there is the primary property, and so is landing on D = ½, V = −log 4, when
p_g = p_data (the grader computes V from the trained D: it is the same optimum for equal densities). The logit
table never starts at logit 0 and no bin's optimum is exactly there (`grader.checks.probing`): at 0, autograd
gives some correct losses a one-sided slope or none.
"""

from __future__ import annotations

import numpy as np
import torch

from grader import validate
from grader.checks import CheckContext, Criteria, Outcome, check_kind
from grader.checks.densities import EQUAL_WEIGHT, N_FAKE, N_REAL, N_SAME, densities, quantiles
from grader.checks.probing import explain, logits_away_from_zero
from grader.formulas import OPTIMAL_VALUE, evaluate, gan_value
from grader.validate import Invalid

BIN_EDGES = np.linspace(-2.0, 3.0, 11)  # plus one open bin on each side, so every sample has a bin
FIT_STEPS, FIT_LR = 300, 0.2
START_LOGITS = (0.1, 0.5)  # |logit| of the table's start: small like a fresh network's, never 0
D_TOLERANCE = 0.02  # the trained table reaches its optimum within ~1e-4; sampling puts it ~3e-3 off the truth
VALUE_TOLERANCE = 0.01  # V of a trained table
OPTIMUM_WEIGHT = 1.5  # landing on D* with p_g ≠ p_data says more than landing on ½ with p_g = p_data
# What the grader passes, for the advice on a shape or dtype error.
LOSS_INPUTS = "real_logits (N,) and fake_logits (M,), float32 tensors of logits, N ≠ M"


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
    failed = validate.failure_of(loss)
    if failed is not None:
        raise Invalid(explain(function, *failed, LOSS_INPUTS))
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


@check_kind("trained_optimal_d")
def trained_optimal_d(ctx: CheckContext) -> Outcome:
    function = ctx.params["function"]
    data, model = densities(ctx.params)
    real_bins, fake_bins = _bins(quantiles(data, N_REAL)), _bins(quantiles(model, N_FAKE))
    same_bins = _bins(quantiles(data, N_SAME))
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
