import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gankit.common import evaluating, one_hot, to_unit_numpy
from reference import cdcgan

logits = st.lists(st.floats(-100, 100, allow_nan=False), min_size=1, max_size=16)


@pytest.fixture(scope="module")
def networks():
    torch.manual_seed(0)
    return cdcgan.Generator(width=16), cdcgan.Discriminator(width=16)


def test_losses_at_logit_zero():
    zero = torch.zeros(4)
    assert cdcgan.discriminator_loss(zero, zero).item() == pytest.approx(math.log(4))
    assert cdcgan.generator_loss(zero).item() == pytest.approx(math.log(2))


@settings(max_examples=50, deadline=None)
@given(real=logits, fake=logits)
def test_losses_match_closed_forms_and_stay_finite(real, fake):
    real_t = torch.tensor(real, dtype=torch.float64, requires_grad=True)
    fake_t = torch.tensor(fake, dtype=torch.float64, requires_grad=True)
    loss = cdcgan.discriminator_loss(real_t, fake_t) + cdcgan.generator_loss(fake_t)
    softplus = torch.nn.functional.softplus
    expected = softplus(-real_t).mean() + softplus(fake_t).mean() + softplus(-fake_t).mean()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-9, abs=1e-9)
    loss.backward()
    assert torch.isfinite(real_t.grad).all() and torch.isfinite(fake_t.grad).all()


def test_network_shapes_and_ranges(networks):
    G, D = networks
    y = one_hot(torch.arange(6) % 10)
    images = G(torch.randn(6, 100), y)
    assert images.shape == (6, 1, 32, 32) and images.abs().max() <= 1
    assert D(images, y).shape == (6,)


def test_discriminator_uses_spectral_norm(networks):
    _, D = networks
    assert any("parametrizations" in name for name, _ in D.named_parameters())


def test_make_optimizers_follow_the_seed(networks):
    G, D = networks
    opt_G, opt_D = cdcgan.make_optimizers(G, D)
    for opt, net in ((opt_G, G), (opt_D, D)):
        assert isinstance(opt, torch.optim.Adam)
        assert opt.defaults["lr"] == 1e-4 and opt.defaults["betas"] == (0.5, 0.999)
        assert {id(p) for group in opt.param_groups for p in group["params"]} == {id(p) for p in net.parameters()}


def test_generate_contract(networks):
    G, _ = networks
    images = cdcgan.generate(G, 5, c=3, rng=torch.Generator().manual_seed(0))
    assert images.shape == (5, 32, 32) and images.dtype == np.float32
    assert images.min() >= 0 and images.max() <= 1
    assert G.training  # generate restores the mode it found


def test_interpolation_endpoints_are_the_two_samples(networks):
    G, _ = networks
    z0, z1 = torch.randn(2, 100)
    strip = cdcgan.interpolate(G, z0, z1, 2, one_hot(7)[0])
    assert strip.shape == (8, 32, 32)
    with evaluating(G):
        start = to_unit_numpy(G(z0[None], one_hot(2)))[0]
        end = to_unit_numpy(G(z1[None], one_hot(7)))[0]
    np.testing.assert_allclose(strip[0], start, atol=1e-6)
    np.testing.assert_allclose(strip[-1], end, atol=1e-6)


def test_train_step_updates_each_network_once(networks):
    G, D = networks
    opt_G, opt_D = cdcgan.make_optimizers(G, D)
    calls = {"G": 0, "D": 0}
    for key, opt in (("G", opt_G), ("D", opt_D)):
        opt.register_step_post_hook(lambda *_, key=key: calls.__setitem__(key, calls[key] + 1))
    result = cdcgan.train_step(G, D, opt_G, opt_D, torch.rand(8, 1, 32, 32) * 2 - 1, torch.arange(8))
    assert calls == {"G": 1, "D": 1}
    assert set(result) == {"loss_D", "loss_G", "d_acc_real", "d_acc_fake"}
    assert all(0 <= result[k] <= 1 for k in ("d_acc_real", "d_acc_fake"))
