"""Public sanity tests for wgan.py: shapes, the Wasserstein losses by hand, weight clipping and one tiny
training step.

Run them with `pytest tests/test_wgan.py`. Passing them means your code has the right shape; the grader then
checks the formulas on its own inputs, the step semantics and a brief training run.
"""

import torch
import wgan as student
from public_checks import (
    check_generator_images,
    check_one_score_per_image,
    check_train_step,
    check_wasserstein_critic_loss,
    check_wasserstein_generator_loss,
    optimizers,
    parameters,
    random_images,
)

from gankit.common import sample_latent


def test_generator_output_shape_and_range() -> None:
    torch.manual_seed(0)
    check_generator_images(student.Generator()(sample_latent(4)), size=32)


def test_critic_returns_one_score_per_image() -> None:
    torch.manual_seed(0)
    check_one_score_per_image(student.Critic()(random_images(4, 32)), name="Critic", what="scores")


def test_critic_loss_by_hand() -> None:
    check_wasserstein_critic_loss(student.critic_loss)


def test_generator_loss_by_hand() -> None:
    check_wasserstein_generator_loss(student.generator_loss)


def test_clip_weights_clamps_every_parameter_of_the_critic() -> None:
    torch.manual_seed(0)
    C = student.Critic()
    before = parameters(C)
    student.clip_weights(C, 0.01)
    for (name, p), b in zip(C.named_parameters(), before, strict=True):
        assert p.abs().max() <= 0.01 + 1e-7, f"after clip_weights(C, 0.01), {name} has a value outside [−0.01, 0.01]"
        assert torch.allclose(p.detach(), b.clamp(-0.01, 0.01)), (
            f"{name}: clip_weights must clamp to [−c, c] and leave values inside the interval alone"
        )


def test_clip_weights_includes_biases_and_norm_parameters() -> None:
    torch.manual_seed(0)
    critic = torch.nn.Sequential(torch.nn.Linear(6, 4), torch.nn.LayerNorm(4), torch.nn.Linear(4, 1))
    with torch.no_grad():
        critic[0].bias.fill_(0.5)  # biases and the LayerNorm weight (1.0) start outside [−c, c]
    student.clip_weights(critic, c=0.05)
    for name, p in critic.named_parameters():
        assert p.abs().max() <= 0.05 + 1e-7, f"clip_weights must clamp every parameter, {name} included"


def test_train_step_runs_updates_and_clips() -> None:
    torch.manual_seed(0)
    G, C = student.Generator(), student.Critic()
    opt_G, opt_C = optimizers(torch.optim.RMSprop, G, C, lr=5e-5)
    real_batches = [random_images(4, 32) for _ in range(2)]
    rng = torch.Generator().manual_seed(0)
    check_train_step(student.train_step, G, C, opt_G, opt_C, real_batches, critic=True, clip=0.01, rng=rng)
    for name, p in C.named_parameters():
        assert p.abs().max() <= 0.01 + 1e-7, f"after train_step(clip=0.01), critic parameter {name} is outside [−c, c]"
