"""The trusted side's reading of worker replies: every value is checked for kind, dtype, shape and finiteness
before a check looks at it. A failure raises `Invalid` with a sentence the student can act on.

A probe reports an exception of the student's code as `{"kind": "error", "error": <type name>, "message": <text>}`
(`grader.worker.values.failure`; the type "contract" when the message says it all); `raised` turns it into
`Invalid`, and `entry` reads a reply's nested fields without trusting its shape.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from grader.advice import with_advice

MESSAGE_CHARS = 300  # of a student's exception, in the sentence that reports it


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


# ---- reading a probe's reply -----------------------------------------------------------------------------------


def entry(reply: Any, *path: str | int) -> Any:
    """reply[path[0]][path[1]]…, or None where the reply does not have that shape."""
    for key in path:
        if isinstance(key, str) and isinstance(reply, dict):
            reply = reply.get(key)
        elif isinstance(key, int) and isinstance(reply, list) and 0 <= key < len(reply):
            reply = reply[key]
        else:
            return None
    return reply


def dropped(reply: Any) -> list[str]:
    """The documented optional parameters the probed function lacks, as the worker reports them."""
    found = entry(reply, "dropped")
    return [str(name) for name in found] if isinstance(found, list) else []


def failure_of(described: Any) -> tuple[str, str] | None:
    """(the exception's type name, its text) where the worker reports that the student's code raised, else None:
    the one failure shape of `grader.worker.values.failure`."""
    if isinstance(described, dict) and described.get("kind") == "error":
        return str(described.get("error"))[:80], str(described.get("message"))
    return None


def raised(described: Any, what: str) -> Any:
    """`described` unless it reports an exception of the student's code, which becomes `Invalid`."""
    failed = failure_of(described)
    if failed is not None:
        error, message = failed
        if error == "contract":
            raise Invalid(message[:MESSAGE_CHARS])
        raise Invalid(f"{what} raised {error}: {with_advice(message, MESSAGE_CHARS)}")
    return described


def returned_tensor(described: Any, what: str, shape: tuple[int, ...] | None = None) -> np.ndarray:
    return tensor(raised(described, what), what, shape)


def array_like(described: Any, what: str) -> np.ndarray:
    """The values of a returned numpy array or tensor, for criteria that judge values, not the type."""
    described = raised(described, what)
    if isinstance(described, dict) and described.get("kind") == "tensor":
        return tensor(described, what)
    return ndarray(described, what)


def dtype_of(described: Any) -> str:
    dtype = entry(described, "dtype")
    return dtype if isinstance(dtype, str) else "an unknown dtype"
