import numpy as np
import pytest
import torch

from gankit.common import one_hot
from reference import cwgan_gp


class LinearCritic(torch.nn.Module):
    """C(x, y) = <w, x> + <v, y>: its input gradient is w everywhere, so the penalty is λ(‖w‖ − 1)²."""

    def __init__(self, w: torch.Tensor) -> None:
        super().__init__()
        self.w = torch.nn.Parameter(w)
        self.v = torch.nn.Parameter(torch.randn(10))

    def forward(self, x, y):
        return (x * self.w).flatten(1).sum(1) + y @ self.v


class SquareCritic(torch.nn.Module):
    """C(x, y) = ½‖x‖²: its input gradient is x itself, so the penalty depends on where ε puts x̂."""

    def forward(self, x, y):
        return 0.5 * (x**2).flatten(1).sum(1)


def test_penalty_of_a_linear_critic_is_closed_form():
    torch.manual_seed(0)
    critic = LinearCritic(torch.randn(1, 28, 28) * 0.1)
    real, fake = torch.randn(4, 1, 28, 28), torch.randn(4, 1, 28, 28)
    penalty = cwgan_gp.get_gradient_regularisation(critic, real, fake, one_hot(torch.arange(4)), lam=10.0)
    norm = critic.w.detach().norm()
    assert penalty.item() == pytest.approx(10.0 * (norm.item() - 1) ** 2, rel=1e-5)
    penalty.backward()  # differentiable w.r.t. the critic's weights: d/dw λ(‖w‖−1)² = 2λ(‖w‖−1) w/‖w‖
    torch.testing.assert_close(critic.w.grad, 2 * 10.0 * (norm - 1) * critic.w.detach() / norm)


def test_penalty_draws_one_epsilon_per_sample():
    real, fake = torch.ones(3, 1, 28, 28), torch.zeros(3, 1, 28, 28, requires_grad=True)
    penalty = cwgan_gp.get_gradient_regularisation(
        SquareCritic(), real, fake, one_hot(torch.arange(3)), lam=2.0, rng=torch.Generator().manual_seed(5)
    )
    eps = torch.rand(3, 1, 1, 1, generator=torch.Generator().manual_seed(5))
    norms = eps.flatten() * 28  # x̂ = ε·1 everywhere, so ‖x̂‖ = ε·√784
    assert penalty.item() == pytest.approx(2.0 * ((norms - 1) ** 2).mean().item(), rel=1e-5)


def test_critic_sees_the_label_as_channels():
    C = cwgan_gp.Critic(width=8)
    assert C.body[0].in_channels == 11
    x = torch.randn(2, 1, 28, 28)
    assert not torch.equal(C(x, one_hot(torch.tensor([0, 0]))), C(x, one_hot(torch.tensor([5, 5]))))


def test_generate_contract():
    images = cwgan_gp.generate(cwgan_gp.Generator(width=8), 3, c=9)
    assert images.shape == (3, 28, 28) and images.dtype == np.float32
    assert 0 <= images.min() and images.max() <= 1


def test_train_step_runs_n_critic_updates_with_labels():
    torch.manual_seed(0)
    G, C = cwgan_gp.Generator(width=8), cwgan_gp.Critic(width=8)
    opt_G, opt_C = torch.optim.Adam(G.parameters()), torch.optim.Adam(C.parameters())
    steps = []
    opt_C.register_step_post_hook(lambda *_: steps.append("C"))
    opt_G.register_step_post_hook(lambda *_: steps.append("G"))
    reals = [torch.rand(4, 1, 28, 28) * 2 - 1 for _ in range(2)]
    labels = [torch.arange(4), torch.arange(4, 8)]
    result = cwgan_gp.train_step(G, C, opt_G, opt_C, reals, labels)
    assert steps == ["C", "C", "G"]
    assert result["gradient_penalty"] >= 0 and np.isfinite(list(result.values())).all()
