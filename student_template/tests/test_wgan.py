"""Public sanity tests for wgan.py: shapes, the Wasserstein losses by hand, weight clipping and one tiny
training step.

Run them with `pytest tests/test_wgan.py`. Passing them means your code has the right shape; the grader then
checks the formulas on its own inputs, the step semantics and a brief training run.
"""

import math

import torch
import wgan as student

from gankit.common import sample_latent


def _snapshot(module: torch.nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in module.parameters()]


def _changed(before: list[torch.Tensor], module: torch.nn.Module) -> bool:
    return any(not torch.equal(b, p.detach()) for b, p in zip(before, module.parameters(), strict=True))


def test_generator_output_shape_and_range() -> None:
    torch.manual_seed(0)
    G = student.Generator()
    images = G(sample_latent(4))
    assert images.shape == (4, 1, 32, 32), f"Generator must return (B, 1, 32, 32), got {tuple(images.shape)}"
    assert images.dtype == torch.float32, f"Generator must return float32 images, got {images.dtype}"
    assert images.min() >= -1 and images.max() <= 1, "Generator images must lie in [-1, 1]: end with tanh"


def test_critic_returns_one_score_per_image() -> None:
    torch.manual_seed(0)
    C = student.Critic()
    scores = C(torch.rand(4, 1, 32, 32) * 2 - 1)
    assert scores.shape == (4,), f"Critic must return scores of shape (B,), got {tuple(scores.shape)}"
    assert scores.dtype == torch.float32, f"Critic must return float32 scores, got {scores.dtype}"


def test_critic_loss_by_hand() -> None:
    score_real = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    score_fake = torch.tensor([0.5, -0.5], requires_grad=True)
    loss = student.critic_loss(score_real, score_fake)
    assert isinstance(loss, torch.Tensor) and loss.numel() == 1, "critic_loss must return a 0-d tensor"
    assert math.isclose(loss.item(), -2.0, rel_tol=1e-6), (
        f"critic_loss must be mean score_fake − mean score_real = 0 − 2 = −2 here, got {loss.item()}"
    )
    assert loss.requires_grad, "critic_loss must keep the autograd graph"
    loss.sum().backward()
    assert torch.allclose(score_real.grad, torch.full((3,), -1 / 3)), "d critic_loss / d score_real must be −1/n"
    assert torch.allclose(score_fake.grad, torch.full((2,), 1 / 2)), "d critic_loss / d score_fake must be +1/m"


def test_generator_loss_by_hand() -> None:
    score_fake = torch.tensor([1.0, 3.0, -1.0, 1.0], requires_grad=True)
    loss = student.generator_loss(score_fake)
    assert isinstance(loss, torch.Tensor) and loss.numel() == 1, "generator_loss must return a 0-d tensor"
    assert math.isclose(loss.item(), -1.0, rel_tol=1e-6), (
        f"generator_loss must be −mean score_fake = −1 here, got {loss.item()}"
    )
    loss.sum().backward()
    assert torch.allclose(score_fake.grad, torch.full((4,), -1 / 4)), "d generator_loss / d score_fake must be −1/m"


def test_clip_weights_clamps_every_parameter_of_the_critic() -> None:
    torch.manual_seed(0)
    C = student.Critic()
    before = _snapshot(C)
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
    opt_G = torch.optim.RMSprop(G.parameters(), lr=5e-5)
    opt_C = torch.optim.RMSprop(C.parameters(), lr=5e-5)
    real_batches = [torch.rand(4, 1, 32, 32) * 2 - 1 for _ in range(2)]
    before_G, before_C = _snapshot(G), _snapshot(C)
    out = student.train_step(G, C, opt_G, opt_C, real_batches, clip=0.01, rng=torch.Generator().manual_seed(0))
    assert isinstance(out, dict), f"train_step must return a dict, got {type(out).__name__}"
    for key in ("loss_D", "loss_G"):
        assert key in out, f"train_step must return the key {key!r}; got {sorted(out)}"
        assert isinstance(out[key], float), f"{key} must be a Python float (use .item()), got {type(out[key]).__name__}"
        assert math.isfinite(out[key]), f"{key} must be finite, got {out[key]}"
    assert _changed(before_C, C), "train_step must update the critic's parameters (step opt_C)"
    assert _changed(before_G, G), "train_step must update G's parameters (step opt_G)"
    for name, p in C.named_parameters():
        assert p.abs().max() <= 0.01 + 1e-7, f"after train_step(clip=0.01), critic parameter {name} is outside [−c, c]"
