"""Probe for make_optimizers' contract, on two small grader-made networks."""

from __future__ import annotations

from typing import Any

import torch

from ...ops import WORKER, op
from ...values import failure, function_of, seed_everything


def _parameter_ids(network: torch.nn.Module) -> set[int]:
    return {id(p) for p in network.parameters()}


def _optimizer_facts(optimizer: Any, own: torch.nn.Module, other: torch.nn.Module) -> dict[str, Any]:
    """What the parent needs to know of one optimizer: its class, settings, and which parameters it holds."""
    if not isinstance(optimizer, torch.optim.Optimizer):
        return {"is_optimizer": False, "type": type(optimizer).__name__[:80]}
    held = [p for group in optimizer.param_groups for p in group["params"]]
    ids = [id(p) for p in held]
    groups = []
    for group in optimizer.param_groups:
        betas = group.get("betas")
        groups.append(
            {
                "lr": float(group["lr"]),
                "betas": [float(b) for b in betas] if isinstance(betas, tuple | list) else None,
            }
        )
    return {
        "is_optimizer": True,
        "type": type(optimizer).__name__[:80],
        "own_parameters": len(ids) == len(set(ids)) and set(ids) == _parameter_ids(own),
        "other_parameters": bool(set(ids) & _parameter_ids(other)),
        "groups": groups,
    }


@op("interface_optimizers")
def optimizer_facts(module: str, function: str, seed: int) -> dict[str, Any]:
    """make_optimizers(G, D) on two small grader-made networks, so its test does not depend on the student's
    networks; D has a BatchNorm so that every kind of parameter is there."""
    seed_everything(seed)
    G = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2)).to(WORKER.device)
    D = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.BatchNorm1d(3), torch.nn.Linear(3, 1)).to(WORKER.device)
    try:
        pair = function_of(module, function)(G, D)
    except Exception as error:  # noqa: BLE001
        return {"call": failure(error)}
    if not isinstance(pair, tuple | list) or len(pair) != 2:
        return {"pair": False, "type": type(pair).__name__[:80]}
    try:
        return {"pair": True, "G": _optimizer_facts(pair[0], G, D), "D": _optimizer_facts(pair[1], D, G)}
    except Exception as error:  # noqa: BLE001 - a student optimizer whose settings cannot be read
        return {"call": failure(error)}
