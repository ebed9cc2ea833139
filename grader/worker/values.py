"""Turning what the student's code returns into plain data, and the parent's arrays into tensors.

`describe` never trusts a returned object: only an exact `torch.Tensor` (or `nn.Parameter`), an exact numpy
array or a plain number becomes data; anything else is reported by its type name, so an object whose `__eq__`
always says True, or a tensor subclass, reaches the parent as what it is and scores nothing.

An exception of the student's code is an answer too, in one shape (`failure`): `{"kind": "error", "error": <its
type name>, "message": <its text>}`, the type "contract" when the student's code gave something that breaks the
contract before it can be described (`Broken`: the message says it all). `guarded` calls student code and
returns either shape, so a broken call costs the parent's criterion for that call only.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from .ops import WORKER


def seed_everything(seed: int) -> torch.Generator:
    """Seed torch, numpy (legacy) and Python's random; return a torch.Generator on the worker's device."""
    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)
    random.seed(seed)
    generator = torch.Generator(device=WORKER.device)
    generator.manual_seed(seed)
    return generator


def tensor(array: np.ndarray, requires_grad: bool = False) -> torch.Tensor:
    """A tensor on the worker's device from the parent's array."""
    result = torch.from_numpy(np.array(array)).to(WORKER.device)
    return result.requires_grad_(requires_grad) if requires_grad else result


def _array(value: torch.Tensor) -> np.ndarray:
    value = value.detach().cpu()
    if value.is_floating_point():
        value = value.to(torch.float64 if value.dtype == torch.float64 else torch.float32)
    elif value.dtype not in (torch.int64, torch.int32, torch.uint8, torch.bool):
        value = value.to(torch.int64)
    return value.numpy()


def describe(value: Any) -> dict[str, Any]:
    """Plain data for the parent: kind, and for tensors and numbers their values."""
    if type(value) in (torch.Tensor, torch.nn.Parameter):
        if value.is_complex():
            return {"kind": "object", "type": f"complex tensor ({value.dtype})"}
        return {
            "kind": "tensor",
            "array": _array(value),
            "dtype": str(value.dtype).removeprefix("torch."),
            "requires_grad": bool(value.requires_grad),
            "has_graph": value.grad_fn is not None,
        }
    if isinstance(value, torch.Tensor):
        return {"kind": "object", "type": f"tensor subclass {type(value).__name__}"}
    if type(value) is np.ndarray:
        if value.dtype.kind not in "fiub":
            return {"kind": "object", "type": f"numpy array of {value.dtype}"}
        array = value.astype(np.float32 if value.dtype.kind == "f" and value.dtype != np.float64 else value.dtype)
        return {"kind": "ndarray", "array": array, "dtype": value.dtype.name}
    if type(value) in (int, float, bool) or type(value) in (np.float32, np.float64, np.int64, np.int32, np.bool_):
        return {"kind": "number", "value": float(value), "type": type(value).__name__}
    return {"kind": "object", "type": type(value).__name__}


def load_images(path: str) -> torch.Tensor:
    """uint8 pixels the parent wrote with `CheckContext.put_images` → float images in [-1, 1] on the device."""
    return tensor(np.load(path, allow_pickle=False)).float().div_(127.5).sub_(1.0)


# ---- the student's code: calls that answer with a value or with the exception --------------------------------


# Of an exception's text sent to the parent, which shortens it again for the student (grader.validate).
MESSAGE_CHARS = 300


class Broken(Exception):
    """What the student's code gave breaks the contract before it can be described (not an nn.Module)."""


def failure(error: BaseException) -> dict[str, Any]:
    """An exception as plain data; the parent turns it into a sentence ("contract": the message says it all)."""
    kind = "contract" if isinstance(error, Broken) else type(error).__name__[:80]
    return {"kind": "error", "error": kind, "message": str(error)[:MESSAGE_CHARS]}


def guarded(function: Callable[..., Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
    """`describe(function(*args, **kwargs))`, or the exception it raised."""
    try:
        return describe(function(*args, **kwargs))
    except Exception as error:  # noqa: BLE001 - any exception of student code is an answer
        return failure(error)


def function_of(module: str, name: str) -> Callable[..., Any]:
    """The student's function, or one that raises why it is missing: a missing name then costs the criteria
    that call it, like any other exception, not the whole check."""
    try:
        return WORKER.attribute(module, name)
    except (AttributeError, LookupError) as error:
        problem = error

        def missing(*args: Any, **kwargs: Any) -> Any:
            raise problem

        return missing


def build(module: str, name: str, seed: int) -> torch.nn.Module:
    """`name()` of the student's module with default arguments, seeded, on the worker's device, in eval mode
    (BatchNorm with a batch of one needs it, and spectral norm's power iteration would change the weights)."""
    seed_everything(seed)
    network = WORKER.attribute(module, name)()
    if not isinstance(network, torch.nn.Module):
        raise Broken(f"{name} must be a torch.nn.Module subclass; {name}() built a {type(network).__name__[:60]}")
    return network.to(WORKER.device).eval()
