"""The `gradient_penalty` kind: exact on the reference and on another correct formulation, and each mistake
loses the criterion that names it, and only that one, while the task's train_step check keeps full marks."""

from __future__ import annotations

from typing import NamedTuple

import pytest

from grader.checks import load_all
from tests.grader.checks.conftest import CATALOGUE, SharedWorkers, reference_source, with_bug

TASK = "cwgan_gp"
EPS = "eps = torch.rand(len(real), *([1] * (real.dim() - 1)), device=real.device, generator=rng)"
NORM = "norms = grad.flatten(1).norm(dim=1)"
MEAN = "((norms - 1) ** 2).mean()"


@pytest.fixture(scope="module")
def grade(shared_workers: SharedWorkers) -> SharedWorkers:
    return shared_workers


def replace_penalty(body: str) -> str:
    """The reference with the solution of get_gradient_regularisation replaced by `body`."""
    source = reference_source(TASK)
    start = source.index("    # BEGIN SOLUTION", source.index("def get_gradient_regularisation("))
    end = source.index("    # END SOLUTION", start)
    return source[:start] + body + source[end:]


def test_the_reference_gets_full_marks(grade: SharedWorkers) -> None:
    result = grade.grade(TASK, "gradient_penalty")
    assert result.points == result.max_points, result.message


def test_another_correct_formulation_gets_full_marks(grade: SharedWorkers) -> None:
    # ε on the fake side, expanded to the image shape; grad_outputs instead of .sum(); view + norm(2, dim=1).
    body = """
    B = real.size(0)
    eps = torch.rand(B, 1, 1, 1, generator=rng).expand_as(real)
    x_hat = eps * fake.detach() + (1 - eps) * real.detach()
    x_hat.requires_grad_(True)
    scores = critic(x_hat, y)
    grad = torch.autograd.grad(
        outputs=scores, inputs=x_hat, grad_outputs=torch.ones_like(scores), create_graph=True, retain_graph=True
    )[0]
    return lam * ((grad.view(B, -1).norm(2, dim=1) - 1) ** 2).mean()
"""
    result = grade.grade(TASK, "gradient_penalty", replace_penalty(body))
    assert result.points == result.max_points, result.message


class Mistake(NamedTuple):
    name: str
    old: str
    new: str
    phrase: str  # in the message of the criterion that names the mistake
    # A check of the task that keeps full marks. Labels the penalty drops also reach the critic inside
    # train_step, whose check rightly sees that.
    control: str = "train_step"


MISTAKES = [
    Mistake("ε per pixel", EPS, "eps = torch.rand(real.shape, device=real.device, generator=rng)", "not one per pixel"),
    Mistake("one ε per batch", EPS, "eps = torch.rand(1, device=real.device, generator=rng)", "for each sample"),
    Mistake("norm over the channels only", NORM, "norms = grad.norm(2, dim=1)", "all non-batch dimensions"),
    Mistake(
        "no create_graph",
        "critic(mixed, y).sum(), mixed, create_graph=True)",
        "critic(mixed, y).sum(), mixed)",
        "create_graph=True",
    ),
    Mistake(
        "labels replaced",
        "critic(mixed, y).sum()",
        "critic(mixed, torch.zeros_like(y)).sum()",
        "pass the labels",
        control="wasserstein_losses",
    ),
    Mistake("one-sided", MEAN, "(torch.clamp(norms - 1, min=0) ** 2).mean()", "two-sided"),
    Mistake("fixed λ", "return lam * ((norms", "return 10.0 * ((norms", "the lam argument"),
    Mistake("sum over the batch", MEAN, "((norms - 1) ** 2).sum()", "instead of summing"),
    Mistake("squared norm", NORM, "norms = grad.flatten(1).pow(2).sum(dim=1)", "not its square"),
]


@pytest.mark.parametrize("mistake", MISTAKES, ids=[m.name for m in MISTAKES])
def test_each_mistake_costs_its_own_criterion(grade: SharedWorkers, mistake: Mistake) -> None:
    source = with_bug(TASK, mistake.old, mistake.new)
    result = grade.grade(TASK, "gradient_penalty", source)
    assert 0 < result.points < result.max_points, result.message
    assert mistake.phrase in result.message and "; " not in result.message, result.message
    control = next(c for c in CATALOGUE[TASK].checks if c.id == mistake.control)
    if control.kind in load_all():  # a control of a kind written elsewhere may not exist yet
        result = grade.grade(TASK, mistake.control, source)
        assert result.points == result.max_points, result.message


def test_a_penalty_that_raises_scores_zero_with_its_error(grade: SharedWorkers) -> None:
    result = grade.grade(TASK, "gradient_penalty", replace_penalty("    raise NotImplementedError('todo')\n"))
    assert result.points == 0 and "NotImplementedError: todo" in result.message


def test_a_penalty_that_is_a_python_float_scores_zero(grade: SharedWorkers) -> None:
    source = with_bug(TASK, f"return lam * {MEAN}", f"return float(lam * {MEAN})")
    result = grade.grade(TASK, "gradient_penalty", source)
    assert result.points == 0 and "must be a torch.Tensor" in result.message


def test_a_penalty_that_fails_on_attached_fakes_loses_that_criterion_only(grade: SharedWorkers) -> None:
    # .numpy() works on a plain tensor but not on one that is part of G's graph.
    source = with_bug(TASK, "(1 - eps) * fake.detach()", "(1 - eps) * torch.from_numpy(fake.cpu().numpy())")
    result = grade.grade(TASK, "gradient_penalty", source)
    assert 0 < result.points < result.max_points
    assert result.message.startswith("get_gradient_regularisation raised RuntimeError") and "; " not in result.message
