"""Checks the public sanity tests of several tasks share: the BCE and Wasserstein losses, network outputs, the
`generate` contract and one training step.

Each `tests/test_<task>.py` calls these with its own functions (`check_bce_discriminator_loss_by_hand(
student.discriminator_loss)`), so a failure names the test and, in its message, your function. Only torch,
numpy, math and `gankit.common` are used, so the checks run wherever the tests do.
"""

import math
from collections.abc import Callable

import numpy as np
import torch

from gankit.common import evaluating, one_hot, sample_latent

GAN_STEP_KEYS = ("loss_D", "loss_G", "d_acc_real", "d_acc_fake")  # what a discriminator's train_step returns
WGAN_STEP_KEYS = ("loss_D", "loss_G")  # what a critic's train_step returns


# ---- small helpers ---------------------------------------------------------------------------------------------


def softplus(u: float) -> float:
    """log(1 + e^u): BCE(l, 1) = softplus(−l) and BCE(l, 0) = softplus(l), for the hand-computed losses."""
    return math.log1p(math.exp(u))


def random_images(batch: int, size: int) -> torch.Tensor:
    """Uniform noise images (batch, 1, size, size) in [-1, 1], the range real images are scaled to."""
    return torch.rand(batch, 1, size, size) * 2 - 1


def parameters(module: torch.nn.Module) -> list[torch.Tensor]:
    """A detached copy of every parameter of `module`, to compare with `changed` after a step."""
    return [p.detach().clone() for p in module.parameters()]


def changed(before: list[torch.Tensor], module: torch.nn.Module) -> bool:
    """Whether any parameter of `module` differs from its copy in `before` (from `parameters`)."""
    return any(not torch.equal(b, p.detach()) for b, p in zip(before, module.parameters(), strict=True))


def optimizers(
    kind: type[torch.optim.Optimizer], G: torch.nn.Module, D: torch.nn.Module, **settings: object
) -> tuple[torch.optim.Optimizer, torch.optim.Optimizer]:
    """One optimiser of class `kind` for G and one for D (or the critic), with the same settings."""
    return kind(G.parameters(), **settings), kind(D.parameters(), **settings)


def assert_scalar(value: object, name: str) -> None:
    """`value`, what the function `name` returned, is a tensor holding a single number."""
    assert isinstance(value, torch.Tensor), f"{name} must return a tensor, got {type(value).__name__}"
    assert value.numel() == 1, f"{name} must return a single number (0-d tensor), got shape {tuple(value.shape)}"


# ---- networks --------------------------------------------------------------------------------------------------


def check_generator_images(images: torch.Tensor, size: int) -> None:
    """What a Generator returned for a batch of 4 codes: (4, 1, size, size) float32 images in [-1, 1]."""
    assert images.shape == (4, 1, size, size), (
        f"Generator must return (B, 1, {size}, {size}), got {tuple(images.shape)}"
    )
    assert images.dtype == torch.float32, f"Generator must return float32 images, got {images.dtype}"
    assert images.min() >= -1 and images.max() <= 1, "Generator images must lie in [-1, 1]: end with tanh"


def check_one_score_per_image(scores: torch.Tensor, name: str = "Discriminator", what: str = "logits") -> None:
    """What a discriminator (`name`, returning `what`) or critic returned for 4 images: float32 of shape (4,)."""
    assert scores.shape == (4,), f"{name} must return {what} of shape (B,), got {tuple(scores.shape)}"
    assert scores.dtype == torch.float32, f"{name} must return float32 {what}, got {scores.dtype}"


def check_generator_uses_soft_labels(G: torch.nn.Module, size: int) -> None:
    """A conditional G(z, y) takes soft label vectors (a 50/50 mix of two classes) and depends on y."""
    z = sample_latent(2)
    soft = 0.5 * one_hot(torch.tensor([1, 1])) + 0.5 * one_hot(torch.tensor([8, 8]))
    with evaluating(G):
        a = G(z, one_hot(torch.tensor([1, 1])))
        b = G(z, one_hot(torch.tensor([8, 8])))
        mixed = G(z, soft)
    assert mixed.shape == (2, 1, size, size), "Generator must accept soft label vectors (B, 10), not only one-hot ones"
    assert not torch.allclose(a, b), "Generator ignores y: the same z with different labels gives the same image"


def check_uses_the_label(
    net: torch.nn.Module, x: torch.Tensor, name: str = "Discriminator", what: str = "logits"
) -> None:
    """A conditional discriminator or critic `net(x, y)` gives other `what` for the same images with other labels."""
    with evaluating(net):
        a = net(x, one_hot(torch.full((len(x),), 2)))
        b = net(x, one_hot(torch.full((len(x),), 6)))
    assert not torch.allclose(a, b), f"{name} ignores y: the same images with different labels get equal {what}"


# ---- the BCE losses of vanilla_gan, dcgan and cdcgan -------------------------------------------------------------


def check_bce_discriminator_loss_at_logit_zero(discriminator_loss: Callable[..., torch.Tensor]) -> None:
    """At logit 0 on batches of different sizes (each term averaged over its own batch) the loss is log 4,
    or log 2 for a loss halved."""
    name = discriminator_loss.__name__
    loss = discriminator_loss(torch.zeros(3), torch.zeros(5))
    assert_scalar(loss, name)
    value = float(loss)
    ok = math.isclose(value, math.log(4.0), rel_tol=1e-5) or math.isclose(value, math.log(2.0), rel_tol=1e-5)
    assert ok, f"{name} at logit 0 must be log 4 ≈ 1.386 (or half of it, log 2), got {value:.6f}"


def check_bce_discriminator_loss_by_hand(discriminator_loss: Callable[..., torch.Tensor]) -> None:
    """mean BCE(real, 1) + mean BCE(fake, 0) (or half of it) on a hand-computed case, batches of 2 and 3."""
    name = discriminator_loss.__name__
    real = torch.tensor([2.0, -1.0])
    fake = torch.tensor([0.5, -3.0, 1.0])
    expected = (softplus(-2.0) + softplus(1.0)) / 2 + (softplus(0.5) + softplus(-3.0) + softplus(1.0)) / 3
    value = float(discriminator_loss(real, fake))
    ok = math.isclose(value, expected, rel_tol=1e-5) or math.isclose(value, expected / 2, rel_tol=1e-5)
    assert ok, (
        f"{name} must be mean BCE(real, 1) + mean BCE(fake, 0): expected {expected:.6f} "
        f"(or {expected / 2:.6f}), got {value:.6f}"
    )


def check_bce_discriminator_loss_at_extreme_logits(discriminator_loss: Callable[..., torch.Tensor]) -> None:
    """At real logits −100 and fake logits +100 the loss is finite: 200 (or 100 halved)."""
    name = discriminator_loss.__name__
    value = float(discriminator_loss(torch.full((4,), -100.0), torch.full((4,), 100.0)))
    assert math.isfinite(value), f"{name} must stay finite at logits ±100: work on logits, not log(sigmoid)"
    assert math.isclose(value, 200.0, rel_tol=1e-3) or math.isclose(value, 100.0, rel_tol=1e-3), (
        f"{name} at real −100, fake +100 is 200 (or 100 halved), got {value}"
    )


def check_nonsaturating_generator_loss_at_logit_zero(generator_loss: Callable[..., torch.Tensor]) -> None:
    """The non-saturating generator loss −mean log σ(l) is a 0-d tensor, log 2 at logit 0."""
    name = generator_loss.__name__
    loss = generator_loss(torch.zeros(4))
    assert_scalar(loss, name)
    assert math.isclose(float(loss), math.log(2.0), rel_tol=1e-5), (
        f"{name} (non-saturating, −mean log σ(l)) is log 2 at logit 0, got {float(loss):.6f}"
    )


def check_nonsaturating_generator_loss_by_hand(generator_loss: Callable[..., torch.Tensor]) -> None:
    """The non-saturating generator loss is mean softplus(−l) on a hand-computed case."""
    name = generator_loss.__name__
    logits = torch.tensor([2.0, -1.0, 0.5])
    expected = (softplus(-2.0) + softplus(1.0) + softplus(-0.5)) / 3
    value = float(generator_loss(logits))
    assert math.isclose(value, expected, rel_tol=1e-5), (
        f"{name} must be −mean log σ(l) = mean softplus(−l): expected {expected:.6f}, got {value:.6f}"
    )


def check_losses_keep_the_graph(
    discriminator_loss: Callable[..., torch.Tensor], *generator_losses: Callable[..., torch.Tensor]
) -> None:
    """The losses return tensors still attached to the logits' autograd graph."""
    real = torch.randn(4, requires_grad=True)
    fake = torch.randn(4, requires_grad=True)
    assert discriminator_loss(real, fake).requires_grad, (
        f"{discriminator_loss.__name__} must keep the autograd graph (no .item(), no .detach())"
    )
    for generator_loss in generator_losses:
        assert generator_loss(fake).requires_grad, (
            f"{generator_loss.__name__} must keep the autograd graph (no .item(), no .detach())"
        )


# ---- the Wasserstein losses of wgan and cwgan_gp ----------------------------------------------------------------


def check_wasserstein_critic_loss(critic_loss: Callable[..., torch.Tensor]) -> None:
    """mean score_fake − mean score_real on batches of 3 and 2, with the graph kept and gradients −1/n, +1/m."""
    score_real = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    score_fake = torch.tensor([0.5, -0.5], requires_grad=True)
    loss = critic_loss(score_real, score_fake)
    _check_mean_score_loss(loss, critic_loss.__name__, -2.0, "mean score_fake − mean score_real = 0 − 2 = −2")
    _check_slope(critic_loss.__name__, "score_real", score_real, -1 / 3, "−1/n")
    _check_slope(critic_loss.__name__, "score_fake", score_fake, 1 / 2, "+1/m")


def check_wasserstein_generator_loss(generator_loss: Callable[..., torch.Tensor]) -> None:
    """−mean score_fake on a batch of 4, with the graph kept and gradient −1/m."""
    score_fake = torch.tensor([1.0, 3.0, -1.0, 1.0], requires_grad=True)
    loss = generator_loss(score_fake)
    _check_mean_score_loss(loss, generator_loss.__name__, -1.0, "−mean score_fake = −1")
    _check_slope(generator_loss.__name__, "score_fake", score_fake, -1 / 4, "−1/m")


def _check_mean_score_loss(loss: torch.Tensor, name: str, expected: float, formula: str) -> None:
    """`loss` from the function `name` is a 0-d tensor worth `expected`; backpropagates it for `_check_slope`."""
    assert_scalar(loss, name)
    assert math.isclose(loss.item(), expected, rel_tol=1e-6), f"{name} must be {formula} here, got {loss.item()}"
    assert loss.requires_grad, f"{name} must keep the autograd graph"
    loss.sum().backward()


def _check_slope(name: str, argument: str, scores: torch.Tensor, slope: float, text: str) -> None:
    """The gradient of the loss `name` with respect to each of `scores` (its input `argument`) is `slope`."""
    assert torch.allclose(scores.grad, torch.full_like(scores, slope)), f"d {name} / d {argument} must be {text}"


# ---- generate and train_step ------------------------------------------------------------------------------------


def check_generate_contract(images: object, n: int, size: int, name: str = "generate", count: str = "n") -> None:
    """What `generate` (or `name`) returned for `n` images: a float32 numpy array (n, size, size) in [0, 1].
    `count` says in the message what sets the first dimension."""
    assert isinstance(images, np.ndarray), f"{name} must return a numpy array, got {type(images).__name__}"
    assert images.shape == (n, size, size), (
        f"{name} must return ({count}, {size}, {size}) = ({n}, {size}, {size}), got {images.shape}"
    )
    assert images.dtype == np.float32, f"{name} must return float32, got {images.dtype}"
    assert images.min() >= 0 and images.max() <= 1, f"{name} must return values in [0, 1]: use to_unit_numpy"


def check_train_step(
    train_step: Callable[..., object],
    G: torch.nn.Module,
    D: torch.nn.Module,
    opt_G: torch.optim.Optimizer,
    opt_D: torch.optim.Optimizer,
    *batches: object,
    critic: bool = False,
    **options: object,
) -> None:
    """One call `train_step(G, D, opt_G, opt_D, *batches, **options)` updates both networks and returns a dict
    of finite Python floats: GAN_STEP_KEYS (the accuracies in [0, 1]) for a discriminator D, WGAN_STEP_KEYS
    when D is a critic (`critic=True`)."""
    keys = WGAN_STEP_KEYS if critic else GAN_STEP_KEYS
    before_G, before_D = parameters(G), parameters(D)
    out = train_step(G, D, opt_G, opt_D, *batches, **options)
    assert isinstance(out, dict), f"train_step must return a dict, got {type(out).__name__}"
    for key in keys:
        assert key in out, f"train_step must return the key {key!r}; got {sorted(out)}"
        assert isinstance(out[key], float), f"{key} must be a Python float (use .item()), got {type(out[key]).__name__}"
        assert math.isfinite(out[key]), f"{key} must be finite, got {out[key]}"
    for key in (key for key in keys if key.startswith("d_acc")):
        assert 0.0 <= out[key] <= 1.0, f"{key} is a fraction and must lie in [0, 1], got {out[key]}"
    if critic:
        assert changed(before_D, D), "train_step must update the critic's parameters (step opt_C)"
    else:
        assert changed(before_D, D), "train_step must update D's parameters (step opt_D)"
    assert changed(before_G, G), "train_step must update G's parameters (step opt_G)"
