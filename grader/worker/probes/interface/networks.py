"""Probes for the networks' contracts: a generator, a scorer (discriminator or critic) and a classifier, each
built with default arguments and called on the parent's inputs; the module classes each is made of."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch.nn.utils import parametrize
from torch.nn.utils.spectral_norm import SpectralNorm

from gankit.common import one_hot

from ...ops import WORKER, op
from ...values import build, failure, guarded, tensor

MODULE_NAMES = 200  # at most this many distinct module class names of one network are reported


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
