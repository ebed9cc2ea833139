"""The generic probes: a student's function called on the parent's inputs, once (`call`) or on many argument lists
in one round trip (`call_many`: the loss-formula checks send ~40), with the value and the gradient w.r.t. each
input. Kinds whose question is a plain call (`loss_formula`, `optimal_d`, parts of `interface`) use these and
have no probe module of their own."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..ops import WORKER, op
from ..values import describe, failure, seed_everything, tensor


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


@op("call_many")
def call_many(module: str, calls: list[dict[str, Any]], seed: int = 0) -> list[dict[str, Any]]:
    """Each call `{"function": name, "args": [...], "grad": bool}`: like the `call` probe, but an exception is
    reported for that call alone, as its output in the one failure shape (`values.failure`), so one failing
    input costs only the criteria it touches."""
    seed_everything(seed)
    results = []
    for request in calls:
        grad = bool(request.get("grad", False))
        try:
            target = WORKER.attribute(module, request["function"])
            inputs = [
                tensor(a, requires_grad=grad and a.dtype.kind == "f") if isinstance(a, np.ndarray) else a
                for a in request["args"]
            ]
            output = target(*inputs)
            result: dict[str, Any] = {"output": describe(output)}
            if grad:
                result["grads"] = gradients(output, inputs)
        except Exception as error:  # noqa: BLE001 - the student's exception is this call's answer
            result = {"output": failure(error)}
        results.append(result)
    return results
