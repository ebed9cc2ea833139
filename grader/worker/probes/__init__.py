"""Probes, one module per family of checks (a package, such as `interface`, per kind whose checks split by
idea); each registers its operations with `ops.op` when imported."""

from __future__ import annotations

import importlib
import pkgutil


def load_all() -> None:
    """Import every module of this package and of its subpackages."""
    for module in pkgutil.walk_packages(__path__, prefix=f"{__name__}."):
        importlib.import_module(module.name)
