"""The trusted formulas: known values, the gradient properties the checks rely on, and the catalogue's names."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from gankit.catalogue import load_catalogue
from grader.formulas import FORMULAS, OPTIMAL_VALUE, evaluate

LOG2 = math.log(2.0)


def f32(*values: float) -> np.ndarray:
    return np.array(values, dtype=np.float32)


@pytest.mark.parametrize(
    ("name", "args", "expected"),
    [
        ("bce_discriminator", (f32(0, 0), f32(0, 0, 0)), 2 * LOG2),
        ("bce_discriminator", (f32(-100), f32(100)), 200.0),
        ("bce_discriminator", (f32(100), f32(-100)), 0.0),
        ("nonsaturating_generator", (f32(0),), LOG2),
        ("nonsaturating_generator", (f32(-100, -100),), 100.0),
        ("minimax_generator", (f32(0),), -LOG2),
        ("minimax_generator", (f32(100),), -100.0),
        ("wasserstein_critic", (f32(1, 3), f32(10, 20, 30)), 18.0),
        ("wasserstein_generator", (f32(1, 3),), -2.0),
        ("gan_value", (f32(0.5, 0.5), f32(0.5)), OPTIMAL_VALUE),
    ],
)
def test_values(name: str, args: tuple[np.ndarray, ...], expected: float) -> None:
    value, _ = evaluate(FORMULAS[name].function, args)
    assert value.dtype == np.float64
    assert value == pytest.approx(expected, abs=1e-12)


def test_optimal_discriminator_is_elementwise_and_exact_near_zero() -> None:
    value, _ = evaluate(FORMULAS["optimal_discriminator"].function, (f32(1e-30, 0, 3), f32(1e-30, 2, 0)))
    np.testing.assert_allclose(value, [0.5, 0.0, 1.0])


def test_generator_losses_differ_in_their_gradient_at_very_negative_logits() -> None:
    """The property the checks use to tell saturating from non-saturating: −1/m per sample versus ~0."""
    logits = f32(-100, -100, -100, -100)
    _, (nonsaturating,) = evaluate(FORMULAS["nonsaturating_generator"].function, (logits,), gradient=True)
    _, (minimax,) = evaluate(FORMULAS["minimax_generator"].function, (logits,), gradient=True)
    np.testing.assert_allclose(nonsaturating, -0.25)
    np.testing.assert_allclose(minimax, 0.0, atol=1e-40)


def test_bce_gradient_averages_each_batch_on_its_own() -> None:
    _, (real, fake) = evaluate(FORMULAS["bce_discriminator"].function, (f32(100, 100), f32(100, 100, 100, 100)), True)
    np.testing.assert_allclose(real, 0.0, atol=1e-40)
    np.testing.assert_allclose(fake, 0.25)


@pytest.mark.parametrize("name", sorted(FORMULAS))
def test_every_confusion_differs_from_its_formula(name: str) -> None:
    """A confusion equal to the formula would blame correct code; each must differ on ordinary inputs."""
    formula = FORMULAS[name]
    rng = np.random.default_rng(0)
    low, high = {"logits": (-3, 3), "scores": (-3, 3), "probabilities": (0.1, 0.9), "densities": (0.1, 3)}[
        formula.domain
    ]
    args = [rng.uniform(low, high, size).astype(np.float32) for size in (3, 5)[: len(formula.inputs)]]
    if formula.elementwise:
        args = [a[:3] for a in args]
    value, _ = evaluate(formula.function, args)
    for confusion in formula.confusions:
        other, _ = evaluate(confusion.function, args)
        for scale in formula.scales:
            assert not np.allclose(other, scale * value), confusion.hint


def test_evaluate_returns_float64_gradients_of_the_sum() -> None:
    value, grads = evaluate(lambda a, b: (a * b).sum(), (f32(1, 2), f32(3, 4)), gradient=True)
    assert value == 11.0
    assert [g.tolist() for g in grads] == [[3.0, 4.0], [1.0, 2.0]]
    assert all(g.dtype == np.float64 for g in grads)


def test_every_formula_the_catalogue_names_exists() -> None:
    names = set()
    for task in load_catalogue().values():
        for check in task.checks:
            if check.kind == "loss_formula":
                functions = check.params["function"]
                for function in functions if isinstance(functions, list) else [functions]:
                    names.add(task.named(function).formula)
    assert names and names <= set(FORMULAS)


def test_formulas_are_torch_functions_of_tensors() -> None:
    """The checks evaluate them with autograd: each returns a tensor that depends on its inputs."""
    for formula in FORMULAS.values():
        inputs = [torch.full((3,), 0.25, dtype=torch.float64, requires_grad=True) for _ in formula.inputs]
        output = formula.function(*inputs)
        assert isinstance(output, torch.Tensor) and output.grad_fn is not None
