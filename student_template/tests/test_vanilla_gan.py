"""Public sanity tests for vanilla_gan.py: shapes, closed-form loss values and one tiny training step.

Run them with `pytest tests/test_vanilla_gan.py`. Passing them means your code has the right shape; the
grader then checks the formulas and gradients on its own inputs, the step semantics and a brief training run.
"""

import math

import torch
import vanilla_gan as student
from public_checks import (
    assert_scalar,
    check_bce_discriminator_loss_at_extreme_logits,
    check_bce_discriminator_loss_at_logit_zero,
    check_bce_discriminator_loss_by_hand,
    check_generator_images,
    check_losses_keep_the_graph,
    check_nonsaturating_generator_loss_at_logit_zero,
    check_nonsaturating_generator_loss_by_hand,
    check_one_score_per_image,
    check_train_step,
    optimizers,
    random_images,
    softplus,
)

from gankit.common import sample_latent


def test_generator_output_shape_and_range() -> None:
    torch.manual_seed(0)
    check_generator_images(student.Generator()(sample_latent(4)), size=28)


def test_discriminator_returns_one_logit_per_image() -> None:
    torch.manual_seed(0)
    check_one_score_per_image(student.Discriminator()(random_images(4, 28)))


def test_discriminator_loss_at_logit_zero() -> None:
    check_bce_discriminator_loss_at_logit_zero(student.discriminator_loss)


def test_discriminator_loss_by_hand() -> None:
    check_bce_discriminator_loss_by_hand(student.discriminator_loss)


def test_discriminator_loss_is_finite_at_extreme_logits() -> None:
    check_bce_discriminator_loss_at_extreme_logits(student.discriminator_loss)


def test_losses_keep_the_graph() -> None:
    check_losses_keep_the_graph(
        student.discriminator_loss, student.generator_loss_minimax, student.generator_loss_nonsaturating
    )


def test_generator_loss_minimax_at_logit_zero() -> None:
    loss = student.generator_loss_minimax(torch.zeros(4))
    assert_scalar(loss, "generator_loss_minimax")
    assert math.isclose(float(loss), -math.log(2.0), rel_tol=1e-5), (
        f"generator_loss_minimax = mean log(1 − σ(l)) is −log 2 at logit 0, got {float(loss):.6f}"
    )


def test_generator_loss_minimax_by_hand() -> None:
    expected = -(softplus(2.0) + softplus(-1.0) + softplus(0.5)) / 3
    value = float(student.generator_loss_minimax(torch.tensor([2.0, -1.0, 0.5])))
    assert math.isclose(value, expected, rel_tol=1e-5), (
        f"generator_loss_minimax must be mean log(1 − σ(l)) = −mean softplus(l): expected {expected:.6f}, "
        f"got {value:.6f}"
    )


def test_generator_loss_nonsaturating_at_logit_zero() -> None:
    check_nonsaturating_generator_loss_at_logit_zero(student.generator_loss_nonsaturating)


def test_generator_loss_nonsaturating_by_hand() -> None:
    check_nonsaturating_generator_loss_by_hand(student.generator_loss_nonsaturating)


def test_train_step_runs_and_updates_both_networks() -> None:
    torch.manual_seed(0)
    G, D = student.Generator(), student.Discriminator()
    opt_G, opt_D = optimizers(torch.optim.Adam, G, D, lr=2e-4, betas=(0.5, 0.999))
    real_batches = [random_images(4, 28) for _ in range(2)]
    check_train_step(student.train_step, G, D, opt_G, opt_D, real_batches, rng=torch.Generator().manual_seed(0))
