"""Kind `train_step`: the semantics of one training step, judged by its effect. The worker traces the student's
`train_step` twice on their own (small) networks with grader-made optimizers, with the task's trusted losses,
penalty and clipping in place of the student's module-level ones (so a wrong loss costs its own check only).
The call form, the optimizers and the result keys are the task's `[training]` (`gankit.training.GanSpec`).
params: `d_steps` (real batches per call, for `real = "batches"`; default the stage's), `generator_losses`
(formula names passed in turn as the function-valued optional parameter), `clip` (the bound every critic
parameter must keep after each critic update).

From the trace the parent rebuilds every backward pass (which network it reached, whether that network's
gradients had been zeroed before it, and whether it carried a D loss or a G loss, descending or ascending: the
sign of the gradient at D's scores of real and of generated images, or the scale at the trusted loss), and the
gradient each optimizer step applied: the passes since that network's gradients were last zeroed.

Primary (each costs at least half, SPEC severity): the number of updates (k / n_critic D steps and one G
step); G's update is the gradient of G's loss alone and descends it; D's update descends D's loss (with the
penalty where the task has one); D is moved only by its own loss; labels given to both networks (conditional
tasks); every critic parameter in [−c, c] after each critic update (clipping tasks); the generator_loss
argument trained (tasks that pass one). Side: the order of the updates, gradients zeroed before each backward,
the returned dict's keys. A D loss whose backward also reaches G is correct when G's gradients are zeroed
before G's backward: full points and a tip that detach() saves that work.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gankit.catalogue import Task
from gankit.common import NUM_CLASSES
from gankit.training import GanSpec
from grader.checks import CheckContext, Criteria, Outcome, check_kind
from grader.checks.train_step.trace import PENALTY, Call, Step, Unreadable, read_trace
from grader.formulas import FORMULAS

BATCH = 8  # small batches of small networks: the check runs in a fraction of a second
CALLS = 2  # a gradient left over by a missing zero_grad shows at the next call's step
SMALL = {"width": 8, "hidden": 32}  # constructor knobs of the networks, used when the constructor has them
TRUSTED_HELPERS = (PENALTY, "clip_weights")  # roles whose trusted version replaces the student's while tracing


def _one_hot(labels: np.ndarray) -> np.ndarray:
    return np.eye(NUM_CLASSES, dtype=np.float64)[labels]


def _same_labels(y: np.ndarray | None, expected: np.ndarray) -> bool:
    """y is the batch's one-hot labels, or several copies of them (real and fake scored in one call)."""
    if y is None or len(y) == 0 or len(y) % len(expected):
        return False
    return np.allclose(y, np.tile(expected, (len(y) // len(expected), 1)), atol=1e-6)


def _labels_problem(call: Call, labels: np.ndarray, d_name: str) -> str | None:
    """Why the networks of one call were not conditioned on the labels given, or None.

    Up to the last D step: G makes the fakes for the current batch's labels, D scores real and fake with them.
    After it (the G phase): G may draw its labels (the statement allows any batch of labels), but D must
    judge with labels G made fakes for, or with those of a real batch.
    """
    d_steps = call.d_phase
    given = [_one_hot(batch) for batch in labels]
    g_labels = [e["y"] for e in call.events if e["e"] == "G" and e["y"] is not None]
    for position, event in enumerate(call.events):
        if event["e"] not in ("G", "D"):
            continue
        if event["y"] is None:
            return f"call G(z, y) and {d_name}(x, y) with y = one_hot(labels), a float tensor (B, 10)"
        if d_steps and position < d_steps[-1]:
            batch = sum(1 for step in d_steps if step < position)
            if not _same_labels(event["y"], given[batch]):
                return (
                    f"condition both networks on the batch's labels in the {d_name} update: y = one_hot(labels), "
                    f"the fakes made by G(z, y) and {d_name}(x, y) on real and fake with the same y"
                )
        elif event["e"] == "G":
            rows = event["y"]
            if not (np.isclose(rows.sum(axis=1), 1).all() and np.isclose(rows.max(axis=1), 1).all()):
                return "in the generator update, call G(z, y) with one-hot labels y = one_hot(labels)"
        elif not any(_same_labels(event["y"], y) for y in (*g_labels, *given)):
            return f"in the generator update, give {d_name} the same labels G made the fakes for"
    return None


def _result_problem(described: Any, keys: list[str]) -> str | None:
    sentence = "train_step must return a dict of Python floats with the keys " + ", ".join(keys)
    if (
        not isinstance(described, dict)
        or described.get("kind") != "dict"
        or not isinstance(described.get("items"), dict)
    ):
        return sentence
    items = described["items"]
    for key in keys:
        value = items.get(key)
        if not isinstance(value, dict) or value.get("kind") != "number":
            return f"{sentence}: {key} is missing or not a number (use .item())"
        number = value.get("value")
        if type(number) not in (int, float) or not np.isfinite(number):
            return f"{sentence}: {key} is not finite"
        if key.startswith("d_acc") and not 0.0 <= number <= 1.0:
            return f"{key} must be a fraction in [0, 1]"
    return None


def _substitutes(task: Task) -> dict[str, str]:
    """The student's module-level names that train_step calls, each with the trusted formula to put in its
    place: the task's losses (by the formula each name computes), its penalty and its clipping helper."""
    substitutes = {item.name: item.formula for item in task.names if item.formula and FORMULAS[item.formula].network}
    substitutes.update({item.name: item.role for item in task.names if item.role in TRUSTED_HELPERS})
    return substitutes


@check_kind("train_step")
def train_step(ctx: CheckContext) -> Outcome:
    task = ctx.task
    spec = GanSpec.of(task)
    n = int(ctx.params.get("d_steps", spec.training.d_steps)) if spec.training.batched else 1
    d_name = "critic" if task.playing("discriminator", "critic").role == "critic" else "D"
    losses = [str(name) for name in ctx.params.get("generator_losses", [])]
    penalised = task.with_role(PENALTY) is not None
    calls = max(CALLS, len(losses))
    size = task.image_size
    reals = ctx.rng.uniform(-1, 1, size=(calls, n, BATCH, 1, size, size)).astype(np.float32)
    labels = ctx.rng.integers(0, NUM_CLASSES, size=(calls, n, BATCH)).astype(np.int64)
    reply = ctx.call(
        "train_step_trace",
        module=ctx.module,
        spec=spec.to_plain(),
        reals=reals,
        labels=labels,
        substitutes=_substitutes(task),
        generator_losses=losses or None,
        small=SMALL,
        seed=ctx.seed,
    )
    init, trace = read_trace(reply, task.conditional)
    if len(trace) != calls:
        raise Unreadable()
    criteria = Criteria()
    steps = [step for call in trace for step in call.steps]

    counts_ok = all(len(c.d_steps) == n and len(c.g_steps) == 1 for c in trace)
    if not steps:
        count_failure = "train_step made no step with the optimizers it was given: use opt_G and opt_D passed in"
    else:
        updates = f"{n} {d_name} updates (one per real batch)" if n > 1 else f"one {d_name} update"
        count_failure = f"make {updates}, then exactly one generator update"
    criteria.add(1.0, counts_ok, count_failure, primary=True)
    in_order = all(c.g_steps[0].position > max(c.d_phase) for c in trace if counts_ok)
    criteria.add(0.5, in_order, f"make the {d_name} updates first, then the generator update")

    generator_ok = criteria.add(1.0, *_generator_update(trace, d_name), primary=True)
    criteria.add(1.0, *_critic_update(trace, d_name, penalised), primary=True)
    criteria.add(1.0, *_critic_moved_only_by_its_loss(trace, d_name), primary=True)
    criteria.add(
        1.0,
        not any(step.stale for step in steps if step.net == "G" or step.carries("D")),
        "zero the gradients before each backward pass (opt.zero_grad()): a step used gradients left over "
        "from an earlier backward pass",
    )
    if generator_ok and any(p.role == "D" and "G" in p.fresh for c in trace for p in c.passes):
        criteria.tip(f"detach the fakes in the {d_name} update (fake.detach()): its backward pass then stops at G")

    if task.conditional:
        problems = [_labels_problem(call, labels[i], d_name) for i, call in enumerate(trace)]
        problem = next((p for p in problems if p), None)
        criteria.add(1.0, problem is None, problem or "", primary=True)

    if "clip" in ctx.params:
        c = float(ctx.params["clip"])
        # Before every critic step but the very first (the initial critic is not clipped yet) and at the end.
        seen = [step.event["d_max"] for call in trace for step in call.d_steps][1:] + [
            call.end["d_max"] for call in trace
        ]
        criteria.add(
            1.0,
            all(value <= c * (1 + 1e-6) for value in seen),
            "call clip_weights(C, clip) after every critic update: every critic parameter must then lie in "
            "[−clip, clip], weights, biases and norm parameters alike",
            primary=True,
        )

    if losses:
        called = all(
            any(e["e"] == "loss_call" and e["passed"] and e["name"] == losses[i % len(losses)] for e in call.events)
            for i, call in enumerate(trace)
        )
        criteria.add(
            1.0,
            called,
            "compute the generator update's loss with the generator_loss passed to train_step, so that either "
            "loss can be trained",
            primary=True,
        )

    keys = list(spec.training.result)
    problem = next((p for p in (_result_problem(call.end.get("result"), keys) for call in trace) if p), None)
    criteria.add(0.5, problem is None, problem or "")

    return criteria.outcome(
        f"train_step makes the right {d_name} and generator updates: each network descends its own loss, "
        "gradients zeroed"
    )


def _generator_update(trace: list[Call], d_name: str) -> tuple[bool, str]:
    """G's step applies the gradient of G's loss, descending, and nothing of the D loss."""
    for step in (s for call in trace for s in call.g_steps):
        if step.stale:
            continue  # left-over gradients are the zero_grad criterion's
        if step.carries("D"):
            return False, (
                f"the generator update also applied the gradient of the {d_name} loss: detach the fakes in the "
                f"{d_name} update (fake.detach()), or zero G's gradients right before the generator loss's backward"
            )
        if not step.carries("G"):
            return False, "the generator update must step opt_G after the backward pass of the generator loss"
        if not all(p.descends for p in step.carries("G")):
            return False, "the generator update ascends its loss: call loss_G.backward(), not (-loss_G).backward()"
    return True, ""


def _critic_update(trace: list[Call], d_name: str, penalised: bool) -> tuple[bool, str]:
    """Every D step descends D's loss, with the penalty (added, not subtracted) where the task has one."""
    for call in trace:
        previous = -1
        for step in call.d_steps:
            if not all(p.descends for p in step.carries("D")):
                return False, (
                    f"the {d_name} update ascends its loss: minimise it with loss.backward() and opt.step(), "
                    "the loss as the statement defines it (no minus sign in front)"
                )
            if penalised and not _penalised(call, step, previous):
                return False, (
                    f"add the gradient penalty to the {d_name} loss in every {d_name} update: "
                    "loss = get_WLoss_discriminator(...) + get_gradient_regularisation(...)"
                )
            previous = step.position
    return True, ""


def _penalised(call: Call, step: Step, previous: int) -> bool:
    """The step applied the trusted penalty, added; or, written inline, the critic was differentiated at
    interpolates since the previous critic step."""
    called = any(e["e"] == "loss_call" and e["name"] == PENALTY for e in call.events[previous + 1 : step.position])
    if called:
        scales = [p.penalty for p in step.applied if p.penalty is not None]
        return bool(scales) and all(scale > 0 for scale in scales)
    return any(p.interpolates for p in call.passes if previous < p.position < step.position)


def _critic_moved_only_by_its_loss(trace: list[Call], d_name: str) -> tuple[bool, str]:
    """No D step applies the G loss's gradient, and D's weights stay put from the G update to the call's end."""
    moved = f"the generator's loss moved {d_name}'s weights: step only opt_G in the generator update"
    for call in trace:
        for step in (s for s in call.steps if s.net == "D"):
            # A stale step that also carries D's loss is the zero_grad criterion's; one with G's loss alone is ours.
            if step.carries("G") and not (step.stale and step.carries("D")):
                return False, moved
            if not step.applied:
                return False, f"an update of {d_name} without a backward pass of its loss: step opt_D after it"
        last = call.steps[-1] if call.steps else None
        if last is not None and last.net == "G" and not np.array_equal(last.event["d_fp"], call.end["d_fp"]):
            return False, moved
    return True, ""
