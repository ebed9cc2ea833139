"""Calling a student's function on the parent's inputs: the value and the gradient w.r.t. each input."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..ops import WORKER, op
from ..values import describe, seed_everything, tensor


@op("call")
def call(
    module: str,
    function: str,
    args: list[Any],
    kwargs: dict[str, Any] | None = None,
    grad: bool = False,
    seed: int = 0,
) -> dict[str, Any]:
    """`function(*args, **kwargs)` with arrays made tensors (requiring grad when `grad`); with `grad`, also
    d(sum of the output)/d(each array argument), or why there is none."""
    seed_everything(seed)
    target = WORKER.attribute(module, function)
    inputs = [tensor(a, requires_grad=grad and a.dtype.kind == "f") if isinstance(a, np.ndarray) else a for a in args]
    output = target(*inputs, **(kwargs or {}))
    result: dict[str, Any] = {"output": describe(output)}
    if grad:
        result["grads"] = gradients(output, inputs)
    return result


def gradients(output: Any, inputs: list[Any]) -> list[dict[str, Any]] | str:
    if type(output) is not torch.Tensor or not output.is_floating_point():
        return "the output is not a floating-point tensor"
    if output.grad_fn is None:
        return "the output has no autograd graph (was it computed with .item(), numpy or under no_grad?)"
    leaves = [x for x in inputs if isinstance(x, torch.Tensor) and x.requires_grad]
    grads = torch.autograd.grad(output.sum(), leaves, allow_unused=True)
    return [describe(g) if g is not None else {"kind": "none"} for g in grads]
