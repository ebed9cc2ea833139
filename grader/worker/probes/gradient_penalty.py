"""The gradient-penalty probe: the student's penalty function on grader-made critics whose input gradient is
known in closed form, and which record every input they are called with.

The probe only measures: the penalty's value, the gradient of the penalty with respect to the linear
critic's weights, and the (x, y) of each critic call. The parent recomputes what the value should be from
the recorded interpolates and decides every point.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn as nn

from gankit.signature import RNG, documented_values, fit

from ..ops import WORKER, op
from ..values import describe, seed_everything, tensor

ERROR_CHARS = 300


class RecordingCritic(nn.Module):
    """C(x, y) = <w, x> + ½·s·‖x‖² + <u, y> per sample, whose input gradient is w + s·x.

    With s = 0 it is linear, so the penalty is λ(‖w‖ − 1)² whatever ε is; with w = 0 the gradient is s·x̂,
    which differs per sample and pins down where the gradient was taken. Every call is recorded.
    """

    def __init__(self, w: np.ndarray, u: np.ndarray, scale: float) -> None:
        super().__init__()
        self.w = nn.Parameter(tensor(w))  # (1, H, W)
        self.u = nn.Parameter(tensor(u))  # (10,)
        self.scale = scale
        self.calls: list[dict[str, Any]] = []

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        self.calls.append({"x": describe(x), "y": describe(y) if y is not None else {"kind": "none"}})
        flat = x.flatten(1)  # (B, H·W)
        score = flat @ self.w.flatten() + 0.5 * self.scale * (flat**2).sum(dim=1)  # (B,)
        # The label term has no x-gradient: it only lets the critic see y the way a real one does.
        if isinstance(y, torch.Tensor) and y.shape == (len(x), len(self.u)):
            score = score + y.to(self.u.dtype) @ self.u
        return score


def _run_case(
    penalty: Any, case: dict[str, Any], optional: list[list[Any]], seed: int, attached: bool
) -> dict[str, Any]:
    generator = seed_everything(seed)
    critic = RecordingCritic(case["w"], case["u"], float(case["scale"]))
    real, y = tensor(case["real"]), tensor(case["y"])
    fake = tensor(case["fake"])
    if attached:
        # As G's output arrives in train_step: a non-leaf tensor with an autograd graph behind it.
        fake = tensor(case["fake"], requires_grad=True) * 1.0
    fitted = fit(penalty, [critic, real, fake, y], documented_values(optional, {**case["given"], RNG: generator}))
    try:
        value = fitted(penalty)
    except Exception as error:  # noqa: BLE001 - one failing case costs that case, not the others
        return {"error": f"{type(error).__name__}: {error}"[:ERROR_CHARS], "calls": critic.calls}
    result: dict[str, Any] = {
        "value": describe(value),
        "calls": critic.calls,
        "grad_w": {"kind": "none"},
        "dropped": fitted.dropped,
    }
    if type(value) is torch.Tensor and value.requires_grad and value.numel() == 1:
        try:
            (grad_w,) = torch.autograd.grad(value.sum(), critic.w, allow_unused=True)
        except RuntimeError as error:  # e.g. the student's backward freed the graph
            result["grad_w"] = {"kind": "error", "message": str(error)[:ERROR_CHARS]}
        else:
            if grad_w is not None:
                result["grad_w"] = describe(grad_w)
    return result


@op("gradient_penalty")
def gradient_penalty(
    module: str, function: str, cases: list[dict[str, Any]], optional: list[list[Any]], seed: int = 0
) -> list[dict[str, Any]]:
    """`function(critic, real, fake, y, lam=…, rng=…)` (the optional arguments its signature accepts) once per
    case with `fake` detached and once with `fake` attached to a graph, each on a fresh recording critic."""
    penalty = WORKER.attribute(module, function)
    return [
        {
            mode: _run_case(penalty, case, optional, seed + index, mode == "attached")
            for mode in ("detached", "attached")
        }
        for index, case in enumerate(cases)
    ]
