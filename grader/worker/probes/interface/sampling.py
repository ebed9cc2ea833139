"""Probes for `generate` and `interpolate` on the student's generator."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from gankit.common import to_unit_numpy
from gankit.signature import RNG, documented_values, fit

from ...ops import WORKER, op
from ...values import build, describe, failure, function_of, guarded, seed_everything, tensor
from .networks import labels_tensor


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
