"""Probe for the `attack` kind: the real experiments of `targeted_attack` against the frozen classifier. Only the
adversarial images come back; the parent checks the bounds and scores them with its own copy of the classifier.
(The contract on a small grader-made victim is the interface probe's: probes/interface/attack.py.)"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..ops import WORKER, op
from ..values import function_of, guarded, seed_everything, tensor


@op("attack_run")
def attack_run(
    module: str, function: str, classifier: str, images: str, target: int, eps: float, steps: int, seed: int
) -> dict[str, Any]:
    """x_adv = targeted_attack(frozen classifier, images, target, eps, steps); a fresh classifier per call, so
    nothing an earlier attack did to its copy carries over."""
    # Imported here, not at the top: gankit.classifier pulls in torchvision (about a second), which every
    # other probe would otherwise pay for at worker start.
    from gankit.classifier import load_frozen_classifier

    model, _ = load_frozen_classifier(classifier, WORKER.device)
    seed_everything(seed)
    x = tensor(np.load(images, allow_pickle=False))
    return {"output": guarded(function_of(module, function), model, x, target, eps, steps)}
