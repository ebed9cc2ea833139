"""Probe for targeted_attack's contract on a small grader-made victim."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ...ops import WORKER, op
from ...values import describe, failure, function_of, seed_everything, tensor

# The victim's class 0 logit leads by this much, far more than any step within the ball can make up, so an
# attack never reaches its target early and takes every step: an unprojected or unclamped one shows.
UNREACHABLE_MARGIN = 50.0


def _victim(size: int, seed: int) -> torch.nn.Module:
    """A linear classifier (B, 1, size, size) → (B, 10), frozen and in eval mode like the real one."""
    seed_everything(seed)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(size * size, 10))
    with torch.no_grad():
        model[1].weight.normal_(0.0, 0.01)
        model[1].bias.zero_()
        model[1].bias[0] = UNREACHABLE_MARGIN
    return model.to(WORKER.device).eval().requires_grad_(False)


def _state(model: torch.nn.Module) -> list[torch.Tensor]:
    return [value.detach().clone() for value in model.state_dict().values()]


@op("attack_contract")
def attack_contract(
    module: str, function: str, x: np.ndarray, targets: list[int], eps: float, steps: int, seed: int
) -> dict[str, Any]:
    """targeted_attack with an int target and with a (B,) int64 target, each on its own copy of x; reports the
    outputs, whether each kept x and the model unchanged, and whether x_adv is on x's device."""
    model = _victim(x.shape[-1], seed)
    attack = function_of(module, function)
    before, mode = _state(model), model.training
    result: dict[str, Any] = {}
    for key, target in (("int_target", int(targets[0])), ("tensor_target", torch.tensor(targets).to(WORKER.device))):
        images = tensor(x)
        try:
            x_adv = attack(model, images, target, eps, steps)
            result[key] = {
                "output": describe(x_adv),
                "same_device": isinstance(x_adv, torch.Tensor) and x_adv.device == images.device,
                "x_unchanged": bool(torch.equal(images, tensor(x))),
            }
        except Exception as error:  # noqa: BLE001 - also a returned tensor that cannot be read (sparse, meta)
            result[key] = {"output": failure(error)}
    after = _state(model)
    result["model_unchanged"] = model.training == mode and all(
        torch.equal(a, b) for a, b in zip(before, after, strict=True)
    )
    return result
