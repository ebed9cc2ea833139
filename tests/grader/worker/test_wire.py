"""The message format between grader and worker: arrays survive the trip; nothing else can pass as one."""

from __future__ import annotations

import base64
import io
import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from grader.worker import wire


@given(hnp.arrays(st.sampled_from([np.float32, np.float64, np.int64, np.bool_]), hnp.array_shapes(min_dims=0)))
def test_arrays_round_trip_exactly(array: np.ndarray) -> None:
    stream = io.BytesIO()
    wire.write_message(stream, {"value": array, "nested": [{"x": array}], "n": 3})
    stream.seek(0)
    message = wire.read_message(stream)
    assert message is not None
    for got in (message["value"], message["nested"][0]["x"]):
        assert got.dtype == array.dtype and got.shape == array.shape
        np.testing.assert_array_equal(got, array)
    assert wire.read_message(stream) is None


def forged(spec: dict) -> bytes:
    return json.dumps({"value": {wire.ARRAY_KEY: spec}}).encode()


@pytest.mark.parametrize(
    "spec",
    [
        {"dtype": "object", "shape": [1], "data": ""},
        {"dtype": "float32", "shape": [4], "data": base64.b64encode(b"\0" * 8).decode()},
        {"dtype": "float32", "shape": [-1], "data": ""},
        {"dtype": "float32", "shape": "big", "data": ""},
        {"dtype": "float32", "shape": [1], "data": "!!not base64!!"},
    ],
    ids=["dtype", "byte-count", "negative-shape", "shape-type", "base64"],
)
def test_malformed_arrays_are_refused(spec: dict) -> None:
    with pytest.raises((wire.WireError, ValueError)):
        wire.decode(forged(spec))


def test_objects_that_cannot_travel_are_refused() -> None:
    with pytest.raises(wire.WireError):
        wire.encode({"value": object()})
    with pytest.raises(wire.WireError):
        wire.encode({"value": np.array(["text"])})


def test_truncated_and_oversized_messages_are_refused() -> None:
    whole = wire.encode({"a": 1})
    with pytest.raises(wire.WireError, match="truncated"):
        wire.read_message(io.BytesIO(whole[:-1]))
    with pytest.raises(wire.WireError, match="over the limit"):
        wire.read_message(io.BytesIO(wire.HEADER.pack(wire.MAX_MESSAGE_BYTES + 1)))
