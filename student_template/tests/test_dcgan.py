"""Public sanity tests for dcgan.py: shapes, closed-form loss values, generate and one tiny training step.

Run them with `pytest tests/test_dcgan.py`. Passing them means your code has the right shape; the grader then
checks the formulas and gradients on its own inputs, the step semantics and a brief training run.
"""

import math

import dcgan as student
import numpy as np
import torch

from gankit.common import sample_latent


def _snapshot(module: torch.nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in module.parameters()]


def _changed(before: list[torch.Tensor], module: torch.nn.Module) -> bool:
    return any(not torch.equal(b, p.detach()) for b, p in zip(before, module.parameters(), strict=True))


def _softplus(u: float) -> float:
    return math.log1p(math.exp(u))


def test_generator_output_shape_and_range() -> None:
    torch.manual_seed(0)
    G = student.Generator()
    images = G(sample_latent(4))
    assert images.shape == (4, 1, 28, 28), f"Generator must return (B, 1, 28, 28), got {tuple(images.shape)}"
    assert images.dtype == torch.float32, f"Generator must return float32 images, got {images.dtype}"
    assert images.min() >= -1 and images.max() <= 1, "Generator images must lie in [-1, 1]: end with tanh"


def test_generator_upsamples_with_transposed_convolutions() -> None:
    G = student.Generator()
    assert any(isinstance(m, torch.nn.ConvTranspose2d) for m in G.modules()), (
        "Generator must upsample with nn.ConvTranspose2d"
    )


def test_discriminator_returns_one_logit_per_image() -> None:
    torch.manual_seed(0)
    D = student.Discriminator()
    logits = D(torch.rand(4, 1, 28, 28) * 2 - 1)
    assert logits.shape == (4,), f"Discriminator must return logits of shape (B,), got {tuple(logits.shape)}"
    assert logits.dtype == torch.float32, f"Discriminator must return float32 logits, got {logits.dtype}"


def test_discriminator_loss_at_logit_zero() -> None:
    loss = student.discriminator_loss(torch.zeros(3), torch.zeros(5))
    assert isinstance(loss, torch.Tensor) and loss.numel() == 1, "discriminator_loss must return a 0-d tensor"
    value = float(loss)
    ok = math.isclose(value, math.log(4.0), rel_tol=1e-5) or math.isclose(value, math.log(2.0), rel_tol=1e-5)
    assert ok, f"discriminator_loss at logit 0 must be log 4 ≈ 1.386 (or half of it, log 2), got {value:.6f}"


def test_discriminator_loss_by_hand() -> None:
    real = torch.tensor([2.0, -1.0])
    fake = torch.tensor([0.5, -3.0, 1.0])
    expected = (_softplus(-2.0) + _softplus(1.0)) / 2 + (_softplus(0.5) + _softplus(-3.0) + _softplus(1.0)) / 3
    value = float(student.discriminator_loss(real, fake))
    ok = math.isclose(value, expected, rel_tol=1e-5) or math.isclose(value, expected / 2, rel_tol=1e-5)
    assert ok, (
        f"discriminator_loss must be mean BCE(real, 1) + mean BCE(fake, 0): expected {expected:.6f} "
        f"(or {expected / 2:.6f}), got {value:.6f}"
    )


def test_discriminator_loss_is_finite_at_extreme_logits() -> None:
    value = float(student.discriminator_loss(torch.full((4,), -100.0), torch.full((4,), 100.0)))
    assert math.isfinite(value), "discriminator_loss must stay finite at logits ±100: work on logits, not log(sigmoid)"
    assert math.isclose(value, 200.0, rel_tol=1e-3) or math.isclose(value, 100.0, rel_tol=1e-3), (
        f"discriminator_loss at real −100, fake +100 is 200 (or 100 halved), got {value}"
    )


def test_generator_loss_values() -> None:
    loss = student.generator_loss(torch.zeros(4))
    assert isinstance(loss, torch.Tensor) and loss.numel() == 1, "generator_loss must return a 0-d tensor"
    assert math.isclose(float(loss), math.log(2.0), rel_tol=1e-5), (
        f"generator_loss (non-saturating, −mean log σ(l)) is log 2 at logit 0, got {float(loss):.6f}"
    )
    logits = torch.tensor([2.0, -1.0, 0.5])
    expected = (_softplus(-2.0) + _softplus(1.0) + _softplus(-0.5)) / 3
    assert math.isclose(float(student.generator_loss(logits)), expected, rel_tol=1e-5), (
        f"generator_loss must be −mean log σ(l) = mean softplus(−l): expected {expected:.6f}"
    )


def test_losses_keep_the_graph() -> None:
    real = torch.randn(4, requires_grad=True)
    fake = torch.randn(4, requires_grad=True)
    assert student.discriminator_loss(real, fake).requires_grad, "discriminator_loss must keep the autograd graph"
    assert student.generator_loss(fake).requires_grad, "generator_loss must keep the autograd graph"


def test_generate_shape_dtype_and_range() -> None:
    torch.manual_seed(0)
    G = student.Generator()
    images = student.generate(G, 5, rng=torch.Generator().manual_seed(0))
    assert isinstance(images, np.ndarray), f"generate must return a numpy array, got {type(images).__name__}"
    assert images.shape == (5, 28, 28), f"generate must return (n, 28, 28), got {images.shape}"
    assert images.dtype == np.float32, f"generate must return float32, got {images.dtype}"
    assert images.min() >= 0 and images.max() <= 1, "generate must return values in [0, 1]: use to_unit_numpy"


def test_generate_is_replayable_with_rng() -> None:
    torch.manual_seed(0)
    G = student.Generator()
    first = student.generate(G, 3, rng=torch.Generator().manual_seed(7))
    second = student.generate(G, 3, rng=torch.Generator().manual_seed(7))
    assert np.allclose(first, second, atol=1e-6), (
        "generate with the same rng seed must give the same images: draw noise with sample_latent(n, device, rng) "
        "and sample in eval mode"
    )


def test_train_step_runs_and_updates_both_networks() -> None:
    torch.manual_seed(0)
    G, D = student.Generator(), student.Discriminator()
    opt_G = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_D = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    real = torch.rand(4, 1, 28, 28) * 2 - 1
    before_G, before_D = _snapshot(G), _snapshot(D)
    out = student.train_step(G, D, opt_G, opt_D, real, rng=torch.Generator().manual_seed(0))
    assert isinstance(out, dict), f"train_step must return a dict, got {type(out).__name__}"
    for key in ("loss_D", "loss_G", "d_acc_real", "d_acc_fake"):
        assert key in out, f"train_step must return the key {key!r}; got {sorted(out)}"
        assert isinstance(out[key], float), f"{key} must be a Python float (use .item()), got {type(out[key]).__name__}"
        assert math.isfinite(out[key]), f"{key} must be finite, got {out[key]}"
    for key in ("d_acc_real", "d_acc_fake"):
        assert 0.0 <= out[key] <= 1.0, f"{key} is a fraction and must lie in [0, 1], got {out[key]}"
    assert _changed(before_D, D), "train_step must update D's parameters (step opt_D)"
    assert _changed(before_G, G), "train_step must update G's parameters (step opt_G)"
