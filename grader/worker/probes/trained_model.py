"""The student's trained generator: its checkpoint loaded into the student's own Generator (built with its
defaults), then sampled through the student's `generate`, or through G itself in eval mode where the task has no
`generate`. Returns images, or why the checkpoint was refused; the parent scores the images.

The file is read with `torch.load(weights_only=True)`, torch's restricted unpickler: it rebuilds tensors and
plain containers and refuses every other global, so a pickle crafted to run code on load runs none. It is read
here, inside the sandbox, all the same; the grader's own process never unpickles it."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from gankit.common import NUM_CLASSES, sample_latent, to_unit_numpy
from gankit.signature import RNG, documented_values, fit
from gankit.training import sample_images

from ..ops import WORKER, op
from ..values import build, describe, failure, function_of, guarded

MESSAGE_CHARS = 400


class Refused(Exception):
    """The checkpoint cannot be used: `reason` (a key of the parent's messages) and what was found."""

    def __init__(self, reason: str, message: str = "") -> None:
        super().__init__(message)
        self.reason = reason


def read_state_dict(path: str) -> dict[str, torch.Tensor]:
    """The checkpoint as {parameter name: tensor}; Refused when unreadable, a pickle that needs more than tensors,
    or not a flat mapping of names to tensors."""
    try:
        state = torch.load(path, map_location=WORKER.device, weights_only=True)
    except Exception as error:  # noqa: BLE001 - whatever the file holds, it is an answer
        text = " ".join(str(error).split())
        reason = "pickle" if "weights_only" in text or "Unsupported global" in text else "unreadable"
        raise Refused(reason, f"{type(error).__name__}: {text}") from None
    if not isinstance(state, dict):
        raise Refused("not_state_dict", f"a {type(state).__name__}")
    odd = [str(key)[:60] for key, value in state.items() if not (isinstance(key, str) and torch.is_tensor(value))]
    if odd:
        raise Refused("not_state_dict", "entries that are not tensors: " + ", ".join(odd[:5]))
    return state


def loaded_generator(module: str, generator: str, checkpoint: str, seed: int) -> torch.nn.Module:
    """The student's `generator()` with the checkpoint's weights, in eval mode; Refused when they do not fit."""
    state = read_state_dict(checkpoint)
    try:
        G = build(module, generator, seed)
    except Exception as error:  # noqa: BLE001
        raise Refused("construct", str(failure(error)["message"])) from None
    try:
        G.load_state_dict(state, strict=True)
    except Exception as error:  # noqa: BLE001 - missing, unexpected or misshapen keys
        raise Refused("mismatch", " ".join(str(error).split())) from None
    nonfinite = [
        name for name, value in G.state_dict().items() if value.is_floating_point() and not value.isfinite().all()
    ]
    if nonfinite:
        raise Refused("nonfinite", ", ".join(nonfinite[:5]))
    return G.eval()


@op("trained_model")
def trained_model_samples(
    module: str,
    generator: str,
    generate: str | None,
    conditional: bool,
    checkpoint: str,
    per_class: int,
    optional: list[list[Any]],
    seed: int,
) -> dict[str, Any]:
    """`per_class` images of each class (conditional) or 10·`per_class` images, in [0, 1] as `generate` returns
    them, from the student's Generator() with the checkpoint's weights; or {"refused": why, "message": ...}."""
    try:
        G = loaded_generator(module, generator, checkpoint, seed)
    except Refused as refusal:
        return {"refused": refusal.reason, "message": str(refusal)[:MESSAGE_CHARS]}
    rng = torch.Generator(device=WORKER.device).manual_seed(seed)
    if generate is None:  # G itself, as the training stage samples it, mapped to [0, 1] as generate would
        labels = torch.arange(NUM_CLASSES).repeat_interleave(per_class)
        z = sample_latent(len(labels), "cpu", torch.Generator().manual_seed(seed))
        images = to_unit_numpy(sample_images(conditional, G, labels, z))  # (10·per_class, H, W), class-major
        return {"samples": [describe(part) for part in (np.split(images, NUM_CLASSES) if conditional else [images])]}
    function = function_of(module, generate)
    values = documented_values(optional, {RNG: rng})
    calls = [[G, per_class, c] for c in range(NUM_CLASSES)] if conditional else [[G, NUM_CLASSES * per_class]]
    return {"samples": [guarded(fit(function, required, values), function) for required in calls]}
