"""The trusted side's reading of worker replies: every value is checked for kind, dtype, shape and finiteness
before a check looks at it. A failure raises `Invalid` with a sentence the student can act on."""

from __future__ import annotations

from typing import Any

import numpy as np


class Invalid(ValueError):
    """What the student's code returned is not what the contract asks for."""


def _kind_phrase(described: Any) -> str:
    if not isinstance(described, dict):
        return "something unreadable"
    kind = described.get("kind")
    if kind == "object":
        return f"a {str(described.get('type'))[:60]}"
    if kind == "none":
        return "None"
    return {"tensor": "a tensor", "ndarray": "a numpy array", "number": "a number"}.get(kind, "something unreadable")


def tensor(
    described: Any,
    what: str,
    shape: tuple[int, ...] | None = None,
    finite: bool = True,
    floating: bool = True,
) -> np.ndarray:
    """The array of a returned tensor; `Invalid` unless it is a plain tensor of that shape, finite."""
    if not isinstance(described, dict) or described.get("kind") != "tensor":
        raise Invalid(f"{what} must be a torch.Tensor, but it is {_kind_phrase(described)}")
    return _checked(described.get("array"), what, shape, finite, floating)


def ndarray(
    described: Any, what: str, shape: tuple[int, ...] | None = None, dtype: str | None = None, finite: bool = True
) -> np.ndarray:
    """The array of a returned numpy array; `Invalid` unless it is one, of that shape (and dtype), finite."""
    if not isinstance(described, dict) or described.get("kind") != "ndarray":
        raise Invalid(f"{what} must be a numpy.ndarray, but it is {_kind_phrase(described)}")
    if dtype is not None and described.get("dtype") != dtype:
        raise Invalid(f"{what} must have dtype {dtype}, not {described.get('dtype')}")
    return _checked(described.get("array"), what, shape, finite, floating=False)


def scalar(described: Any, what: str, allow_number: bool = False) -> float:
    """A one-element tensor (or, with `allow_number`, a Python or numpy number) as a finite float."""
    if allow_number and isinstance(described, dict) and described.get("kind") == "number":
        value = described.get("value")
        if not isinstance(value, float | int) or not np.isfinite(value):
            raise Invalid(f"{what} must be a finite number, got {value!r}")
        return float(value)
    if allow_number and isinstance(described, dict) and described.get("kind") == "ndarray":
        array = _checked(described.get("array"), what, None, True, False)
    else:
        array = tensor(described, what)
    if array.size != 1:
        raise Invalid(f"{what} must hold a single number, but its shape is {tuple(array.shape)}")
    return float(array.reshape(()))


def _checked(array: Any, what: str, shape: tuple[int, ...] | None, finite: bool, floating: bool) -> np.ndarray:
    if not isinstance(array, np.ndarray):
        raise Invalid(f"{what} could not be read")
    if shape is not None and tuple(array.shape) != tuple(shape):
        raise Invalid(f"{what} has shape {tuple(array.shape)}; expected {tuple(shape)}")
    if floating and array.dtype.kind != "f":
        raise Invalid(f"{what} must be a floating-point tensor, not {array.dtype}")
    if finite and array.dtype.kind == "f" and not np.isfinite(array).all():
        raise Invalid(f"{what} contains NaN or inf")
    return array


def array(value: Any, what: str, shape: tuple[int, ...] | None = None, finite: bool = True) -> np.ndarray:
    """A floating-point array the worker's own probe returned (not a student object), checked the same way."""
    return _checked(value, what, shape, finite, floating=True)
