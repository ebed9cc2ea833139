"""Kind `loss_formula` on the references, on buggy variants and on correct variants written in other styles.

One worker serves the whole module: each source is written over the task's file and imported afresh, which
costs milliseconds where a worker start per variant would cost ~1.5 s.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from grader.checks.loss_formula import DOMAINS, examples
from grader.results import CheckResult
from tests.grader.checks.conftest import CATALOGUE, SharedWorkers, static_checks, with_bug
from tests.grader.variants import PRIMARY, Fault, assert_only_faults

Grade = Callable[..., dict[str, CheckResult]]
LOSS_CHECKS = {
    task.id: [check.id for check in task.checks if check.kind == "loss_formula"]
    for task in CATALOGUE.values()
    if any(check.kind == "loss_formula" for check in task.checks)
}


@pytest.fixture(scope="module")
def grade(shared_workers: SharedWorkers) -> Grade:
    """`grade(task_id, check_ids, source=None)` → {check id: result}, one worker per task for the module."""
    return shared_workers.results


@pytest.mark.parametrize("task_id", sorted(LOSS_CHECKS))
def test_reference_gets_full_marks(grade: Grade, task_id: str) -> None:
    for check_id, result in grade(task_id, LOSS_CHECKS[task_id]).items():
        assert result.points == result.max_points, (check_id, result.message)


BCE_D = (
    "    real_term = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))\n"
    "    return real_term + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))"
)
BCE_G = "    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))"

# (task, old, new, the check that must lose at least half its points, words of the message); every other static
# check of the task keeps all of its points.
BUGS = [
    pytest.param(
        "cdcgan",
        BCE_G,
        "    return -F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))",
        "generator_loss",
        "saturating",
        id="cdcgan-saturating-generator",
    ),
    pytest.param(
        "dcgan",
        BCE_G,
        "    return F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))",
        "generator_loss",
        "target 1",
        id="dcgan-generator-target-0-log2-at-0",
    ),
    pytest.param(
        "vanilla_gan",
        "    return F.softplus(-fake_logits).mean()",
        "    return torch.log(1 - torch.sigmoid(fake_logits)).mean()",
        "generator_loss_nonsaturating",
        "saturating",
        id="vanilla-nonsaturating-written-saturating",
    ),
    pytest.param(
        "vanilla_gan",
        "    return -F.softplus(fake_logits).mean()",
        "    return F.softplus(-fake_logits).mean()",
        "generator_loss_minimax",
        "non-saturating",
        id="vanilla-minimax-written-nonsaturating",
    ),
    pytest.param(
        "vanilla_gan",
        "    return -F.softplus(fake_logits).mean()",
        "    return -F.softplus(fake_logits.detach()).mean() + 0 * fake_logits.sum()",
        "generator_loss_minimax",
        "right values but the wrong gradient",
        id="vanilla-minimax-right-values-detached-gradient",
    ),
    pytest.param(
        "wgan",
        "    return score_fake.mean() - score_real.mean()",
        "    return score_real.mean() - score_fake.mean()",
        "critic_loss",
        "sign",
        id="wgan-critic-sign",
    ),
    pytest.param(
        "wgan",
        "    return -score_fake.mean()",
        "    return score_fake.mean()",
        "generator_loss",
        "sign",
        id="wgan-generator-sign",
    ),
    pytest.param(
        "cwgan_gp",
        "    return score_fake.mean() - score_real.mean()",
        "    return score_real.mean() - score_fake.mean()",
        "wasserstein_losses",
        "get_WLoss_discriminator: the sign",
        id="cwgan-critic-sign",
    ),
    pytest.param(
        "cwgan_gp",
        "    return -score_fake.mean()",
        "    return score_fake.mean()",
        "wasserstein_losses",
        "get_WLoss_generator: the sign",
        id="cwgan-generator-sign",
    ),
    pytest.param(
        "dcgan",
        "    real_term = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))\n"
        "    return real_term + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))",
        "    real_term = -torch.log(torch.sigmoid(real_logits)).mean()\n"
        "    return real_term - torch.log(1 - torch.sigmoid(fake_logits)).mean()",
        "discriminator_loss",
        "inf or NaN at logits of ±100",
        id="dcgan-sigmoid-then-log",
    ),
    pytest.param(
        "cdcgan",
        "    real_term = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))\n"
        "    return real_term + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))",
        "    bce = torch.nn.BCELoss()\n"
        "    real_term = bce(torch.sigmoid(real_logits), torch.ones_like(real_logits))\n"
        "    return real_term + bce(torch.sigmoid(fake_logits), torch.zeros_like(fake_logits))",
        "discriminator_loss",
        "±100",
        id="cdcgan-bceloss-of-sigmoid",
    ),
    pytest.param(
        "vanilla_gan",
        "    return F.softplus(-fake_logits).mean()",
        "    return F.softplus(-fake_logits).mean().item()",
        "generator_loss_nonsaturating",
        ".item()",
        id="vanilla-item-number",
    ),
    pytest.param(
        "dcgan",
        BCE_G,
        "    return torch.tensor(F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits)).item())",
        "generator_loss",
        "no autograd graph",
        id="dcgan-item-rewrapped-tensor",
    ),
    pytest.param(
        "vanilla_gan",
        BCE_D,
        "    logits = torch.cat([real_logits, fake_logits])\n"
        "    targets = torch.cat([torch.ones_like(real_logits), torch.zeros_like(fake_logits)])\n"
        "    return F.binary_cross_entropy_with_logits(logits, targets)",
        "discriminator_loss",
        "averages the real and fake batches together",
        id="vanilla-d-loss-averages-batches-together",
    ),
    pytest.param(
        "vanilla_gan",
        BCE_D,
        "    return (F.softplus(-real_logits) + F.softplus(fake_logits).mean()).sum()",
        "discriminator_loss",
        "should be the mean BCE",
        id="vanilla-d-loss-sums-the-real-batch",
    ),
    pytest.param(
        "optimal_d",
        "    return p_data / (p_data + p_g)",
        "    return p_g / (p_data + p_g)",
        "optimal_discriminator",
        "swapped",
        id="optimal-discriminator-swapped",
    ),
    pytest.param(
        "optimal_d",
        "    return p_data / (p_data + p_g)",
        "    return p_data / (p_data + p_g + 1e-8)",
        "optimal_discriminator",
        "near 0",
        id="optimal-discriminator-eps",
    ),
    pytest.param(
        "optimal_d",
        "    return torch.log(d_real).mean() + torch.log1p(-d_fake).mean()",
        "    return -(torch.log(d_real).mean() + torch.log1p(-d_fake).mean())",
        "gan_value",
        "sign",
        id="gan-value-sign",
    ),
    pytest.param(
        "optimal_d",
        "    return torch.log(d_real).mean() + torch.log1p(-d_fake).mean()",
        "    return torch.cat([torch.log(d_real), torch.log1p(-d_fake)]).mean()",
        "gan_value",
        "own batch",
        id="gan-value-one-mean",
    ),
]


# Wrong only at the extremes (logits of ±100, densities near 0): a side property, which costs its share only.
EXTREMES_ONLY = {"dcgan-sigmoid-then-log", "cdcgan-bceloss-of-sigmoid", "optimal-discriminator-eps"}


def also_judged_by(task_id: str, function: str) -> set[str]:
    """The optimal-D checks of the task that use `function` too (kinds `optimal_d` and `trained_optimal_d`). The
    catalogue tests it in two kinds of check, so its fault may cost both; those are left out of the "nothing
    elsewhere" assertion, and every other check must stay whole."""
    return {
        check.id
        for check in CATALOGUE[task_id].checks
        if check.kind in ("optimal_d", "trained_optimal_d")
        and function in (check.params.get("functions", []) + [check.params.get("function")])
    }


@pytest.mark.parametrize(("task_id", "old", "new", "failing", "words"), BUGS)
def test_bug_costs_its_check_by_severity_and_nothing_elsewhere(
    grade: Grade, request: pytest.FixtureRequest, task_id: str, old: str, new: str, failing: str, words: str
) -> None:
    side = request.node.callspec.id in EXTREMES_ONLY
    results = grade(task_id, static_checks(task_id), with_bug(task_id, old, new))
    function = next(c for c in CATALOGUE[task_id].checks if c.id == failing).params["function"]
    shared = set().union(*(also_judged_by(task_id, f) for f in ([function] if isinstance(function, str) else function)))
    graded = [result for check_id, result in results.items() if check_id not in shared]
    assert_only_faults(graded, task_id, [Fault(failing, words, at_least=0.0 if side else PRIMARY, side=side)])


def test_partial_credit_keeps_the_right_parts(grade: Grade) -> None:
    """sigmoid-then-log is right on ordinary logits, .item() gives right values: each keeps some points."""
    unstable = with_bug(
        "dcgan",
        BCE_D,
        "    real_term = -torch.log(torch.sigmoid(real_logits)).mean()\n"
        "    return real_term - torch.log(1 - torch.sigmoid(fake_logits)).mean()",
    )
    item = with_bug(
        "vanilla_gan", "    return F.softplus(-fake_logits).mean()", "    return F.softplus(-fake_logits).mean().item()"
    )
    for result in (
        grade("dcgan", ["discriminator_loss"], unstable)["discriminator_loss"],
        grade("vanilla_gan", ["generator_loss_nonsaturating"], item)["generator_loss_nonsaturating"],
    ):
        assert result.status == "partial", result.message


# (task, old, new): correct in another style, full marks on every loss check of the task.
STYLES = [
    pytest.param(
        "vanilla_gan",
        BCE_D,
        "    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()",
        id="softplus",
    ),
    pytest.param(
        "vanilla_gan",
        BCE_D,
        "    real_term = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))\n"
        "    return (real_term + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))) / 2",
        id="halved-d-loss",
    ),
    pytest.param(
        "dcgan",
        BCE_D,
        "    def bce(x, t):\n"
        "        return (x.clamp(min=0) - x * t + torch.log1p(torch.exp(-x.abs()))).mean()\n"
        "    return bce(real_logits, 1.0) + bce(fake_logits, 0.0)",
        id="max-x-0-form",
    ),
    pytest.param(
        "vanilla_gan",
        "    return F.softplus(-fake_logits).mean()",
        "    return -F.logsigmoid(fake_logits).mean()",
        id="logsigmoid-nonsaturating",
    ),
    pytest.param(
        "vanilla_gan",
        "    return -F.softplus(fake_logits).mean()",
        "    return F.logsigmoid(-fake_logits).mean().reshape(1)",
        id="logsigmoid-minimax-one-element",
    ),
    pytest.param(
        "cdcgan",
        BCE_G,
        "    return torch.nn.BCEWithLogitsLoss()(fake_logits.double(), torch.ones_like(fake_logits).double())",
        id="float64-bcewithlogits-module",
    ),
    pytest.param(
        "cwgan_gp",
        "    return score_fake.mean() - score_real.mean()",
        "    return -(torch.mean(score_real) - torch.mean(score_fake))",
        id="wasserstein-rewritten",
    ),
    pytest.param(
        "optimal_d",
        "    return p_data / (p_data + p_g)",
        "    return torch.sigmoid(torch.log(p_data) - torch.log(p_g))",
        id="optimal-discriminator-as-sigmoid-of-log-ratio",
    ),
    pytest.param(
        "optimal_d",
        "    return torch.log(d_real).mean() + torch.log1p(-d_fake).mean()",
        "    return torch.mean(torch.log(d_real)) + torch.mean(torch.log(1 - d_fake))",
        id="gan-value-log-one-minus",
    ),
]


@pytest.mark.parametrize(("task_id", "old", "new"), STYLES)
def test_correct_styles_get_full_marks(grade: Grade, task_id: str, old: str, new: str) -> None:
    for check_id, result in grade(task_id, LOSS_CHECKS[task_id], with_bug(task_id, old, new)).items():
        assert result.points == result.max_points, (check_id, result.message)


def test_a_message_shows_no_hidden_input_or_expected_number(grade: Grade) -> None:
    """The report may name the ±100 probe, never a drawn input or an expected value."""
    source = with_bug("wgan", "    return -score_fake.mean()", "    return -score_fake.mean() + 1e-3")
    message = grade("wgan", ["generator_loss"], source)["generator_loss"].message
    assert "generator_loss" in message
    assert set(re.findall(r"\d+(?:\.\d+)?", message)) <= {"100", "1000"}, message


def test_non_tensor_results_cost_points_without_breaking_the_check(grade: Grade) -> None:
    cases = {
        "    return -score_fake.mean()": "    return float('nan')",
        "    return score_fake.mean() - score_real.mean()": "    return (score_fake - score_real.mean())",
    }
    for old, new in cases.items():
        results = grade("wgan", ["critic_loss", "generator_loss"], with_bug("wgan", old, new))
        assert min(r.points / r.max_points for r in results.values()) < 1
        assert all(r.status != "not graded" for r in results.values())


def test_inputs_avoid_logit_zero_and_include_unequal_batches_and_extremes() -> None:
    for domain in ("logits", "scores"):
        drawn = examples(domain, 2, False, True)
        assert all((a != 0).all() for e in drawn for a in e.arrays)
        assert any(len(e.arrays[0]) != len(e.arrays[1]) for e in drawn if not e.extreme)
        assert any(e.extreme for e in drawn)
    assert examples("logits", 1, False, True) == examples("logits", 1, False, True)  # the same on every grade
    assert set(DOMAINS) == {"logits", "scores", "probabilities", "densities"}
