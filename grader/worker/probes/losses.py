"""Calling student functions on many argument lists in one round trip (the loss-formula checks send ~40)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..ops import WORKER, op
from ..values import describe, seed_everything, tensor
from .calls import gradients

MESSAGE_CHARS = 300


@op("call_many")
def call_many(module: str, calls: list[dict[str, Any]], seed: int = 0) -> list[dict[str, Any]]:
    """Each call `{"function": name, "args": [...], "grad": bool}`: like the `call` probe, but an exception is
    reported for that call alone, so one failing input costs only the criteria it touches."""
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
            result = {"raised": type(error).__name__, "message": str(error)[:MESSAGE_CHARS]}
        results.append(result)
    return results
