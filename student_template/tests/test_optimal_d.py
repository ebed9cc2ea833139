"""Public sanity tests for optimal_d.py: closed-form values of D*, the Monte-Carlo value V and −log 4.

Run them with `pytest tests/test_optimal_d.py`. Passing them means your functions have the right shape and
the textbook values; the grader checks more inputs of its own.
"""

import math

import optimal_d as student
import torch
from public_checks import assert_scalar


def test_optimal_discriminator_value() -> None:
    d = student.optimal_discriminator(torch.tensor(0.3), torch.tensor(0.1))
    assert isinstance(d, torch.Tensor), f"optimal_discriminator must return a tensor, got {type(d).__name__}"
    assert math.isclose(float(d), 0.75, rel_tol=1e-5), f"D* for p_data = 0.3, p_g = 0.1 is 0.75, got {float(d)}"


def test_optimal_discriminator_elementwise_shape_and_range() -> None:
    torch.manual_seed(0)
    p_data = torch.rand(2, 3) + 0.01
    p_g = torch.rand(2, 3) + 0.01
    d = student.optimal_discriminator(p_data, p_g)
    assert isinstance(d, torch.Tensor), f"optimal_discriminator must return a tensor, got {type(d).__name__}"
    assert d.shape == (2, 3), f"optimal_discriminator must keep the input shape (2, 3), got {tuple(d.shape)}"
    assert bool(((d >= 0) & (d <= 1)).all()), "D* values must lie in [0, 1]"
    expected = p_data / (p_data + p_g)
    assert torch.allclose(d, expected, atol=1e-6), "optimal_discriminator must be p_data / (p_data + p_g) elementwise"


def test_optimal_discriminator_equal_densities_is_half() -> None:
    p = torch.tensor([0.2, 1.0, 5.0])
    d = student.optimal_discriminator(p, p.clone())
    assert torch.allclose(d, torch.full((3,), 0.5)), f"when p_g = p_data, D* must be 1/2 everywhere, got {d.tolist()}"


def test_gan_value_at_half_is_minus_log_4() -> None:
    # D ≡ 1/2 on batches of different sizes: V = log 1/2 + log 1/2 = −log 4.
    d_real = torch.full((3,), 0.5)
    d_fake = torch.full((5,), 0.5)
    value = student.gan_value(d_real, d_fake)
    assert_scalar(value, "gan_value")
    assert math.isclose(float(value), -math.log(4.0), rel_tol=1e-5), f"V at D = 1/2 is −log 4, got {float(value)}"


def test_gan_value_by_hand_with_different_batch_sizes() -> None:
    d_real = torch.tensor([0.9, 0.6])
    d_fake = torch.tensor([0.2, 0.4, 0.1])
    expected = (math.log(0.9) + math.log(0.6)) / 2 + (math.log(0.8) + math.log(0.6) + math.log(0.9)) / 3
    value = student.gan_value(d_real, d_fake)
    assert math.isclose(float(value), expected, rel_tol=1e-5), (
        f"gan_value must be mean log d_real + mean log(1 − d_fake), each mean over its own tensor: "
        f"expected {expected:.6f}, got {float(value):.6f}"
    )


def test_gan_value_keeps_the_autograd_graph() -> None:
    d_real = torch.tensor([0.7, 0.4], requires_grad=True)
    d_fake = torch.tensor([0.3], requires_grad=True)
    value = student.gan_value(d_real, d_fake)
    assert value.requires_grad, "gan_value must keep the autograd graph: stay in torch, no .item(), no .detach()"
    value.sum().backward()
    # dV/dd_real_i = 1 / (n d_real_i), dV/dd_fake_j = −1 / (m (1 − d_fake_j))
    assert torch.allclose(d_real.grad, torch.tensor([1 / (2 * 0.7), 1 / (2 * 0.4)]), rtol=1e-4), (
        "the gradient of gan_value with respect to d_real must be 1 / (n · d_real)"
    )
    assert torch.allclose(d_fake.grad, torch.tensor([-1 / 0.7]), rtol=1e-4), (
        "the gradient of gan_value with respect to d_fake must be −1 / (m · (1 − d_fake))"
    )


def test_optimal_value_is_minus_log_4() -> None:
    value = float(student.optimal_value())
    assert math.isclose(value, -math.log(4.0), rel_tol=1e-6), f"optimal_value() must be −log 4 ≈ -1.3863, got {value}"


def test_optimal_discriminator_gives_optimal_value_when_densities_match() -> None:
    p = torch.tensor([0.1, 0.4, 0.2, 0.3])
    d = student.optimal_discriminator(p, p.clone())
    value = student.gan_value(d, d)
    assert math.isclose(float(value), float(student.optimal_value()), rel_tol=1e-5), (
        "with p_g = p_data, gan_value(D*, D*) must equal optimal_value()"
    )
