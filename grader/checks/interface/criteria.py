"""What every contract of the `interface` kind shares: the registry of contracts by role, the helpers that turn a
test into a criterion, and the inputs the grader chooses.

A contract is a function `(ctx, criteria, name) -> reply` registered with `@contract(role, ...)` for the roles
(`gankit.catalogue.Name.role`) it verifies; it adds its criteria to `criteria`, and a network's contract returns
the worker's reply, from which `layers` reads the network's modules.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gankit.catalogue import Name
from grader.checks import CheckContext, Criteria
from grader.validate import Invalid, raised

BATCH = 5
RANGE_TOLERANCE = 1e-6
CHANGE_TOLERANCE = 1e-6  # outputs that differ by less are "the same"

Contract = Callable[[CheckContext, Criteria, Name], Any]
CONTRACTS: dict[str, Contract] = {}  # role → the contract of the names that play it


def contract(*roles: str) -> Callable[[Contract], Contract]:
    """Register the decorated function as the contract of every name that plays one of `roles`."""

    def register(function: Contract) -> Contract:
        for role in roles:
            CONTRACTS[role] = function
        return function

    return register


def fulfils(ctx: CheckContext, criteria: Criteria, name: Name) -> Any:
    """Judge `name` by the contract of its role; returns what the contract returns (a network's reply)."""
    if name.role not in CONTRACTS:
        raise LookupError(f"task {ctx.task.id}: no interface contract for {name.name}'s role {name.role!r}")
    return CONTRACTS[name.role](ctx, criteria, name)


# ---- criteria ----------------------------------------------------------------------------------------------------


def judge(criteria: Criteria, weight: float, test: Callable[[], str | None], primary: bool = False) -> bool:
    """One criterion: `test` returns None when it holds, else the sentence that says what to fix."""
    try:
        problem = test()
    except Invalid as error:
        problem = str(error)
    return criteria.add(weight, problem is None, problem or "", primary=primary)


def readable(read: Callable[[], object]) -> Callable[[], None]:
    """A criterion that holds when `read` gets its value without `Invalid`."""

    def test() -> None:
        read()

    return test


def fail_all(criteria: Criteria, weights: list[float], problem: str, primary: bool = False) -> None:
    """Every criterion failed for one reason (nothing could be tried); `primary`: one of them is primary."""
    for index, weight in enumerate(weights):
        criteria.add(weight, False, problem, primary=primary and index == 0)


def construct_failure(reply: Any, name: str) -> str | None:
    """Why the network could not be built, or None; a reply that is not a dict counts as unreadable."""
    if not isinstance(reply, dict):
        return f"the worker's answer about {name} could not be read"
    construct = reply.get("construct")
    if construct is None:
        return None
    try:
        raised(construct, f"{name}() with default arguments")
    except Invalid as error:
        return str(error)
    return f"{name}() with default arguments could not be built"


def call_failure(described: Any, what: str) -> str | None:
    """Why the first call of the student's code raised, or None: every criterion that needs its output then
    fails with this one sentence."""
    try:
        raised(described, what)
    except Invalid as error:
        return str(error)
    return None


def in_range(array: np.ndarray, low: float, high: float) -> bool:
    """Every value in [low, high] (an empty array has none to show, and fails)."""
    return array.size > 0 and bool(array.min() >= low - RANGE_TOLERANCE and array.max() <= high + RANGE_TOLERANCE)


def same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=0.0, atol=CHANGE_TOLERANCE))


# ---- inputs ------------------------------------------------------------------------------------------------------


def image_sizes(ctx: CheckContext) -> list[int]:
    return [int(size) for size in ctx.params.get("image_sizes", [ctx.task.image_size])]


def images_in_range(ctx: CheckContext, count: int, size: int) -> np.ndarray:
    return ctx.rng.uniform(-1.0, 1.0, (count, 1, size, size)).astype(np.float32)
