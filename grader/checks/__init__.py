"""Checks, registered by kind: each task's `task.toml` names a kind per check, and the grader looks it up here.

A check is a function `(ctx: CheckContext) -> Outcome` registered with `@check_kind("name")`. It chooses the
inputs, asks the sandboxed worker for raw outputs through `ctx.call`, validates them with `grader.validate`,
and scores them itself. A check module is found by being in this package; adding a kind needs no other change.
"""

from __future__ import annotations

import importlib
import pkgutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gankit.catalogue import Check, Task
from grader.advice import with_advice
from grader.sandbox import StudentError, Worker

CheckFunction = Callable[["CheckContext"], "Outcome"]


@dataclass(frozen=True)
class Kind:
    """A check kind as registered: the function that runs it and what the grade needs to know of it."""

    name: str
    run: CheckFunction
    trains: bool = False  # a training stage: left out by `grade --no-train`
    # the check's wall-clock limit for a task and device ('cpu' or 'cuda'); None: the grade's per-check limit
    time_limit: Callable[[Task, str], float] | None = None
    timeout_message: Callable[[float], str] | None = None  # what reaching that limit means, for the student


CHECKS: dict[str, Kind] = {}


def check_kind(kind: str, **facts: Any) -> Callable[[CheckFunction], CheckFunction]:
    """Register the decorated function as check kind `kind`, with the facts (`Kind`'s fields) the grade needs."""

    def register(function: CheckFunction) -> CheckFunction:
        CHECKS[kind] = Kind(kind, function, **facts)
        return function

    return register


def load_all() -> dict[str, Kind]:
    """Every registered kind: each module (and subpackage) of this package registers its own when imported."""
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
    return CHECKS


@dataclass
class Outcome:
    """A check's result: the fraction of its points earned, in [0, 1], and one sentence for the student."""

    fraction: float
    message: str
    images: dict[str, str] = field(default_factory=dict)  # title → data: URI, shown in the report
    details: dict[str, Any] = field(default_factory=dict)  # figures for the report and results.json

    def __post_init__(self) -> None:
        self.fraction = float(min(1.0, max(0.0, self.fraction)))


class Criteria:
    """Partial credit: weighted criteria, each passed or failed with the sentence that says what to fix.

    A criterion marked `primary` is about the property its check exists for (a penalty's value, a loss's
    gradient, which network an update moves). A failed primary criterion halves what the others earn, so it
    costs at least half of the check, while a side property (dtype, device, messages, unusual inputs) costs
    only its weight's share (SPEC: severity). A tip is advice for code that earns its points all the same.
    """

    PRIMARY_FAILURE_FACTOR = 0.5

    def __init__(self) -> None:
        self._items: list[tuple[float, bool, str, bool]] = []
        self._tips: list[str] = []

    def add(self, weight: float, passed: bool, failure: str, *, primary: bool = False) -> bool:
        self._items.append((weight, bool(passed), failure, primary))
        return bool(passed)

    def tip(self, sentence: str) -> None:
        self._tips.append(sentence)

    @property
    def fraction(self) -> float:
        total = sum(weight for weight, _, _, _ in self._items) or 1.0
        earned = sum(weight for weight, passed, _, _ in self._items if passed)
        primary_failed = any(primary and not passed for _, passed, _, primary in self._items)
        return earned / total * (self.PRIMARY_FAILURE_FACTOR if primary_failed else 1.0)

    def outcome(self, success: str) -> Outcome:
        failures = [failure for _, passed, failure, _ in self._items if not passed]
        message = "; ".join(dict.fromkeys(failures)) if failures else success
        if self._tips:
            message += " (tip: " + "; ".join(dict.fromkeys(self._tips)) + ")"
        return Outcome(self.fraction, message)


def threshold_fraction(value: float, zero: float, full: float) -> float:
    """The share a figure earns: 0 at `zero`, 1 at `full`, linear between (either direction), clipped to [0, 1];
    a step at `full` when the two are equal."""
    if zero == full:
        return float(value >= full)
    return float(np.clip((value - zero) / (full - zero), 0.0, 1.0))


@dataclass
class CheckContext:
    """What a check may use: its task and parameters, the worker (through `call`) and the inputs folder."""

    task: Task
    check: Check
    worker: Worker
    inputs_dir: Path
    deadline: float
    seed: int = 0
    device: str = "cpu"
    prepare: Callable[[], None] = lambda: None
    checkpoint: Path | None = None  # the submitted `<task>.pt` on the host (`Worker.submission_path` for the worker)

    @property
    def params(self) -> dict[str, Any]:
        return self.check.params

    @property
    def module(self) -> str:
        return self.task.id

    @property
    def rng(self) -> np.random.Generator:
        """Inputs the grader chooses; seeded per check so a re-grade sees the same inputs."""
        if not hasattr(self, "_rng"):
            self._rng = np.random.default_rng([self.seed, sum(map(ord, self.task.id + self.check.id))])
        return self._rng

    def seconds_left(self) -> float:
        return self.deadline - time.monotonic()

    def call(self, op: str, **args: Any) -> Any:
        """Run probe `op` in the worker with the task's module loaded; raises what `Worker.call` raises."""
        self.prepare()
        return self.worker.call(op, timeout=max(0.1, self.seconds_left()), **args)

    def call_function(self, function: str, *args: Any, grad: bool = False, **kwargs: Any) -> dict[str, Any]:
        return self.call("call", module=self.module, function=function, args=list(args), kwargs=kwargs, grad=grad)

    def put_images(self, name: str, images: np.ndarray) -> str:
        """Images in [-1, 1] written as uint8 pixels (a quarter of float32's bytes); the worker reads them back
        with `values.load_images`."""
        return self.put_array(name, np.rint((images + 1.0) * 127.5).clip(0, 255).astype(np.uint8))

    def put_array(self, name: str, array: np.ndarray) -> str:
        """Write a large input where the worker can read it (read-only); returns the path the worker uses."""
        path = self.inputs_dir / f"{name}.npy"
        np.save(path, np.ascontiguousarray(array), allow_pickle=False)
        return self.worker.inputs_path(path)


def student_error_message(error: StudentError, what: str) -> str:
    return f"{what} raised {error.kind}: {with_advice(str(error).split(': ', 1)[-1])}"
