"""Messages between the grader and its sandboxed worker: length-prefixed JSON, arrays as raw bytes.

Nothing is ever unpickled. An array travels as its dtype (from a short whitelist), its shape and its bytes in
base64; `decode` rebuilds it with `numpy.frombuffer` after checking that the byte count matches the shape, so
the trusted side never runs code that came from the worker.
"""

from __future__ import annotations

import base64
import json
import struct
from typing import Any, BinaryIO

import numpy as np

ARRAY_KEY = "__array__"
DTYPES = ("float32", "float64", "int64", "int32", "uint8", "bool")
HEADER = struct.Struct(">I")
MAX_MESSAGE_BYTES = 256 * 1024 * 1024


class WireError(ValueError):
    """A message that does not follow the format (truncated, too big, a bad array)."""


def _to_plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        array = np.require(value, requirements="C")  # ascontiguousarray would make a 0-d array 1-d
        if array.dtype.name not in DTYPES:
            raise WireError(f"dtype {array.dtype} cannot travel")
        data = base64.b64encode(array.tobytes()).decode("ascii")
        return {ARRAY_KEY: {"dtype": array.dtype.name, "shape": list(array.shape), "data": data}}
    if isinstance(value, dict):
        return {str(key): _to_plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_to_plain(item) for item in value]
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    if isinstance(value, np.generic):
        return value.item()
    raise WireError(f"{type(value).__name__} cannot travel")


def _from_plain(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {ARRAY_KEY}:
            spec = value[ARRAY_KEY]
            if not isinstance(spec, dict) or spec.get("dtype") not in DTYPES:
                raise WireError("an array with a dtype outside the whitelist")
            shape = spec.get("shape")
            if not isinstance(shape, list) or not all(isinstance(n, int) and n >= 0 for n in shape):
                raise WireError("an array with a malformed shape")
            raw = base64.b64decode(spec.get("data", ""), validate=True)
            dtype = np.dtype(spec["dtype"])
            if len(raw) != int(np.prod(shape, dtype=np.int64)) * dtype.itemsize:
                raise WireError("an array whose bytes do not match its shape")
            return np.frombuffer(raw, dtype=dtype).reshape(tuple(shape)).copy()
        return {key: _from_plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_from_plain(item) for item in value]
    return value


def encode(message: dict[str, Any]) -> bytes:
    body = json.dumps(_to_plain(message)).encode("utf-8")
    return HEADER.pack(len(body)) + body


def decode(body: bytes) -> dict[str, Any]:
    try:
        message = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise WireError(f"not a JSON message: {error}") from error
    if not isinstance(message, dict):
        raise WireError("a message must be a JSON object")
    return _from_plain(message)


def read_message(stream: BinaryIO) -> dict[str, Any] | None:
    """The next message, or None at end of stream."""
    header = stream.read(HEADER.size)
    if not header:
        return None
    if len(header) < HEADER.size:
        raise WireError("truncated header")
    (size,) = HEADER.unpack(header)
    if size > MAX_MESSAGE_BYTES:
        raise WireError(f"message of {size} bytes is over the limit")
    body = stream.read(size)
    if len(body) < size:
        raise WireError("truncated message")
    return decode(body)


def write_message(stream: BinaryIO, message: dict[str, Any]) -> None:
    stream.write(encode(message))
    stream.flush()
