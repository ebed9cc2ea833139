"""Public sanity tests for dcgan.py: shapes, closed-form loss values, generate and one tiny training step.

Run them with `pytest tests/test_dcgan.py`. Passing them means your code has the right shape; the grader then
checks the formulas and gradients on its own inputs, the step semantics and a brief training run.
"""

import dcgan as student
import numpy as np
import torch
from public_checks import (
    check_bce_discriminator_loss_at_extreme_logits,
    check_bce_discriminator_loss_at_logit_zero,
    check_bce_discriminator_loss_by_hand,
    check_generate_contract,
    check_generator_images,
    check_losses_keep_the_graph,
    check_nonsaturating_generator_loss_at_logit_zero,
    check_nonsaturating_generator_loss_by_hand,
    check_one_score_per_image,
    check_train_step,
    optimizers,
    random_images,
)

from gankit.common import sample_latent


def test_generator_output_shape_and_range() -> None:
    torch.manual_seed(0)
    check_generator_images(student.Generator()(sample_latent(4)), size=28)


def test_generator_upsamples_with_transposed_convolutions() -> None:
    G = student.Generator()
    assert any(isinstance(m, torch.nn.ConvTranspose2d) for m in G.modules()), (
        "Generator must upsample with nn.ConvTranspose2d"
    )


def test_discriminator_returns_one_logit_per_image() -> None:
    torch.manual_seed(0)
    check_one_score_per_image(student.Discriminator()(random_images(4, 28)))


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


def test_generate_shape_dtype_and_range() -> None:
    torch.manual_seed(0)
    check_generate_contract(student.generate(student.Generator(), 5, rng=torch.Generator().manual_seed(0)), 5, 28)


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
    opt_G, opt_D = optimizers(torch.optim.Adam, G, D, lr=2e-4, betas=(0.5, 0.999))
    real = random_images(4, 28)
    check_train_step(student.train_step, G, D, opt_G, opt_D, real, rng=torch.Generator().manual_seed(0))
