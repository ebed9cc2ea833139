"""The clip_weights probe: the student's clipping helper on a small grader-made critic whose parameters the
parent sets. Only the parameters after the call come back, with whether each is still the same tensor object;
the parent judges them."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn as nn

from gankit.signature import fit

from ..ops import WORKER, op
from ..values import describe, tensor


def _clip_critic() -> nn.Module:
    """A small critic with every kind of parameter: convolution and linear weights and biases, BatchNorm and
    LayerNorm affine parameters."""
    return nn.Sequential(
        nn.Conv2d(1, 3, 3, stride=2),
        nn.BatchNorm2d(3),
        nn.LeakyReLU(0.2),
        nn.Flatten(),
        nn.LayerNorm(12),
        nn.Linear(12, 1),
    )


@op("clip_weights")
def clip_weights(
    module: str, function: str, c: float, values: dict[str, np.ndarray], optional: list[list[Any]]
) -> dict[str, Any]:
    """Set the critic's parameters to `values` (by name), call `function(critic, c)` (without c where its
    signature has none); return every parameter after it, whether each is still the same tensor object
    (clipping in place), and whether c was left out."""
    critic = _clip_critic().to(WORKER.device)
    before = dict(critic.named_parameters())
    if set(before) != set(values):
        raise KeyError(f"the grader's critic has parameters {sorted(before)}, not {sorted(values)}")
    with torch.no_grad():
        for name, parameter in before.items():
            parameter.copy_(tensor(values[name]))
    clip = WORKER.attribute(module, function)
    (name, _), *rest = optional
    fitted = fit(clip, [critic], [(name, c), *((str(n), d) for n, d in rest)])
    fitted(clip)
    after = dict(critic.named_parameters())
    return {
        "parameters": {name: describe(parameter) for name, parameter in after.items()},
        "same_objects": {name: after.get(name) is parameter for name, parameter in before.items()},
        "dropped": bool(fitted.dropped),
    }
