"""Public sanity tests for cwgan_gp.py: shapes, conditioning, the Wasserstein losses by hand, the gradient
penalty of a linear critic, generate and one tiny training step.

Run them with `pytest tests/test_cwgan_gp.py`. Passing them means your code has the right shape; the grader
then checks the formulas on its own inputs, the step semantics and a brief training run.
"""

import math

import cwgan_gp as student
import torch
from public_checks import (
    check_generate_contract,
    check_generator_images,
    check_generator_uses_soft_labels,
    check_one_score_per_image,
    check_train_step,
    check_uses_the_label,
    check_wasserstein_critic_loss,
    check_wasserstein_generator_loss,
    optimizers,
    random_images,
)

from gankit.common import one_hot, sample_latent


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
    check_generator_images(G(sample_latent(4), one_hot(torch.tensor([0, 3, 7, 9]))), size=28)


def test_generator_accepts_soft_labels_and_uses_them() -> None:
    torch.manual_seed(0)
    check_generator_uses_soft_labels(student.Generator(), size=28)


def test_critic_returns_one_score_per_image() -> None:
    torch.manual_seed(0)
    C = student.Critic()
    check_one_score_per_image(C(random_images(4, 28), one_hot(torch.tensor([0, 3, 7, 9]))), "Critic", "scores")


def test_critic_uses_the_label() -> None:
    torch.manual_seed(0)
    check_uses_the_label(student.Critic(), random_images(4, 28), "Critic", "scores")


def test_critic_has_no_batchnorm() -> None:
    C = student.Critic()
    assert not any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in C.modules()), (
        "the critic must not use BatchNorm (the penalty is per sample): use LayerNorm, InstanceNorm or none"
    )


def test_wloss_discriminator_by_hand() -> None:
    check_wasserstein_critic_loss(student.get_WLoss_discriminator)


def test_wloss_generator_by_hand() -> None:
    check_wasserstein_generator_loss(student.get_WLoss_generator)


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
    check_generate_contract(student.generate(student.Generator(), 5, 2, rng=torch.Generator().manual_seed(0)), 5, 28)


def test_train_step_runs_and_updates_both_networks() -> None:
    torch.manual_seed(0)
    G, C = student.Generator(), student.Critic()
    opt_G, opt_C = optimizers(torch.optim.Adam, G, C, lr=2e-4, betas=(0.5, 0.9))
    real_batches = [random_images(4, 28) for _ in range(2)]
    label_batches = [torch.tensor([0, 3, 7, 9]), torch.tensor([1, 2, 5, 8])]
    rng = torch.Generator().manual_seed(0)
    check_train_step(
        student.train_step, G, C, opt_G, opt_C, real_batches, label_batches, critic=True, lam=10.0, rng=rng
    )
