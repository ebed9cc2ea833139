import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from reference import optimal_d

densities = st.lists(st.floats(1e-6, 10.0), min_size=1, max_size=16)
probabilities = st.lists(st.floats(1e-6, 1 - 1e-6), min_size=1, max_size=16)


def test_optimal_discriminator_by_hand():
    p_data = torch.tensor([0.3, 0.2, 0.0, 0.5])
    p_g = torch.tensor([0.1, 0.2, 0.4, 0.0])
    expected = torch.tensor([0.75, 0.5, 0.0, 1.0])
    assert torch.equal(optimal_d.optimal_discriminator(p_data, p_g), expected)


def test_optimal_discriminator_keeps_the_shape():
    p = torch.rand(3, 5) + 0.1
    assert optimal_d.optimal_discriminator(p, 3 * p).shape == (3, 5)
    assert torch.allclose(optimal_d.optimal_discriminator(p, 3 * p), torch.full((3, 5), 0.25))


@settings(max_examples=50, deadline=None)
@given(p=densities, q=densities)
def test_optimal_discriminator_is_symmetric_in_the_two_densities(p, q):
    n = min(len(p), len(q))
    p, q = torch.tensor(p[:n], dtype=torch.float64), torch.tensor(q[:n], dtype=torch.float64)
    d_star = optimal_d.optimal_discriminator(p, q)
    assert torch.allclose(d_star + optimal_d.optimal_discriminator(q, p), torch.ones(n, dtype=torch.float64))
    assert ((d_star >= 0) & (d_star <= 1)).all()


def test_value_at_d_one_half_is_minus_log_4_for_any_batch_sizes():
    value = optimal_d.gan_value(torch.full((7,), 0.5), torch.full((3,), 0.5))
    assert value.dim() == 0
    assert value.item() == pytest.approx(-math.log(4))
    assert optimal_d.optimal_value() == pytest.approx(-math.log(4))
    assert isinstance(optimal_d.optimal_value(), float)


@settings(max_examples=50, deadline=None)
@given(real=probabilities, fake=probabilities)
def test_gan_value_matches_its_formula_in_value_and_gradient(real, fake):
    d_real = torch.tensor(real, dtype=torch.float64, requires_grad=True)
    d_fake = torch.tensor(fake, dtype=torch.float64, requires_grad=True)
    value = optimal_d.gan_value(d_real, d_fake)
    expected = sum(math.log(d) for d in real) / len(real) + sum(math.log1p(-d) for d in fake) / len(fake)
    assert value.item() == pytest.approx(expected, rel=1e-9, abs=1e-12)
    value.backward()
    # d/dD of mean log D is 1/(N D); of mean log(1 − D) it is −1/(M (1 − D)).
    assert torch.allclose(d_real.grad, 1 / (len(real) * d_real.detach()))
    assert torch.allclose(d_fake.grad, -1 / (len(fake) * (1 - d_fake.detach())))


def test_optimal_discriminator_beats_others_on_two_gaussians():
    normal_data, normal_g = torch.distributions.Normal(0.0, 1.0), torch.distributions.Normal(1.5, 1.0)
    generator = torch.Generator().manual_seed(0)
    x_real = torch.randn(200_000, generator=generator, dtype=torch.float64)
    x_fake = 1.5 + torch.randn(200_000, generator=generator, dtype=torch.float64)

    def d_star(x: torch.Tensor) -> torch.Tensor:
        return optimal_d.optimal_discriminator(normal_data.log_prob(x).exp(), normal_g.log_prob(x).exp())

    best = optimal_d.gan_value(d_star(x_real), d_star(x_fake)).item()
    # V(D*, G) = −log 4 + 2 JSD(p_data ‖ p_g) > −log 4 when the densities differ.
    assert best > optimal_d.optimal_value() + 0.1
    for other in (lambda x: torch.full_like(x, 0.5), lambda x: torch.sigmoid(-x), lambda x: d_star(x) ** 2):
        assert optimal_d.gan_value(other(x_real), other(x_fake)).item() < best
    # Equal densities: D* ≡ ½ and V = −log 4.
    p_real = normal_data.log_prob(x_real).exp()
    same = optimal_d.optimal_discriminator(p_real, p_real)
    assert optimal_d.gan_value(same, same).item() == pytest.approx(optimal_d.optimal_value())
