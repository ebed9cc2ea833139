"""Reading the train-step probe's event log on the trusted side: every event checked for type, then each
call's backward passes and optimizer steps rebuilt, with the gradient each step applied (the passes since its
network's gradients were last zeroed) and whose loss each pass carried (D's or G's, descending or ascending).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gankit.common import NUM_CLASSES
from grader.formulas import FORMULAS
from grader.validate import Invalid

PENALTY = "gradient_penalty"  # the penalty's role, and the trusted penalty's name in the worker's substitutes
EVENTS = {"init", "call", "end", "G", "D", "grad", "out", "loss", "loss_call", "step"}


class Unreadable(Invalid):
    def __init__(self) -> None:
        super().__init__("the training-step trace could not be read (did train_step change the grader's hooks?)")


@dataclass
class Pass:
    """One backward pass (or autograd.grad call): what it reached and which loss it carried."""

    position: int  # index of its first event in the call's event list
    fresh: dict[str, bool] = field(default_factory=dict)  # network → its gradients were zero when it arrived
    real: float | None = None  # gradient summed over D's scores of real images
    fake: float | None = None  # … of G's images
    interpolates: bool = False  # only D's scores of other inputs (the penalty's interpolates) were differentiated
    losses: list[tuple[str, float]] = field(default_factory=list)  # trusted losses in it, with their scale

    @property
    def role(self) -> str | None:
        """Whose loss this pass carries, "D" or "G"; None when neither (the penalty's inner autograd.grad)."""
        networks = {FORMULAS[name].network for name, _ in self.losses if name in FORMULAS}
        if networks - {None}:
            return "D" if "D" in networks else "G"
        if self.real is not None:
            return "D"
        if self.fake is not None:
            return "G" if self.fake < 0 else "D"
        return None

    @property
    def descends(self) -> bool:
        """The trusted loss enters with a positive scale; with the loss written inline, the scores move the way a
        descending loss moves them (D: real up, fake down; a G pass is recognised by fake going up)."""
        role = self.role
        scales = [scale for name, scale in self.losses if name in FORMULAS and FORMULAS[name].network == role]
        if scales:
            return all(scale > 0 for scale in scales)
        if role == "D":
            return (self.real is None or self.real < 0) and (self.fake is None or self.fake >= 0)
        return True

    @property
    def penalty(self) -> float | None:
        """The scale of the trusted penalty in this pass, or None where it is not in it."""
        return next((scale for name, scale in self.losses if name == PENALTY), None)


@dataclass
class Step:
    net: str
    position: int
    event: dict[str, Any]
    applied: list[Pass]  # the passes whose gradients this step applied
    stale: bool  # its network's gradients were never zeroed since its previous step

    def carries(self, role: str) -> list[Pass]:
        return [p for p in self.applied if p.role == role]


@dataclass
class Call:
    """The events of one train_step call, in order, the snapshot taken after it returned, and its analysis."""

    events: list[dict[str, Any]] = field(default_factory=list)
    end: dict[str, Any] = field(default_factory=dict)
    passes: list[Pass] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)

    @property
    def d_steps(self) -> list[Step]:
        """The steps that updated D with its own loss."""
        return [s for s in self.steps if s.net == "D" and s.carries("D")]

    @property
    def g_steps(self) -> list[Step]:
        return [s for s in self.steps if s.net == "G"]

    @property
    def d_phase(self) -> list[int]:
        return [s.position for s in self.d_steps]


def _fingerprint(value: Any) -> np.ndarray:
    if not isinstance(value, np.ndarray) or value.dtype != np.float64 or value.ndim != 2 or value.shape[1] != 3:
        raise Unreadable()
    return value


def _number(value: Any) -> float:
    if type(value) not in (int, float) or not np.isfinite(value):
        raise Unreadable()
    return float(value)


def _optional_number(value: Any) -> float | None:
    return None if value is None else _number(value)


def _labels_array(described: Any) -> np.ndarray | None:
    """A conditional network's label argument as a float array (b, 10), or None when it was not one."""
    if not isinstance(described, dict) or described.get("kind") != "tensor":
        return None
    array = described.get("array")
    if not isinstance(array, np.ndarray) or array.dtype.kind != "f" or array.ndim != 2:
        return None
    return array if array.shape[1] == NUM_CLASSES and np.isfinite(array).all() else None


def _require(condition: bool) -> None:
    if not condition:
        raise Unreadable()


def _validate(event: Any, conditional: bool) -> dict[str, Any]:
    """The event with every field the analysis reads checked for type; anything else is Unreadable."""
    _require(isinstance(event, dict) and event.get("e") in EVENTS)
    kind = event["e"]
    if kind in ("init", "end", "step"):
        event["d_fp"] = _fingerprint(event.get("d_fp"))
        event["d_max"] = _number(event.get("d_max"))
    if kind in ("init", "end"):
        event["g_fp"] = _fingerprint(event.get("g_fp"))
    if kind == "step":
        _require(event.get("net") in ("G", "D"))
        event["d_after"] = _fingerprint(event.get("d_after"))
    if kind in ("grad", "out", "loss"):
        _require(type(event.get("task")) is int)
    if kind == "grad":
        _require(event.get("net") in ("G", "D") and type(event.get("fresh")) is bool)
    if kind == "out":
        event["real"], event["fake"] = _optional_number(event.get("real")), _optional_number(event.get("fake"))
        _require(type(event.get("other")) is bool)
    if kind in ("loss", "loss_call"):
        _require(isinstance(event.get("name"), str))
    if kind == "loss":
        event["scale"] = _number(event.get("scale"))
    if kind == "loss_call":
        _require(type(event.get("passed")) is bool)
    if kind in ("G", "D") and conditional:
        event["y"] = _labels_array(event.get("y"))
    return event


def read_trace(reply: Any, conditional: bool) -> tuple[dict[str, Any], list[Call]]:
    """The validated initial snapshot and calls, each with its passes and steps rebuilt."""
    _require(isinstance(reply, dict) and isinstance(reply.get("events"), list))
    init: dict[str, Any] | None = None
    calls: list[Call] = []
    for raw in reply["events"]:
        event = _validate(raw, conditional)
        kind = event["e"]
        if kind == "init":
            init = event
        elif kind == "call":
            calls.append(Call())
        else:
            _require(bool(calls) and not calls[-1].end)
            if kind == "end":
                calls[-1].end = event
            else:
                calls[-1].events.append(event)
    _require(init is not None and bool(calls) and all(call.end for call in calls))
    _rebuild(calls)
    return init, calls


def _rebuild(calls: list[Call]) -> None:
    """Each call's passes, and each step with the passes it applied: those since its network's gradients were
    last zeroed, counted from that network's previous step (none zeroed since then: `stale`)."""
    pending: dict[str, list[Pass]] = {"G": [], "D": []}
    for call in calls:
        passes: dict[int, Pass] = {}
        for position, event in enumerate(call.events):
            kind = event["e"]
            if kind in ("grad", "out", "loss"):
                found = passes.setdefault(event["task"], Pass(position))
            if kind == "grad":
                found.fresh[event["net"]] = event["fresh"]
                pending[event["net"]].append(found)
            elif kind == "out":
                if event["real"] is not None:
                    found.real = (found.real or 0.0) + event["real"]
                if event["fake"] is not None:
                    found.fake = (found.fake or 0.0) + event["fake"]
                found.interpolates |= event["other"] and event["real"] is None and event["fake"] is None
            elif kind == "loss":
                found.losses.append((event["name"], event["scale"]))
            elif kind == "step":
                net, since = event["net"], pending[event["net"]]
                zeroed = [i for i, p in enumerate(since) if p.fresh[net]]
                start = zeroed[-1] if zeroed else 0
                call.steps.append(Step(net, position, event, since[start:], stale=bool(since) and not zeroed))
                pending[net] = []
        call.passes = sorted(passes.values(), key=lambda p: p.position)
