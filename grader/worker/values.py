"""Turning what the student's code returns into plain data, and the parent's arrays into tensors.

`describe` never trusts a returned object: only an exact `torch.Tensor` (or `nn.Parameter`), an exact numpy
array or a plain number becomes data; anything else is reported by its type name, so an object whose `__eq__`
always says True, or a tensor subclass, reaches the parent as what it is and scores nothing.
"""

from __future__ import annotations

import random
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
