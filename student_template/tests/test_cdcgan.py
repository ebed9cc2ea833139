"""Public sanity tests for cdcgan.py: shapes, conditioning, closed-form loss values, optimisers, generate,
interpolate and one tiny training step.

Run them with `pytest tests/test_cdcgan.py`. Passing them means your code has the right shape; the grader then
checks the formulas and gradients on its own inputs, the step semantics and a brief training run.
"""

import math

import cdcgan as student
import numpy as np
import torch
from public_checks import (
    check_bce_discriminator_loss_at_extreme_logits,
    check_bce_discriminator_loss_at_logit_zero,
    check_bce_discriminator_loss_by_hand,
    check_generate_contract,
    check_generator_images,
    check_generator_uses_soft_labels,
    check_losses_keep_the_graph,
    check_nonsaturating_generator_loss_at_logit_zero,
    check_nonsaturating_generator_loss_by_hand,
    check_one_score_per_image,
    check_train_step,
    check_uses_the_label,
    optimizers,
    random_images,
)

from gankit.common import evaluating, one_hot, sample_latent, to_unit_numpy


def test_generator_output_shape_and_range() -> None:
    torch.manual_seed(0)
    G = student.Generator()
    check_generator_images(G(sample_latent(4), one_hot(torch.tensor([0, 3, 7, 9]))), size=32)


def test_generator_accepts_soft_labels_and_uses_them() -> None:
    torch.manual_seed(0)
    check_generator_uses_soft_labels(student.Generator(), size=32)


def test_discriminator_returns_one_logit_per_image() -> None:
    torch.manual_seed(0)
    D = student.Discriminator()
    check_one_score_per_image(D(random_images(4, 32), one_hot(torch.tensor([0, 3, 7, 9]))))


def test_discriminator_uses_the_label() -> None:
    torch.manual_seed(0)
    D = student.Discriminator()
    check_uses_the_label(D, random_images(2, 32))


def test_discriminator_uses_spectral_norm() -> None:
    D = student.Discriminator()
    names = [name for name, _ in D.named_parameters()] + [name for name, _ in D.named_buffers()]
    assert any("orig" in name or "parametrizations" in name for name in names), (
        "wrap the discriminator's layers in torch.nn.utils.parametrizations.spectral_norm"
    )


def test_discriminator_loss_at_logit_zero() -> None:
    check_bce_discriminator_loss_at_logit_zero(student.discriminator_loss)


def test_discriminator_loss_by_hand() -> None:
    check_bce_discriminator_loss_by_hand(student.discriminator_loss)


def test_discriminator_loss_is_finite_at_extreme_logits() -> None:
    check_bce_discriminator_loss_at_extreme_logits(student.discriminator_loss)


def test_generator_loss_at_logit_zero() -> None:
    check_nonsaturating_generator_loss_at_logit_zero(student.generator_loss)


def test_generator_loss_by_hand() -> None:
    check_nonsaturating_generator_loss_by_hand(student.generator_loss)


def test_losses_keep_the_graph() -> None:
    check_losses_keep_the_graph(student.discriminator_loss, student.generator_loss)


def test_make_optimizers_settings() -> None:
    G, D = student.Generator(), student.Discriminator()
    opt_G, opt_D = student.make_optimizers(G, D)
    for name, opt, net in (("opt_G", opt_G, G), ("opt_D", opt_D, D)):
        assert isinstance(opt, torch.optim.Adam), f"{name} must be torch.optim.Adam, got {type(opt).__name__}"
        for group in opt.param_groups:
            assert math.isclose(group["lr"], 1e-4), f"{name} must use lr 1e-4, got {group['lr']}"
            assert tuple(group["betas"]) == (0.5, 0.999), f"{name} must use betas (0.5, 0.999), got {group['betas']}"
        optimised = {id(p) for group in opt.param_groups for p in group["params"]}
        assert optimised == {id(p) for p in net.parameters()}, f"{name} must optimise exactly its network's parameters"


def test_generate_shape_dtype_and_range() -> None:
    torch.manual_seed(0)
    check_generate_contract(student.generate(student.Generator(), 5, 3, rng=torch.Generator().manual_seed(0)), 5, 32)


def _assert_endpoints(strip: np.ndarray, G: torch.nn.Module, z: torch.Tensor, y: torch.Tensor, note: str) -> None:
    """The strip starts at G(z0, y0) and ends at G(z1, y1), both computed with G in eval mode; y holds the
    one-hot rows (2, 10) of y0 and y1, `note` ends the failure message."""
    with evaluating(G):
        first = to_unit_numpy(G(z[:1], y[:1]))[0]
        last = to_unit_numpy(G(z[1:], y[1:]))[0]
    assert np.allclose(strip[0], first, atol=1e-4), f"the first image must be G(z0, y0) {note}"
    assert np.allclose(strip[-1], last, atol=1e-4), f"the last image must be G(z1, y1) {note}"


def test_interpolate_endpoints_with_class_indices() -> None:
    torch.manual_seed(0)
    G = student.Generator()
    z = sample_latent(2)
    strip = student.interpolate(G, z[0], z[1], 3, 7)
    check_generate_contract(strip, 8, 32, name="interpolate", count="steps + 2 with the default steps=6")
    _assert_endpoints(strip, G, z, one_hot(torch.tensor([3, 7])), "computed with G in eval mode")


def test_interpolate_accepts_label_vectors_and_steps() -> None:
    torch.manual_seed(0)
    G = student.Generator()
    z = sample_latent(2)
    y0, y1 = one_hot(1)[0], one_hot(5)[0]  # (10,)
    strip = student.interpolate(G, z[0], z[1], y0, y1, steps=3)
    assert strip.shape == (5, 32, 32), f"interpolate with steps=3 must return steps + 2 = 5 images, got {strip.shape}"
    _assert_endpoints(strip, G, z, torch.stack([y0, y1]), "for label vectors y0, y1 of shape (10,)")


def test_train_step_runs_and_updates_both_networks() -> None:
    torch.manual_seed(0)
    G, D = student.Generator(), student.Discriminator()
    opt_G, opt_D = optimizers(torch.optim.Adam, G, D, lr=1e-4, betas=(0.5, 0.999))
    real, labels = random_images(4, 32), torch.tensor([0, 3, 7, 9])
    check_train_step(student.train_step, G, D, opt_G, opt_D, real, labels, rng=torch.Generator().manual_seed(0))
