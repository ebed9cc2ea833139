"""Kind `optimal_d`: the optimal_d task (closed form) and vanilla_gan (a discriminator trained with the loss).

One worker per task serves the whole module. Every variant is graded on its whole task (`--no-train` checks):
each bug costs the checks its table row names, at least half of optimal_d where it breaks the property the check
exists for, less where it is a side property, and every other check keeps all its points.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import NamedTuple

import numpy as np
import pytest

from grader.checks import densities
from grader.checks import optimal_d as closed_form
from grader.checks import trained_optimal_d as trained
from grader.checks.probing import away_from_zero
from grader.formulas import evaluate, gan_value, optimal_discriminator
from grader.results import CheckResult
from tests.grader.checks.conftest import SharedWorkers, static_checks, with_bug
from tests.grader.variants import EVERYTHING, PRIMARY, Fault, assert_only_faults


def grade_task(workers: SharedWorkers, task_id: str, source: str | None = None) -> dict[str, CheckResult]:
    return workers.results(task_id, static_checks(task_id), source)


@pytest.mark.parametrize("task_id", ["optimal_d", "vanilla_gan"])
def test_reference_gets_full_marks(shared_workers: SharedWorkers, task_id: str) -> None:
    assert_only_faults(grade_task(shared_workers, task_id).values(), task_id, [])


D_LOSS = (
    "    real_term = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))\n"
    "    return real_term + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))"
)
D_STAR = "    return p_data / (p_data + p_g)"
V = "    return torch.log(d_real).mean() + torch.log1p(-d_fake).mean()"
V_STAR = "    return -math.log(4.0)"


class Variant(NamedTuple):
    task: str
    name: str
    old: str  # the reference's text
    new: str  # the variant's
    faults: tuple[Fault, ...]  # what it must cost; every other check of the task stays whole

    def source(self) -> str:
        return with_bug(self.task, self.old, self.new)


LOSS_LOST = Fault("discriminator_loss")  # the loss_formula check of the same function: its own severity
BUGS = [
    Variant(
        "vanilla_gan",
        "d-loss-averages-batches-together",
        D_LOSS,
        "    logits = torch.cat([real_logits, fake_logits])\n"
        "    targets = torch.cat([torch.ones_like(real_logits), torch.zeros_like(fake_logits)])\n"
        "    return F.binary_cross_entropy_with_logits(logits, targets)",
        (Fault("optimal_d", "averaged together", PRIMARY), LOSS_LOST),
    ),
    Variant(
        "vanilla_gan",
        "d-loss-targets-swapped",
        D_LOSS,
        "    real_term = F.binary_cross_entropy_with_logits(real_logits, torch.zeros_like(real_logits))\n"
        "    return real_term + F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))",
        (Fault("optimal_d", "1 − D*", PRIMARY), LOSS_LOST),
    ),
    Variant(
        "vanilla_gan",
        "d-loss-item",
        D_LOSS,
        D_LOSS.replace("return real_term", "return (real_term") + ").item()",
        (Fault("optimal_d", "must be a torch.Tensor", EVERYTHING), LOSS_LOST),
    ),
    Variant(
        "vanilla_gan",
        "d-loss-sign-flipped",
        D_LOSS,
        D_LOSS.replace("return real_term +", "return -real_term -"),
        (Fault("optimal_d", "does not reach", PRIMARY), LOSS_LOST),
    ),
    Variant(
        "vanilla_gan",
        "d-loss-shape-error",
        D_LOSS,
        "    return F.binary_cross_entropy_with_logits(real_logits - fake_logits, torch.ones_like(real_logits))",
        (Fault("optimal_d", "RuntimeError when called with real_logits (N,)", EVERYTHING), LOSS_LOST),
    ),
    Variant(
        "optimal_d",
        "optimal-discriminator-swapped",
        D_STAR,
        "    return p_g / (p_data + p_g)",
        (Fault("optimal_d", "does not maximise V", PRIMARY), Fault("optimal_discriminator")),
    ),
    Variant(
        "optimal_d",
        "gan-value-sign",
        V,
        "    return -(torch.log(d_real).mean() + torch.log1p(-d_fake).mean())",
        (Fault("optimal_d", "does not rank", PRIMARY), Fault("gan_value")),
    ),
    Variant(
        "optimal_d",
        "gan-value-constant",
        V,
        "    return (d_real.sum() * 0).reshape(())",
        (Fault("optimal_d", "does not rank", PRIMARY), Fault("gan_value")),
    ),
    Variant(
        "optimal_d",
        "gan-value-in-bits",
        V,
        "    return torch.log2(d_real).mean() + torch.log2(1 - d_fake).mean()",
        # Base 2 still ranks discriminators the right way (a side property fails: V = −2 at p_g = p_data).
        (Fault("optimal_d", "should give V = −log 4", side=True), Fault("gan_value")),
    ),
    Variant(
        "optimal_d",
        "optimal-discriminator-numpy",
        D_STAR,
        "    return torch.full_like(p_data, 0.5).numpy()",
        (Fault("optimal_d", "must be a torch.Tensor", EVERYTHING), Fault("optimal_discriminator"), Fault("interface")),
    ),
]


@pytest.mark.parametrize("bug", BUGS, ids=[bug.name for bug in BUGS])
def test_bug_loses_points_in_optimal_d_only(shared_workers: SharedWorkers, bug: Variant) -> None:
    """optimal_d loses what the row says; the checks of the same function in other kinds may lose too (the
    catalogue checks the formula twice), every other check keeps all its points."""
    assert_only_faults(grade_task(shared_workers, bug.task, bug.source()).values(), bug.task, bug.faults)


def test_a_wrong_optimal_value_costs_only_its_share(shared_workers: SharedWorkers) -> None:
    """optimal_value() has a check of its own: a wrong constant costs that check, and optimal_d, which plays the
    game through D* and gan_value, keeps all its points (SPEC: a fault never costs a second check)."""
    source = with_bug("optimal_d", V_STAR, "    return math.log(4.0)")
    results = grade_task(shared_workers, "optimal_d", source)
    assert_only_faults(results.values(), "optimal_d", [Fault("optimal_value", "not V(D*, G*)")])


# Softplus written out in the two stable ways autograd gets wrong at exactly logit 0 (SPEC: no probe there).
WHERE_SOFTPLUS = (
    "    def softplus(x):  # slope 0 at x = 0 under autograd: where picks the constant, abs has slope 0\n"
    "        return torch.where(x > 0, x, torch.zeros_like(x)) + torch.log1p(torch.exp(-x.abs()))\n"
    "    return softplus(-real_logits).mean() + softplus(fake_logits).mean()"
)
MAX_FORM = (
    "    def bce(x, t):  # max(x, 0) − x·t + log1p(e^−|x|): a one-sided slope at x = 0 under autograd\n"
    "        return (x.clamp(min=0) - x * t + torch.log1p(torch.exp(-x.abs()))).mean()\n"
    "    return bce(real_logits, 1.0) + bce(fake_logits, 0.0)"
)
STYLES = [
    pytest.param(
        "vanilla_gan",
        D_LOSS,
        "    real_term = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))\n"
        "    return (real_term + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))) / 2",
        id="halved-d-loss",
    ),
    pytest.param(
        "vanilla_gan",
        D_LOSS,
        "    return -(F.logsigmoid(real_logits).mean() + F.logsigmoid(-fake_logits).mean())",
        id="logsigmoid-d-loss",
    ),
    pytest.param("vanilla_gan", D_LOSS, WHERE_SOFTPLUS, id="where-softplus-d-loss"),
    pytest.param("vanilla_gan", D_LOSS, MAX_FORM, id="max-form-d-loss"),
    pytest.param("optimal_d", D_STAR, "    return 1 / (1 + p_g / p_data)", id="optimal-discriminator-ratio"),
    pytest.param(
        "optimal_d", V, "    return torch.mean(torch.log(d_real)) + torch.mean(torch.log(1 - d_fake))", id="v"
    ),
    pytest.param("optimal_d", V_STAR, "    return torch.tensor(-math.log(4.0))", id="optimal-value-tensor"),
    pytest.param(
        "optimal_d", V_STAR, "    import numpy as np\n    return -np.log(np.float64(4))", id="optimal-value-numpy"
    ),
]


@pytest.mark.parametrize(("task_id", "old", "new"), STYLES)
def test_correct_styles_get_full_marks(shared_workers: SharedWorkers, task_id: str, old: str, new: str) -> None:
    results = grade_task(shared_workers, task_id, with_bug(task_id, old, new))
    assert_only_faults(results.values(), task_id, [])


# ---- the trusted side's own premises -------------------------------------------------------------------------


def test_the_bin_optimum_is_the_true_density_ratio() -> None:
    """Comparing the trained table with the bin optimum is comparing it with p_data / (p_data + p_g)."""
    data, model = densities.DENSITIES["two gaussians"]
    real = trained._bins(densities.quantiles(data, densities.N_REAL))
    fake = trained._bins(densities.quantiles(model, densities.N_FAKE))
    optimum = trained._optimum(real, fake, densities.N_REAL, densities.N_FAKE)
    edges = [-math.inf, *trained.BIN_EDGES, math.inf]
    mass = [np.diff([d.cdf(e) if math.isfinite(e) else float(e > 0) for e in edges]) for d in (data, model)]
    truth = mass[0] / (mass[0] + mass[1])
    compared = ~np.isnan(optimum)
    assert compared.sum() >= 8
    assert np.abs(optimum - truth)[compared].max() < 0.005
    # Unequal counts are what expose a loss averaging the two batches together.
    assert np.abs(trained._optimum(real, fake, 1, 1) - optimum)[compared].max() > 5 * trained.D_TOLERANCE


def test_the_true_optimum_beats_every_competitor_on_the_samples() -> None:
    """D* must win on the check's samples by construction, or a correct submission could lose points."""
    data, model = densities.DENSITIES["two gaussians"]
    x_real, x_fake = densities.quantiles(data, densities.N_REAL), densities.quantiles(model, densities.N_FAKE)
    optimum = [
        evaluate(optimal_discriminator, closed_form._density_pair(data, model, x))[0].astype(np.float32)
        for x in (x_real, x_fake)
    ]
    best = float(evaluate(gan_value, optimum)[0])
    competitors = closed_form._competitors(data, model, x_real, x_fake, np.random.default_rng(0))
    margins = [best - float(evaluate(gan_value, pair)[0]) for pair in competitors]
    assert min(margins) > 0
    assert sorted(margins)[1] > 0.01  # all but the trained one lose clearly


def test_no_experiment_starts_or_settles_on_logit_zero() -> None:
    """The table starts off 0, with both signs, and no bin's optimum is exactly D = ½ (logit 0)."""
    start = trained.logits_away_from_zero(np.random.default_rng(0), 1000, *trained.START_LOGITS)
    assert away_from_zero(start) and (start > 0).any() and (start < 0).any()
    data, model = densities.DENSITIES["two gaussians"]
    real = trained._bins(densities.quantiles(data, densities.N_REAL))
    for fakes in (densities.quantiles(model, densities.N_FAKE), densities.quantiles(data, densities.N_SAME)):
        fake = trained._bins(fakes)
        optimum = trained._optimum(real, fake, densities.N_REAL, len(fakes))
        optimum = optimum[~np.isnan(optimum)]
        assert away_from_zero(np.log(optimum / (1 - optimum)))


def test_quantiles_follow_their_density() -> None:
    x = densities.quantiles(NormalDist(1.0, 2.0), 1000)
    assert x.mean() == pytest.approx(1.0, abs=1e-9)
    assert x.std() == pytest.approx(2.0, rel=0.01)
