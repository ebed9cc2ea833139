"""Probes for the evaluation task's contracts: `extract_features` on a grader-made model, `tsne_embedding`, and
`generated_accuracy` with grader-made generators and the frozen classifier. Only raw outputs come back; the
parent computes what they should have been."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn as nn

from gankit.signature import RNG, documented_values, fit

from ...ops import WORKER, op
from ...values import describe, function_of, guarded, seed_everything, tensor


class _FeatureModel(nn.Module):
    """A small classifier with `features(x)` whose output depends on the mode: BatchNorm uses batch statistics
    and Dropout drops units in training mode, so features computed outside eval mode show."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1),
            nn.BatchNorm2d(8),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(4),  # (B, 8, 4, 4) for any image size
            nn.Flatten(),
            nn.Dropout(0.5),
            nn.Linear(128, 16),
            nn.ReLU(),
        )
        self.head = nn.Linear(16, 10)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


@op("evaluation_features")
def features_outputs(module: str, function: str, images: list[np.ndarray], seed: int) -> dict[str, Any]:
    """extract_features(model, x) per batch with the model in training mode, then once with it in eval mode:
    the features, the eval-mode features the grader computed before each call, and the mode after each call."""
    seed_everything(seed)
    model = _FeatureModel().to(WORKER.device)
    extract = function_of(module, function)
    runs = []
    for batch, training in [(batch, True) for batch in images] + [(images[0], False)]:
        x = tensor(batch)
        with torch.no_grad():
            expected = model.eval().features(x)
        model.train(training)
        runs.append(
            {
                "output": guarded(extract, model, x),
                "expected": describe(expected),
                "training_before": training,
                "training_after": bool(model.training),
            }
        )
    return {"runs": runs}


@op("evaluation_tsne")
def tsne_output(
    module: str, function: str, features: np.ndarray, as_tensor: bool, optional: list[list[Any]], seed: int
) -> dict[str, Any]:
    """tsne_embedding(features, seed=...) with the features as a tensor or as a numpy array; the documented
    optional parameters (`optional`) only where the function takes them."""
    seed_everything(seed + 1)  # a global seed unlike `seed`: determinism must come from the argument
    values = tensor(features) if as_tensor else np.array(features)
    embed = function_of(module, function)
    return {"output": guarded(fit(embed, [values], documented_values(optional, {"seed": seed})), embed)}


class _PoolGenerator(nn.Module):
    """G(z, y) that returns stored real images: for a row labelled c the next image of `pools[c]`, or, when
    `fixed` is a class, the next image of `pools[fixed]` whatever the label."""

    def __init__(self, pools: torch.Tensor, fixed: int | None) -> None:
        super().__init__()
        self.anchor = nn.Parameter(torch.zeros(()))  # student code reads the device from G's parameters
        self.pools = pools  # (classes, n, 1, H, W)
        self.fixed = fixed
        self.next = [0] * len(pools)

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        rows = []
        for label in y.argmax(dim=1).tolist():
            c = label if self.fixed is None else self.fixed
            rows.append(self.pools[c, self.next[c] % self.pools.shape[1]])
            self.next[c] += 1
        return torch.stack(rows).to(z.device) + 0.0 * self.anchor


@op("evaluation_generated_accuracy")
def generated_accuracy_outputs(
    module: str,
    function: str,
    classifier: str,
    pools: str,
    fixed: list[int | None],
    n_per_class: int,
    optional: list[list[Any]],
    seed: int,
) -> dict[str, Any]:
    """generated_accuracy(frozen classifier, G, n_per_class=..., rng=...) for one pool generator per entry of
    `fixed`; the documented optional parameters (`optional`) only where the function takes them."""
    # Imported here: gankit.classifier pulls in torchvision, which other probes should not pay for.
    from gankit.classifier import load_frozen_classifier

    images = tensor(np.load(pools, allow_pickle=False))
    accuracy = function_of(module, function)
    outputs = []
    for kind in fixed:
        model, _ = load_frozen_classifier(classifier, WORKER.device)  # a fresh copy: nothing carries over
        rng = seed_everything(seed)
        G = _PoolGenerator(images, kind).to(WORKER.device)
        given = {"n_per_class": n_per_class, RNG: rng}
        outputs.append(guarded(fit(accuracy, [model, G], documented_values(optional, given)), accuracy))
    return {"outputs": outputs}
