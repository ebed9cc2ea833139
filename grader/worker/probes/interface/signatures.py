"""Probe for `signatures`: which documented optional parameters each name's signature does not accept."""

from __future__ import annotations

from typing import Any

from gankit.signature import fit

from ...ops import WORKER, op


@op("interface_signatures")
def missing_parameters(module: str, names: dict[str, list[Any]]) -> dict[str, list[str] | None]:
    """For each name (its count of required arguments and its documented optional parameters), the optional
    ones its signature (a class: its constructor's) does not accept, by the rules `fit` calls it with; None for
    a name the module lacks (its own criteria say so)."""
    missing: dict[str, list[str] | None] = {}
    for name, (required, optional) in names.items():
        try:
            found = WORKER.attribute(module, name)
        except (AttributeError, LookupError):
            missing[name] = None
            continue
        missing[name] = fit(found, [None] * int(required), [(str(p), None) for p in optional]).dropped
    return missing
