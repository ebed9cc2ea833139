"""The probe registry and the worker's state: loaded student modules, the device, the inputs folder.

A probe is a function registered with `@op("name")`; it takes plain JSON values and numpy arrays chosen by
the parent, calls the student's code, and returns plain values and arrays (see `values.describe`).
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

OPS: dict[str, Callable[..., Any]] = {}


def op(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def register(function: Callable[..., Any]) -> Callable[..., Any]:
        OPS[name] = function
        return function

    return register


@dataclass
class WorkerState:
    device: str = "cpu"
    inputs: Path | None = None
    modules: dict[str, ModuleType] = field(default_factory=dict)

    def configure(self, device: str, inputs: str | None) -> None:
        self.device = device
        self.inputs = Path(inputs) if inputs else None

    def module(self, name: str) -> ModuleType:
        if name not in self.modules:
            raise LookupError(f"module {name} is not loaded")
        return self.modules[name]

    def attribute(self, module: str, name: str) -> Any:
        loaded = self.module(module)
        if not hasattr(loaded, name):
            raise AttributeError(f"{module}.py has no {name}")
        return getattr(loaded, name)


WORKER = WorkerState()


@op("load")
def load(module: str, path: str, names: list[str]) -> dict[str, str]:
    """Import the student's file as `module`; return what kind of object each required name is."""
    spec = importlib.util.spec_from_file_location(module, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    loaded = importlib.util.module_from_spec(spec)
    sys.modules[module] = loaded
    spec.loader.exec_module(loaded)
    WORKER.modules[module] = loaded
    kinds = {}
    for name in names:
        value = getattr(loaded, name, None)
        kinds[name] = (
            "missing"
            if value is None
            else "class"
            if isinstance(value, type)
            else ("function" if callable(value) else "other")
        )
    return kinds
