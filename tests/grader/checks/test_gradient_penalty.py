"""The `gradient_penalty` kind: exact on the reference, on another correct formulation and on signatures
without the optional parameters; each mistake costs this check (at least half for the penalty's own
properties) and no other check of the task."""

from __future__ import annotations

from typing import NamedTuple

import pytest

from tests.grader.checks.conftest import (
    SharedWorkers,
    assert_costs_only,
    reference_source,
    signature_variant,
    static_checks,
    with_bug,
)

TASK = "cwgan_gp"
EPS = "eps = torch.rand(len(real), *([1] * (real.dim() - 1)), device=real.device, generator=rng)"
NORM = "norms = grad.flatten(1).norm(dim=1)"
MEAN = "((norms - 1) ** 2).mean()"
PRIMARY = 0.5  # a fault of the penalty's value, ε, create_graph or labels costs at least half (SPEC: severity)
SIDE = 0.05


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
    at_least: float = PRIMARY  # the fraction of the check it must cost


MISTAKES = [
    Mistake("ε per pixel", EPS, "eps = torch.rand(real.shape, device=real.device, generator=rng)", "not one per pixel"),
    Mistake("one ε per batch", EPS, "eps = torch.rand(1, device=real.device, generator=rng)", "for each sample"),
    Mistake("ε ~ N(0, 1)", EPS, EPS.replace("torch.rand(", "torch.randn("), "on the segment between them"),
    Mistake("norm over the channels only", NORM, "norms = grad.norm(2, dim=1)", "all non-batch dimensions"),
    Mistake(
        "no create_graph",
        "critic(mixed, y).sum(), mixed, create_graph=True)",
        "critic(mixed, y).sum(), mixed)",
        "create_graph=True",
    ),
    Mistake("labels replaced", "critic(mixed, y).sum()", "critic(mixed, torch.zeros_like(y)).sum()", "pass the labels"),
    Mistake("one-sided", MEAN, "(torch.clamp(norms - 1, min=0) ** 2).mean()", "two-sided"),
    Mistake("fixed λ", "return lam * ((norms", "return 10.0 * ((norms", "the lam argument"),
    Mistake("λ ignored", "return lam * ((norms", "return ((norms", "multiply the mean by lam"),
    Mistake("sum over the batch", MEAN, "((norms - 1) ** 2).sum()", "instead of summing"),
    Mistake("squared norm", NORM, "norms = grad.flatten(1).pow(2).sum(dim=1)", "not its square"),
    # Works only while fake still carries G's graph: x̂ then requires grad without being told to.
    Mistake(
        "raises on detached fakes",
        "mixed = (eps * real + (1 - eps) * fake.detach()).requires_grad_(True)",
        "mixed = eps * real + (1 - eps) * fake",
        "get_gradient_regularisation raised RuntimeError",
        SIDE,
    ),
    Mistake(
        "fails on attached fakes",
        "(1 - eps) * fake.detach()",
        "(1 - eps) * torch.from_numpy(fake.cpu().numpy())",
        "get_gradient_regularisation raised RuntimeError",
        SIDE,
    ),
]


@pytest.mark.parametrize("mistake", MISTAKES, ids=[m.name for m in MISTAKES])
def test_each_mistake_costs_its_own_check_and_no_other(grade: SharedWorkers, mistake: Mistake) -> None:
    results = grade.results(TASK, static_checks(TASK), with_bug(TASK, mistake.old, mistake.new))
    result = assert_costs_only(results, "gradient_penalty", mistake.at_least)
    assert mistake.phrase in result.message and "; " not in result.message, result.message
    if mistake.at_least < PRIMARY:
        assert result.points / result.max_points > 1 - PRIMARY, result.message


SIGNATURE = "    lam: float = 10.0,\n    rng: torch.Generator | None = None,\n) -> torch.Tensor:"
SIGNATURES = {
    "no rng": ("    lam: float = 10.0,\n) -> torch.Tensor:", {"generator=rng": "generator=None"}),
    "no lam, λ = 10 inside": (
        ") -> torch.Tensor:",
        {"generator=rng": "generator=None", "return lam *": "return 10.0 *"},
    ),
    "lambda_gp instead of lam": (
        "    lambda_gp: float = 10.0,\n) -> torch.Tensor:",
        {"generator=rng": "generator=None", "return lam *": "return lambda_gp *"},
    ),
    "*args and **kwargs": (
        "    *args,\n    **kwargs,\n) -> torch.Tensor:",
        {"generator=rng": "generator=kwargs.get('rng')", "return lam *": "return kwargs.get('lam', 10.0) *"},
    ),
}


@pytest.mark.parametrize("variant", sorted(SIGNATURES))
def test_a_signature_without_the_optional_parameters_keeps_full_math_points(grade: SharedWorkers, variant: str) -> None:
    new, renames = SIGNATURES[variant]
    source = signature_variant(TASK, "get_gradient_regularisation", SIGNATURE, new, renames)
    result = grade.grade(TASK, "gradient_penalty", source)
    assert result.points == result.max_points, result.message


def test_a_penalty_that_raises_scores_zero_with_its_error(grade: SharedWorkers) -> None:
    result = grade.grade(TASK, "gradient_penalty", replace_penalty("    raise NotImplementedError('todo')\n"))
    assert result.points == 0 and "NotImplementedError: todo" in result.message


def test_a_penalty_that_is_a_python_float_scores_zero(grade: SharedWorkers) -> None:
    source = with_bug(TASK, f"return lam * {MEAN}", f"return float(lam * {MEAN})")
    result = grade.grade(TASK, "gradient_penalty", source)
    assert result.points == 0 and "must be a torch.Tensor" in result.message
