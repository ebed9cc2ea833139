"""Probes for the interface checks on networks and the functions built on them: construct the student's
networks, call them and `generate`, `interpolate`, `make_optimizers` on the parent's inputs, report raw outputs,
the module classes a network is made of, and which documented optional parameters each name lacks.

Every call of student code is guarded: an exception becomes `{"kind": "error", ...}` in the reply, so a broken
call costs the parent's criterion for that call only, not the whole check. Optional arguments go through
`gankit.signature.fit`, so a function without one is called without it, and the reply says which it lacked.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch.nn.utils import parametrize
from torch.nn.utils.spectral_norm import SpectralNorm

from gankit.common import one_hot, to_unit_numpy
from gankit.signature import RNG, documented_values, fit

from ..ops import WORKER, op
from ..values import describe, seed_everything, tensor

MODULE_NAMES = 200  # at most this many distinct module class names of one network are reported


class Broken(Exception):
    """What the student's code gave breaks the contract before it can be described (not an nn.Module)."""


def failure(error: BaseException) -> dict[str, Any]:
    """An exception as plain data; the parent turns it into a sentence ("contract": the message says it all)."""
    kind = "contract" if isinstance(error, Broken) else type(error).__name__[:80]
    return {"kind": "error", "error": kind, "message": str(error)[:300]}


def guarded(function: Callable[..., Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
    """`describe(function(*args, **kwargs))`, or the exception it raised."""
    try:
        return describe(function(*args, **kwargs))
    except Exception as error:  # noqa: BLE001 - any exception of student code is an answer
        return failure(error)


def function_of(module: str, name: str) -> Callable[..., Any]:
    """The student's function, or one that raises why it is missing: a missing name then costs the criteria
    that call it, like any other exception, not the whole check."""
    try:
        return WORKER.attribute(module, name)
    except (AttributeError, LookupError) as error:
        problem = error

        def missing(*args: Any, **kwargs: Any) -> Any:
            raise problem

        return missing


def build(module: str, name: str, seed: int) -> torch.nn.Module:
    """`name()` of the student's module with default arguments, seeded, on the worker's device, in eval mode
    (BatchNorm with a batch of one needs it, and spectral norm's power iteration would change the weights)."""
    seed_everything(seed)
    network = WORKER.attribute(module, name)()
    if not isinstance(network, torch.nn.Module):
        raise Broken(f"{name} must be a torch.nn.Module subclass; {name}() built a {type(network).__name__[:60]}")
    return network.to(WORKER.device).eval()


def labels_tensor(labels: list[int]) -> torch.Tensor:
    return one_hot(torch.tensor(labels)).to(WORKER.device)


def soft_labels(first: list[int], second: list[int], weight: float = 0.5) -> torch.Tensor:
    """`weight` of one class and the rest of another: what label interpolation feeds the networks."""
    return weight * labels_tensor(first) + (1.0 - weight) * labels_tensor(second)


def module_names(network: torch.nn.Module) -> list[str]:
    """The class names of the modules the network is made of (itself included), sorted."""
    return sorted({type(m).__name__[:80] for m in network.modules()})[:MODULE_NAMES]


def plain_weights(network: torch.nn.Module) -> torch.nn.Module:
    """The network with spectral (or other) reparametrisations replaced by the weights they give now, in place:
    spectral norm divides a weight by its own scale, so scaling it would change nothing. Only for a network
    built for this purpose: a reparametrised module's class is shared with its copies."""
    reparametrised = [
        (m, name) for m in network.modules() if parametrize.is_parametrized(m) for name in list(m.parametrizations)
    ]
    for module, name in reparametrised:
        parametrize.remove_parametrizations(module, name, leave_parametrized=True)
    for module in list(network.modules()):  # the older hook-based torch.nn.utils.spectral_norm
        for hook in list(module._forward_pre_hooks.values()):
            if isinstance(hook, SpectralNorm):
                torch.nn.utils.remove_spectral_norm(module, hook.name)
    return network


def scaled_scores(
    module: str, name: str, seed: int, scales: list[float], images: torch.Tensor, y: torch.Tensor | None
) -> list[dict[str, Any]]:
    """The scores of a fresh network, built alike, whose every floating parameter is multiplied by each of
    `scales`: an unsquashed piecewise-linear network's scores then grow far beyond 1 (its last layer, norm
    layers' affine parameters and biases grow too), while a sigmoid or tanh at the end keeps them in [-1, 1]."""
    results = []
    for scale in scales:
        try:
            network = plain_weights(build(module, name, seed))
            with torch.no_grad():
                for parameter in network.parameters():
                    if parameter.is_floating_point():
                        parameter.mul_(scale)
        except Exception as error:  # noqa: BLE001
            results.append(failure(error))
            continue
        with torch.no_grad():
            results.append(guarded(network, images) if y is None else guarded(network, images, y))
    return results


@op("interface_generator")
def generator_outputs(
    module: str, name: str, z: np.ndarray, labels: list[int] | None, other: list[int] | None, seed: int
) -> dict[str, Any]:
    """G(z) or G(z, y) on a batch and on its first code alone, and G's module classes; for a conditional G also
    with other labels, with half-and-half soft labels, and with two mixes of the same two classes that share
    their argmax (0.9/0.1 and 0.6/0.4; the same codes each time)."""
    try:
        G = build(module, name, seed)
    except Exception as error:  # noqa: BLE001
        return {"construct": failure(error)}
    codes = tensor(z)
    with torch.no_grad():
        if labels is None or other is None:
            return {"batch": guarded(G, codes), "single": guarded(G, codes[:1]), "modules": module_names(G)}
        y = labels_tensor(labels)
        return {
            "batch": guarded(G, codes, y),
            "single": guarded(G, codes[:1], y[:1]),
            "other_labels": guarded(G, codes, labels_tensor(other)),
            "soft_labels": guarded(G, codes, soft_labels(labels, other)),
            "mostly": guarded(G, codes, soft_labels(labels, other, 0.9)),
            "partly": guarded(G, codes, soft_labels(labels, other, 0.6)),
            "modules": module_names(G),
        }


@op("interface_scorer")
def scorer_outputs(
    module: str,
    name: str,
    x: np.ndarray,
    labels: list[int] | None,
    other: list[int] | None,
    scales: list[float],
    seed: int,
) -> dict[str, Any]:
    """D(x) or D(x, y) on a batch, with other labels for a conditional D, and D's module classes; the same
    inputs' scores with D's parameters scaled by each of `scales` (see `scaled_scores`)."""
    try:
        D = build(module, name, seed)
    except Exception as error:  # noqa: BLE001
        return {"construct": failure(error)}
    images = tensor(x)
    y = None if labels is None else labels_tensor(labels)
    result: dict[str, Any] = {"modules": module_names(D)}
    with torch.no_grad():
        if y is None or other is None:
            result["batch"] = guarded(D, images)
        else:
            result.update(batch=guarded(D, images, y), other_labels=guarded(D, images, labels_tensor(other)))
    result["scaled"] = scaled_scores(module, name, seed, scales, images, y)
    return result


@op("interface_classifier")
def classifier_outputs(module: str, name: str, images: list[np.ndarray], seed: int) -> dict[str, Any]:
    """model(x) and model.features(x) for each batch of images (one batch per image size), and the model's
    module classes."""
    try:
        model = build(module, name, seed)
    except Exception as error:  # noqa: BLE001
        return {"construct": failure(error)}
    outputs = []
    with torch.no_grad():
        for batch in images:
            x = tensor(batch)
            features = getattr(model, "features", None)
            outputs.append(
                {
                    "logits": guarded(model, x),
                    "features": guarded(features, x)
                    if callable(features)
                    else failure(AttributeError(f"{name} has no method features(x)")),
                }
            )
    return {"sizes": outputs, "modules": module_names(model)}


@op("interface_generate")
def generate_outputs(
    module: str,
    function: str,
    generator: str,
    sizes: list[int],
    label: int | None,
    optional: list[list[Any]],
    seed: int,
) -> dict[str, Any]:
    """generate(G, n[, c], rng=...) for each n in `sizes` with the student's G in eval mode, and the first size
    once more with a generator seeded alike, while torch's global seed differs (replay must come from rng);
    `dropped`: the documented optional parameters (`optional`, name and default) that generate lacks."""
    try:
        G = build(module, generator, seed)
    except Exception as error:  # noqa: BLE001
        return {"construct": failure(error)}
    generate = function_of(module, function)
    extra = [] if label is None else [label]

    def run(n: int, global_seed: int) -> tuple[dict[str, Any], list[str]]:
        seed_everything(global_seed)
        rng = torch.Generator(device=WORKER.device).manual_seed(seed)
        fitted = fit(generate, [G, n, *extra], documented_values(optional, {RNG: rng}))
        return guarded(fitted, generate), fitted.dropped

    outputs = [run(n, seed + 1 + i)[0] for i, n in enumerate(sizes)]
    replay, dropped = run(sizes[0], seed + 100)
    return {"sizes": outputs, "replay": replay, "dropped": dropped}


@op("interface_interpolate")
def interpolate_outputs(
    module: str,
    function: str,
    generator: str,
    z0: np.ndarray,
    z1: np.ndarray,
    y0: int,
    y1: int,
    steps: int,
    as_vectors: bool,
    optional: list[list[Any]],
    seed: int,
) -> dict[str, Any]:
    """interpolate(G, z0, z1, y0, y1, steps=...) with class indices or label vectors (`dropped`: the documented
    optional parameters it lacks, so it ran with its own default), and the grader's own G(z0, y0), G(z1, y1) in
    eval mode mapped to [0, 1], from the same G, for the endpoint comparison."""
    try:
        G = build(module, generator, seed)
    except Exception as error:  # noqa: BLE001
        return {"construct": failure(error)}
    interpolate = function_of(module, function)
    start, end = tensor(z0), tensor(z1)
    labels = (labels_tensor([y0])[0], labels_tensor([y1])[0]) if as_vectors else (y0, y1)
    fitted = fit(interpolate, [G, start, end, *labels], documented_values(optional, {"steps": steps}))
    result = {"frames": guarded(fitted, interpolate), "dropped": fitted.dropped}
    endpoints = []
    G.eval()  # in case the student's interpolate left it in training mode
    for code, label in ((start, y0), (end, y1)):
        try:
            with torch.no_grad():
                endpoints.append(to_unit_numpy(G(code.reshape(1, -1), labels_tensor([label])))[0])
        except Exception as error:  # noqa: BLE001
            return {**result, "endpoints": failure(error)}
    result["endpoints"] = describe(np.stack(endpoints))
    return result


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
