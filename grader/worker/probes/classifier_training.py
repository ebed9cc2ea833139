"""Probe for the `classifier_training` kind: a short run of the student's `train_classifier` on a fresh model of
the student's network, then its logits on test images; the parent computes the accuracy."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn as nn

from gankit.signature import RNG, call, documented_values

from ..ops import WORKER, op
from ..values import build, failure, guarded, load_images, seed_everything, tensor


@op("evaluation_train_classifier")
def train_classifier_outputs(
    module: str,
    network: str,
    function: str,
    images: str,
    labels: str,
    test_images: str,
    epochs: int,
    optional: list[list[Any]],
    seed: int,
    batch_size: int = 500,
) -> dict[str, Any]:
    """Train a fresh `network()` with the student's `function` for `epochs` (and the other documented optional
    parameters it takes, at their defaults), then logits on the test images in eval mode, whatever mode the
    model came back in (that is reported separately)."""
    try:
        model = build(module, network, seed)
    except Exception as error:  # noqa: BLE001
        return {"construct": failure(error)}
    model.train()  # as a freshly built model is: build() left it in eval mode
    rng = seed_everything(seed)
    x, y = load_images(images), tensor(np.load(labels, allow_pickle=False))
    try:
        train = WORKER.attribute(module, function)
        trained = call(train, [model, x, y], documented_values(optional, {"epochs": epochs, RNG: rng}))
    except Exception as error:  # noqa: BLE001
        return {"call": failure(error)}
    returned_module = isinstance(trained, nn.Module)
    result: dict[str, Any] = {
        "returned_module": returned_module,
        "returned_type": type(trained).__name__[:80],
        "eval_mode": returned_module and not trained.training,
    }
    net = trained if returned_module else model
    test = load_images(test_images)

    def logits() -> torch.Tensor:
        net.eval()
        with torch.no_grad():
            return torch.cat([net(test[i : i + batch_size]) for i in range(0, len(test), batch_size)])

    return {**result, "logits": guarded(logits)}
