"""The contract of `targeted_attack` on a small grader-made victim; the attack's success against the frozen
classifier is the `attack` kind's (grader/checks/attack.py)."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from gankit.catalogue import Name
from gankit.common import NUM_CLASSES
from grader.checks import CheckContext, Criteria
from grader.checks.interface.criteria import contract, in_range, judge, readable
from grader.checks.probing import seed_for
from grader.validate import Invalid, dtype_of, entry, returned_tensor

ATTACK_EPS = 0.2
ATTACK_STEPS = 5


@contract("targeted_attack")
def check_targeted_attack(ctx: CheckContext, criteria: Criteria, named: Name) -> None:
    """On a small grader-made victim whose target class is out of reach (so every step is taken), and images at
    the edges of the range: an int target works and gives x's shape, dtype and device (1); a (B,) target
    works likewise (1); ‖x_adv − x‖∞ ≤ eps per sample (1); values in [-1, 1] (1); x and the model unchanged (1)."""
    function = named.name
    size = ctx.task.image_size
    tolerance = float(ctx.params.get("tolerance", 1e-6))
    x = np.stack(
        [
            np.full((1, size, size), -1.0),  # black: every step that lowers a pixel leaves the range
            np.full((1, size, size), 1.0),
            np.where(ctx.rng.random((1, size, size)) < 0.5, -1.0, 1.0),
            ctx.rng.uniform(-1.0, 1.0, (1, size, size)),
        ]
    ).astype(np.float32)
    targets = [9, int(ctx.rng.integers(1, NUM_CLASSES)), 9, int(ctx.rng.integers(1, NUM_CLASSES))]
    reply = ctx.call(
        "attack_contract",
        module=ctx.module,
        function=function,
        x=x,
        targets=targets,
        eps=ATTACK_EPS,
        steps=ATTACK_STEPS,
        seed=seed_for(ctx),
    )
    keys = {"int_target": "an int target", "tensor_target": "a (B,) int64 target"}

    def described(key: str) -> tuple[str, Any]:
        return f"{function}(model, x, target, eps, steps) with {keys[key]}", entry(reply, key, "output")

    def adversarial(key: str) -> np.ndarray:
        what, output = described(key)
        array = returned_tensor(output, what, x.shape)
        if dtype_of(output) != "float32" or entry(reply, key, "same_device") is not True:
            raise Invalid(f"{what} must return x_adv with x's dtype (float32) and device")
        return array

    for key in keys:
        judge(criteria, 1.0, readable(functools.partial(adversarial, key)))

    def outputs() -> list[np.ndarray]:
        """The x_adv of every call that returned one, whatever its dtype or device: a call that failed costs its
        own criterion above, and the bounds are judged on the others (on the first failure when none did)."""
        found, problems = [], []
        for key in keys:
            what, output = described(key)
            try:
                found.append(returned_tensor(output, what, x.shape))
            except Invalid as error:
                problems.append(error)
        if not found:
            raise problems[0]
        return found

    def within_ball() -> str | None:
        for x_adv in outputs():
            change = np.abs(x_adv.astype(np.float64) - x).reshape(len(x), -1).max(axis=1)
            if (change > ATTACK_EPS + tolerance).any():
                return f"{function} moved pixels further than eps: project onto [x − eps, x + eps] after every step"
        return None

    def within_range() -> str | None:
        for x_adv in outputs():
            if not in_range(x_adv, -1.0 - tolerance, 1.0 + tolerance):
                return f"{function} left the pixel range: clamp x_adv to [-1, 1] after every step"
        return None

    def untouched() -> str | None:
        outputs()  # an attack that returns nothing has shown nothing about what it leaves alone
        if any(entry(reply, key, "x_unchanged") is False for key in keys):
            return f"{function} changed its input x in place: work on a copy (x.clone())"
        if entry(reply, "model_unchanged") is not True:
            return f"{function} changed the model (its parameters, buffers or mode): leave it as it came"
        return None

    for test in (within_ball, within_range, untouched):
        judge(criteria, 1.0, test)
