"""Public sanity tests for cwgan_gp.py: shapes, conditioning, the Wasserstein losses by hand, the gradient
penalty of a linear critic, generate and one tiny training step.

Run them with `pytest tests/test_cwgan_gp.py`. Passing them means your code has the right shape; the grader
then checks the formulas on its own inputs, the step semantics and a brief training run.
"""

import math

import cwgan_gp as student
import numpy as np
import torch

from gankit.common import evaluating, one_hot, sample_latent


def _snapshot(module: torch.nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in module.parameters()]


def _changed(before: list[torch.Tensor], module: torch.nn.Module) -> bool:
    return any(not torch.equal(b, p.detach()) for b, p in zip(before, module.parameters(), strict=True))


class LinearCritic(torch.nn.Module):
    """C(x, y) = <w, x> + <v, y>: its input gradient is w everywhere, so the penalty is lam · (‖w‖ − 1)²."""

    def __init__(self, norm: float) -> None:
        super().__init__()
        w = torch.randn(1, 28, 28)
        self.w = torch.nn.Parameter(w * norm / w.norm())
        self.v = torch.nn.Parameter(torch.randn(10))

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        assert y.shape == (x.shape[0], 10), "the critic must be called as critic(x_hat, y) with the labels (B, 10)"
        return (x * self.w).flatten(1).sum(dim=1) + y @ self.v


def test_generator_output_shape_and_range() -> None:
    torch.manual_seed(0)
    G = student.Generator()
    images = G(sample_latent(4), one_hot(torch.tensor([0, 3, 7, 9])))
    assert images.shape == (4, 1, 28, 28), f"Generator must return (B, 1, 28, 28), got {tuple(images.shape)}"
    assert images.dtype == torch.float32, f"Generator must return float32 images, got {images.dtype}"
    assert images.min() >= -1 and images.max() <= 1, "Generator images must lie in [-1, 1]: end with tanh"


def test_generator_accepts_soft_labels_and_uses_them() -> None:
    torch.manual_seed(0)
    G = student.Generator()
    z = sample_latent(2)
    soft = 0.5 * one_hot(torch.tensor([1, 1])) + 0.5 * one_hot(torch.tensor([8, 8]))
    with evaluating(G):
        a = G(z, one_hot(torch.tensor([1, 1])))
        b = G(z, one_hot(torch.tensor([8, 8])))
        mixed = G(z, soft)
    assert mixed.shape == (2, 1, 28, 28), "Generator must accept soft label vectors (B, 10), not only one-hot ones"
    assert not torch.allclose(a, b), "Generator ignores y: the same z with different labels gives the same image"


def test_critic_returns_one_score_per_image_and_uses_the_label() -> None:
    torch.manual_seed(0)
    C = student.Critic()
    x = torch.rand(4, 1, 28, 28) * 2 - 1
    scores = C(x, one_hot(torch.tensor([0, 3, 7, 9])))
    assert scores.shape == (4,), f"Critic must return scores of shape (B,), got {tuple(scores.shape)}"
    assert scores.dtype == torch.float32, f"Critic must return float32 scores, got {scores.dtype}"
    with evaluating(C):
        a = C(x, one_hot(torch.tensor([2, 2, 2, 2])))
        b = C(x, one_hot(torch.tensor([6, 6, 6, 6])))
    assert not torch.allclose(a, b), "Critic ignores y: the same images with different labels get equal scores"


def test_critic_has_no_batchnorm() -> None:
    C = student.Critic()
    assert not any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in C.modules()), (
        "the critic must not use BatchNorm (the penalty is per sample): use LayerNorm, InstanceNorm or none"
    )


def test_wasserstein_losses_by_hand() -> None:
    score_real = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    score_fake = torch.tensor([0.5, -0.5], requires_grad=True)
    loss_D = student.get_WLoss_discriminator(score_real, score_fake)
    assert isinstance(loss_D, torch.Tensor) and loss_D.numel() == 1, "get_WLoss_discriminator must return a 0-d tensor"
    assert math.isclose(loss_D.item(), -2.0, rel_tol=1e-6), (
        f"get_WLoss_discriminator must be mean score_fake − mean score_real = −2 here, got {loss_D.item()}"
    )
    loss_G = student.get_WLoss_generator(torch.tensor([1.0, 3.0, -1.0, 1.0]))
    assert isinstance(loss_G, torch.Tensor) and loss_G.numel() == 1, "get_WLoss_generator must return a 0-d tensor"
    assert math.isclose(loss_G.item(), -1.0, rel_tol=1e-6), (
        f"get_WLoss_generator must be −mean score_fake = −1 here, got {loss_G.item()}"
    )
    loss_D.sum().backward()
    assert torch.allclose(score_real.grad, torch.full((3,), -1 / 3)), "d loss / d score_real must be −1/n"
    assert torch.allclose(score_fake.grad, torch.full((2,), 1 / 2)), "d loss / d score_fake must be +1/m"


def test_gradient_penalty_of_a_linear_critic() -> None:
    torch.manual_seed(0)
    critic = LinearCritic(norm=3.0)
    real = torch.rand(4, 1, 28, 28) * 2 - 1
    fake = torch.rand(4, 1, 28, 28) * 2 - 1
    y = one_hot(torch.tensor([0, 1, 2, 3]))
    penalty = student.get_gradient_regularisation(critic, real, fake, y, lam=10.0, rng=torch.Generator().manual_seed(0))
    assert isinstance(penalty, torch.Tensor) and penalty.numel() == 1, "the penalty must be a 0-d tensor"
    assert math.isclose(penalty.item(), 10.0 * (3.0 - 1.0) ** 2, rel_tol=1e-4), (
        f"for a linear critic with ‖w‖ = 3 the penalty is lam · (‖w‖ − 1)² = 40, got {penalty.item():.4f}: "
        "take the norm over all non-batch dimensions, two-sided, averaged over the batch, times lam"
    )
    penalty_half = student.get_gradient_regularisation(critic, real, fake, y, lam=2.0)
    assert math.isclose(penalty_half.item(), 2.0 * 4.0, rel_tol=1e-4), "the penalty must scale with lam"


def test_gradient_penalty_is_differentiable_in_the_critic() -> None:
    torch.manual_seed(0)
    critic = LinearCritic(norm=0.5)
    real = torch.rand(3, 1, 28, 28) * 2 - 1
    fake_source = torch.rand(3, 1, 28, 28, requires_grad=True)
    fake = fake_source * 2 - 1  # still attached to a graph, as fakes from G can be
    y = one_hot(torch.tensor([4, 5, 6]))
    penalty = student.get_gradient_regularisation(critic, real, fake, y, lam=10.0)
    assert penalty.requires_grad, "the penalty must keep the graph to the critic's weights: autograd.grad(create_graph)"
    penalty.backward()
    w = critic.w.detach()
    expected = 2 * 10.0 * (w.norm() - 1) * w / w.norm()  # d/dw lam (‖w‖ − 1)²
    assert critic.w.grad is not None, "the penalty's gradient must reach the critic's parameters"
    assert torch.allclose(critic.w.grad, expected, atol=1e-5), (
        "the penalty's gradient with respect to the critic's weights is wrong: use create_graph=True"
    )


def test_generate_shape_dtype_and_range() -> None:
    torch.manual_seed(0)
    G = student.Generator()
    images = student.generate(G, 5, 2, rng=torch.Generator().manual_seed(0))
    assert isinstance(images, np.ndarray), f"generate must return a numpy array, got {type(images).__name__}"
    assert images.shape == (5, 28, 28), f"generate must return (n, 28, 28), got {images.shape}"
    assert images.dtype == np.float32, f"generate must return float32, got {images.dtype}"
    assert images.min() >= 0 and images.max() <= 1, "generate must return values in [0, 1]: use to_unit_numpy"


def test_train_step_runs_and_updates_both_networks() -> None:
    torch.manual_seed(0)
    G, C = student.Generator(), student.Critic()
    opt_G = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.9))
    opt_C = torch.optim.Adam(C.parameters(), lr=2e-4, betas=(0.5, 0.9))
    real_batches = [torch.rand(4, 1, 28, 28) * 2 - 1 for _ in range(2)]
    label_batches = [torch.tensor([0, 3, 7, 9]), torch.tensor([1, 2, 5, 8])]
    before_G, before_C = _snapshot(G), _snapshot(C)
    out = student.train_step(
        G, C, opt_G, opt_C, real_batches, label_batches, lam=10.0, rng=torch.Generator().manual_seed(0)
    )
    assert isinstance(out, dict), f"train_step must return a dict, got {type(out).__name__}"
    for key in ("loss_D", "loss_G"):
        assert key in out, f"train_step must return the key {key!r}; got {sorted(out)}"
        assert isinstance(out[key], float), f"{key} must be a Python float (use .item()), got {type(out[key]).__name__}"
        assert math.isfinite(out[key]), f"{key} must be finite, got {out[key]}"
    assert _changed(before_C, C), "train_step must update the critic's parameters (step opt_C)"
    assert _changed(before_G, G), "train_step must update G's parameters (step opt_G)"
