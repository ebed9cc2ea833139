import copy
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gankit.common import sample_latent
from gankit.data import load_dataset
from reference import vanilla_gan as vg

logits = st.lists(st.floats(-100, 100, allow_nan=False), min_size=1, max_size=16)


def softplus(x: np.ndarray) -> np.ndarray:
    """log(1 + e^x) without overflow, in float64."""
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


def sigmoid(x: np.ndarray) -> np.ndarray:
    return np.exp(-softplus(-x))


def make_gan(seed: int = 0):
    torch.manual_seed(seed)
    G, D = vg.Generator(hidden=32), vg.Discriminator(hidden=32)
    opt_G = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_D = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    return G, D, opt_G, opt_D


def real_batches(k: int, m: int = 8) -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(1)
    return [torch.rand(m, 1, 28, 28, generator=generator) * 2 - 1 for _ in range(k)]


def test_network_shapes_and_ranges():
    G, D, _, _ = make_gan()
    images = G(sample_latent(5))
    assert images.shape == (5, 1, 28, 28)
    assert images.min() >= -1 and images.max() <= 1
    assert D(images).shape == (5,)
    assert vg.Generator()(sample_latent(2)).shape == (2, 1, 28, 28)
    assert vg.Discriminator()(torch.zeros(2, 1, 28, 28)).shape == (2,)


def test_losses_at_logit_zero():
    zero = torch.zeros(4)
    assert vg.discriminator_loss(zero, torch.zeros(9)).item() == pytest.approx(math.log(4))
    assert vg.generator_loss_nonsaturating(zero).item() == pytest.approx(math.log(2))
    assert vg.generator_loss_minimax(zero).item() == pytest.approx(-math.log(2))


@settings(max_examples=50, deadline=None)
@given(real=logits, fake=logits)
def test_losses_match_closed_forms_in_value_and_gradient(real, fake):
    r, f = np.array(real), np.array(fake)
    real_t = torch.tensor(real, dtype=torch.float64, requires_grad=True)
    fake_t = torch.tensor(fake, dtype=torch.float64, requires_grad=True)

    loss_D = vg.discriminator_loss(real_t, fake_t)
    assert loss_D.item() == pytest.approx(softplus(-r).mean() + softplus(f).mean(), rel=1e-9, abs=1e-12)
    loss_D.backward()
    assert np.allclose(real_t.grad.numpy(), -sigmoid(-r) / len(r))
    assert np.allclose(fake_t.grad.numpy(), sigmoid(f) / len(f))

    for loss, value, slope in (
        (vg.generator_loss_minimax, -softplus(f).mean(), -sigmoid(f) / len(f)),
        (vg.generator_loss_nonsaturating, softplus(-f).mean(), -sigmoid(-f) / len(f)),
    ):
        fake_t.grad = None
        result = loss(fake_t)
        assert result.item() == pytest.approx(value, rel=1e-9, abs=1e-12)
        result.backward()
        assert np.allclose(fake_t.grad.numpy(), slope)


@pytest.mark.parametrize(
    "name",
    ["discriminator_loss", "generator_loss_minimax", "generator_loss_nonsaturating"],
)
def test_losses_are_finite_at_extreme_logits(name):
    extreme = torch.tensor([-100.0, 100.0, -100.0, 100.0], requires_grad=True)
    loss = getattr(vg, name)
    value = loss(extreme, extreme) if name == "discriminator_loss" else loss(extreme)
    value.backward()
    assert torch.isfinite(value) and torch.isfinite(extreme.grad).all()


def test_minimax_saturates_where_nonsaturating_does_not():
    # D confidently rejects the fakes: logit −20, D(G(z)) ≈ 2e-9.
    rejected = torch.full((4,), -20.0, requires_grad=True)
    vg.generator_loss_minimax(rejected).backward()
    minimax_slope = rejected.grad.clone()
    rejected.grad = None
    vg.generator_loss_nonsaturating(rejected).backward()
    assert minimax_slope.abs().max() < 1e-8
    assert torch.allclose(rejected.grad, torch.full((4,), -0.25))


def spy_on_steps(opt_G, opt_D, G, D):
    """Wrap both optimisers' step(): record the order, D's weights after each D step, G's grads at it."""
    log = {"order": [], "d_after_step": None, "g_grad_in_d_step": []}
    step_D, step_G = opt_D.step, opt_G.step

    def counted_step_D(*args, **kwargs):
        log["g_grad_in_d_step"].append(any(p.grad is not None and p.grad.any() for p in G.parameters()))
        result = step_D(*args, **kwargs)
        log["order"].append("D")
        log["d_after_step"] = copy.deepcopy(D.state_dict())
        return result

    def counted_step_G(*args, **kwargs):
        log["order"].append("G")
        return step_G(*args, **kwargs)

    opt_D.step, opt_G.step = counted_step_D, counted_step_G
    return log


@pytest.mark.parametrize("k", [1, 2, 3])
def test_train_step_does_k_d_updates_then_one_g_update(k):
    G, D, opt_G, opt_D = make_gan()
    log = spy_on_steps(opt_G, opt_D, G, D)
    G_before = copy.deepcopy(G.state_dict())
    out = vg.train_step(G, D, opt_G, opt_D, real_batches(k), rng=torch.Generator().manual_seed(0))
    assert log["order"] == ["D"] * k + ["G"]
    assert log["g_grad_in_d_step"] == [False] * k  # fakes detached: no gradient reaches G in the D steps
    # The G step leaves D exactly as the last D step left it, and does change G.
    assert all(torch.equal(D.state_dict()[name], t) for name, t in log["d_after_step"].items())
    assert any(not torch.equal(G.state_dict()[name], t) for name, t in G_before.items())
    assert set(out) == {"loss_D", "loss_G", "d_acc_real", "d_acc_fake"}
    assert all(isinstance(v, float) and math.isfinite(v) for v in out.values())
    assert 0 <= out["d_acc_real"] <= 1 and 0 <= out["d_acc_fake"] <= 1


def test_train_step_calls_the_generator_loss_it_is_given():
    G, D, opt_G, opt_D = make_gan()
    calls = []

    def recording_loss(fake_logits):
        calls.append(fake_logits.shape)
        return vg.generator_loss_minimax(fake_logits)

    out = vg.train_step(G, D, opt_G, opt_D, real_batches(2, m=6), generator_loss=recording_loss)
    assert calls == [(6,)]
    assert out["loss_G"] < 0  # the minimax loss is negative, the non-saturating one positive


def test_stale_gradients_do_not_leak_into_the_updates():
    """Junk in every .grad before the call changes nothing: gradients are zeroed before each backward."""
    results = []
    for junk in (False, True):
        G, D, opt_G, opt_D = make_gan(seed=0)
        if junk:
            for p in [*G.parameters(), *D.parameters()]:
                p.grad = torch.full_like(p, 1e3)
        torch.manual_seed(123)  # D's dropout draws from the global generator
        vg.train_step(G, D, opt_G, opt_D, real_batches(2), rng=torch.Generator().manual_seed(0))
        results.append([p.detach().clone() for p in [*G.parameters(), *D.parameters()]])
    assert all(torch.equal(a, b) for a, b in zip(*results, strict=True))


def test_brief_training_on_mnist_moves_both_losses():
    images, _ = load_dataset("mnist", "train")
    torch.manual_seed(0)
    G, D = vg.Generator(), vg.Discriminator()
    opt_G = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_D = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    rng = torch.Generator().manual_seed(0)
    history = []
    for _ in range(30):
        batch = images[torch.randint(len(images), (64,), generator=rng)]
        history.append(vg.train_step(G, D, opt_G, opt_D, [batch], rng=rng))
    assert all(math.isfinite(v) for out in history for v in out.values())
    assert all(torch.isfinite(p).all() for p in [*G.parameters(), *D.parameters()])
    assert history[0]["loss_D"] == pytest.approx(math.log(4), abs=0.2)  # the game starts at D ≈ ½
    for key in ("loss_D", "loss_G"):
        values = [out[key] for out in history]
        assert max(values) - min(values) > 0.1, f"{key} did not move: {values}"
    assert np.mean([out["d_acc_real"] for out in history[-10:]]) > 0.9  # D has learnt what real digits are
