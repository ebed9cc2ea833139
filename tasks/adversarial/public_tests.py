"""Public sanity tests for adversarial.py: the bounds, the interface and the direction of the attack, on a
tiny hand-made linear classifier.

Run them with `pytest tests/test_adversarial.py`. Passing them means your attack has the right shape; the
grader then attacks its frozen MNIST classifier with real 4s, noise and the all-black image.
"""

import adversarial as student
import torch
from public_checks import random_images


def _linear_model() -> torch.nn.Module:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(28 * 28, 10))
    return model.eval()


def _images(batch: int = 4) -> torch.Tensor:
    torch.manual_seed(1)
    x = random_images(batch, 28)
    x[:, :, :4] = -1.0  # rows at the edges of the valid range, as in MNIST
    x[:, :, -4:] = 1.0
    return x


def _assert_within_bounds(x_adv: torch.Tensor, x: torch.Tensor, eps: float) -> None:
    assert isinstance(x_adv, torch.Tensor), f"targeted_attack must return a tensor, got {type(x_adv).__name__}"
    assert x_adv.shape == x.shape, f"x_adv must have the shape of x {tuple(x.shape)}, got {tuple(x_adv.shape)}"
    assert x_adv.dtype == x.dtype, f"x_adv must have the dtype of x ({x.dtype}), got {x_adv.dtype}"
    assert x_adv.device == x.device, "x_adv must be on the device of x"
    distance = (x_adv - x).abs().flatten(1).max(dim=1).values
    assert (distance <= eps + 1e-6).all(), f"‖x_adv − x‖∞ must be ≤ eps = {eps}, got {distance.max().item():.6f}"
    assert x_adv.min() >= -1 and x_adv.max() <= 1, "x_adv must stay in [-1, 1]: clamp after every step"


def test_attack_respects_eps_and_pixel_range_with_int_target() -> None:
    model, x = _linear_model(), _images()
    x_adv = student.targeted_attack(model, x, 9, eps=0.3, steps=5)
    _assert_within_bounds(x_adv, x, 0.3)
    assert not x_adv.requires_grad, "return a detached tensor (x_adv.detach())"


def test_attack_accepts_a_target_per_sample() -> None:
    model, x = _linear_model(), _images()
    target = torch.tensor([9, 0, 3, 7])
    x_adv = student.targeted_attack(model, x, target, eps=0.2, steps=4)
    _assert_within_bounds(x_adv, x, 0.2)


def test_attack_leaves_x_and_the_model_unchanged() -> None:
    model, x = _linear_model(), _images()
    x_before = x.clone()
    state_before = {k: v.clone() for k, v in model.state_dict().items()}
    student.targeted_attack(model, x, 9, eps=0.3, steps=5)
    assert torch.equal(x, x_before), "targeted_attack must not modify x in place"
    for key, value in model.state_dict().items():
        assert torch.equal(value, state_before[key]), f"targeted_attack must not change the model ({key} changed)"
    assert not model.training, "targeted_attack must not switch the model to train mode"


def test_attack_works_under_no_grad_and_frozen_parameters() -> None:
    model, x = _linear_model(), _images()
    for p in model.parameters():
        p.requires_grad_(False)
    with torch.no_grad():
        x_adv = student.targeted_attack(model, x, 9, eps=0.3, steps=5)
    _assert_within_bounds(x_adv, x, 0.3)
    assert not torch.equal(x_adv, x), (
        "the attack did not move x under torch.no_grad(): wrap the loop in torch.enable_grad() and take the "
        "gradient with respect to a leaf copy of x"
    )


def test_attack_reaches_the_target_on_a_linear_model() -> None:
    model, x = _linear_model(), _images()
    with torch.no_grad():
        before = model(x).argmax(dim=1)
    target = 9 if (before != 9).all() else int((before.max() + 1) % 10)
    x_adv = student.targeted_attack(model, x, target, eps=0.5, steps=10)
    _assert_within_bounds(x_adv, x, 0.5)
    with torch.no_grad():
        after = model(x_adv).argmax(dim=1)
    assert (after == target).all(), (
        f"after the attack the model should predict class {target} for every image, got {after.tolist()}: "
        "step against the sign of the gradient of the cross-entropy with the target (descend, not ascend)"
    )
