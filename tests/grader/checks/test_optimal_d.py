"""Kind `optimal_d`: the optimal_d task (closed form) and vanilla_gan (a discriminator trained with the loss).

One worker serves the whole module, as in test_loss_formula: each source is written over the task's file.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from statistics import NormalDist

import numpy as np
import pytest

from grader.checks import optimal_d as check
from grader.formulas import evaluate, gan_value, optimal_discriminator
from grader.run_checks import CheckResult
from tests.grader.checks.conftest import SharedWorkers, with_bug

Grade = Callable[..., dict[str, CheckResult]]


@pytest.fixture(scope="module")
def grade(shared_workers: SharedWorkers) -> Grade:
    """`grade(task_id, check_ids, source=None)` → {check id: result}, one worker per task for the module."""
    return shared_workers.results


@pytest.mark.parametrize("task_id", ["optimal_d", "vanilla_gan"])
def test_reference_gets_full_marks(grade: Grade, task_id: str) -> None:
    result = grade(task_id, ["optimal_d"])["optimal_d"]
    assert result.points == result.max_points, result.message


D_LOSS = (
    "    real_term = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))\n"
    "    return real_term + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))"
)
D_STAR = "    return p_data / (p_data + p_g)"
V = "    return torch.log(d_real).mean() + torch.log1p(-d_fake).mean()"
V_STAR = "    return -math.log(4.0)"

# (task, old, new, a check that must keep all its points, words of the optimal_d check's message)
BUGS = [
    pytest.param(
        "vanilla_gan",
        D_LOSS,
        "    logits = torch.cat([real_logits, fake_logits])\n"
        "    targets = torch.cat([torch.ones_like(real_logits), torch.zeros_like(fake_logits)])\n"
        "    return F.binary_cross_entropy_with_logits(logits, targets)",
        "generator_loss_minimax",
        "averaged together",
        id="d-loss-averages-batches-together",
    ),
    pytest.param(
        "vanilla_gan",
        D_LOSS,
        "    real_term = F.binary_cross_entropy_with_logits(real_logits, torch.zeros_like(real_logits))\n"
        "    return real_term + F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))",
        "generator_loss_nonsaturating",
        "1 − D*",
        id="d-loss-targets-swapped",
    ),
    pytest.param(
        "vanilla_gan",
        D_LOSS,
        D_LOSS.replace("return real_term", "return (real_term") + ").item()",
        "generator_loss_nonsaturating",
        "must be a torch.Tensor",
        id="d-loss-item",
    ),
    pytest.param(
        "vanilla_gan",
        D_LOSS,
        D_LOSS.replace("return real_term +", "return -real_term -"),
        "generator_loss_minimax",
        "does not reach",
        id="d-loss-sign-flipped",
    ),
    pytest.param(
        "optimal_d",
        D_STAR,
        "    return p_g / (p_data + p_g)",
        "gan_value",
        "does not maximise V",
        id="optimal-discriminator-swapped",
    ),
    pytest.param(
        "optimal_d",
        V,
        "    return -(torch.log(d_real).mean() + torch.log1p(-d_fake).mean())",
        "optimal_discriminator",
        "does not rank",
        id="gan-value-sign",
    ),
    pytest.param(
        "optimal_d",
        V,
        "    return (d_real.sum() * 0).reshape(())",
        "optimal_discriminator",
        "does not rank",
        id="gan-value-constant",
    ),
    pytest.param(
        "optimal_d",
        V_STAR,
        "    return math.log(4.0)",
        "gan_value",
        "optimal_value() should be −log 4",
        id="optimal-value-log-4",
    ),
    pytest.param(
        "optimal_d",
        D_STAR,
        "    return torch.full_like(p_data, 0.5).numpy()",
        "gan_value",
        "must be a torch.Tensor",
        id="optimal-discriminator-numpy",
    ),
]


@pytest.mark.parametrize(("task_id", "old", "new", "passing", "words"), BUGS)
def test_bug_loses_points_in_optimal_d_only(
    grade: Grade, task_id: str, old: str, new: str, passing: str, words: str
) -> None:
    results = grade(task_id, ["optimal_d", passing], with_bug(task_id, old, new))
    assert results["optimal_d"].points < results["optimal_d"].max_points, results["optimal_d"].message
    assert words in results["optimal_d"].message, results["optimal_d"].message
    assert results[passing].points == results[passing].max_points, results[passing].message


def test_a_wrong_optimal_value_costs_only_its_share(grade: Grade) -> None:
    result = grade("optimal_d", ["optimal_d"], with_bug("optimal_d", V_STAR, "    return math.log(4.0)"))["optimal_d"]
    assert result.status == "partial"


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
def test_correct_styles_get_full_marks(grade: Grade, task_id: str, old: str, new: str) -> None:
    result = grade(task_id, ["optimal_d"], with_bug(task_id, old, new))["optimal_d"]
    assert result.points == result.max_points, result.message


# ---- the trusted side's own premises -------------------------------------------------------------------------


def test_the_bin_optimum_is_the_true_density_ratio() -> None:
    """Comparing the trained table with the bin optimum is comparing it with p_data / (p_data + p_g)."""
    data, model = check.DENSITIES["two gaussians"]
    real = check._bins(check._quantiles(data, check.N_REAL))
    fake = check._bins(check._quantiles(model, check.N_FAKE))
    optimum = check._optimum(real, fake, check.N_REAL, check.N_FAKE)
    edges = [-math.inf, *check.BIN_EDGES, math.inf]
    mass = [np.diff([d.cdf(e) if math.isfinite(e) else float(e > 0) for e in edges]) for d in (data, model)]
    truth = mass[0] / (mass[0] + mass[1])
    compared = ~np.isnan(optimum)
    assert compared.sum() >= 8
    assert np.abs(optimum - truth)[compared].max() < 0.005
    # Unequal counts are what expose a loss averaging the two batches together.
    assert np.abs(check._optimum(real, fake, 1, 1) - optimum)[compared].max() > 5 * check.D_TOLERANCE


def test_the_true_optimum_beats_every_competitor_on_the_samples() -> None:
    """D* must win on the check's samples by construction, or a correct submission could lose points."""
    data, model = check.DENSITIES["two gaussians"]
    x_real, x_fake = check._quantiles(data, check.N_REAL), check._quantiles(model, check.N_FAKE)
    optimum = [
        evaluate(optimal_discriminator, check._density_pair(data, model, x))[0].astype(np.float32)
        for x in (x_real, x_fake)
    ]
    best = float(evaluate(gan_value, optimum)[0])
    competitors = check._competitors(data, model, x_real, x_fake, np.random.default_rng(0))
    margins = [best - float(evaluate(gan_value, pair)[0]) for pair in competitors]
    assert min(margins) > 0
    assert sorted(margins)[1] > 0.01  # all but the trained one lose clearly


def test_quantiles_follow_their_density() -> None:
    x = check._quantiles(NormalDist(1.0, 2.0), 1000)
    assert x.mean() == pytest.approx(1.0, abs=1e-9)
    assert x.std() == pytest.approx(2.0, rel=0.01)
