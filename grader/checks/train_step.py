"""Kind `train_step`: the semantics of one training step, read from an event log the worker records while the
student's `train_step` runs twice on their own (small) networks with grader-made optimizers; and, with
`params.function = "clip_weights"`, the clipping helper of the WGAN task.

From the log of each call the parent finds the D phase (the D/critic steps before the gradient of the G loss
reaches G) and the G phase, and checks: as many D steps as real batches, then one G step; no gradient into G
before the last D step (detached fakes); D's weights the same at the end as when the G phase began; no
left-over (NaN-poisoned) gradient at any step; both networks changed; labels given to both networks
(conditional tasks); every critic parameter in [−c, c] after each critic update (clipping tasks); the
generator_loss argument called (tasks that pass one); the returned dict's keys finite numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from grader.checks import CheckContext, Criteria, Outcome, check_kind
from grader.validate import Invalid

NUM_CLASSES = 10
BATCH = 8  # small batches of small networks: the check runs in a fraction of a second
CALLS = 2  # a gradient left over by a missing zero_grad shows at the next call's step
SMALL = {"width": 8, "hidden": 32}  # constructor knobs of the networks, used when the constructor has them
# The known losses the probe can pass as generator_loss, by the student's name of the same formula.
GENERATOR_LOSS_FORMULAS = {"generator_loss_minimax": "minimax", "generator_loss_nonsaturating": "nonsaturating"}
EVENTS = {"init", "call", "end", "G", "D", "G_grad", "step", "loss"}


class Unreadable(Invalid):
    def __init__(self) -> None:
        super().__init__("the training-step trace could not be read (did train_step change the grader's hooks?)")


@dataclass
class Call:
    """The events of one train_step call, in order, and the snapshot taken after it returned."""

    events: list[dict[str, Any]] = field(default_factory=list)
    end: dict[str, Any] = field(default_factory=dict)

    def positions(self, kind: str, net: str | None = None) -> list[int]:
        return [i for i, e in enumerate(self.events) if e["e"] == kind and (net is None or e.get("net") == net)]

    @property
    def boundary(self) -> int:
        """Where the G phase begins: the last time a gradient reached G before the first G step (the G loss's
        backward), else the first G step, else the end of the call."""
        g_steps = self.positions("step", "G")
        if not g_steps:
            return len(self.events)
        return max((i for i in self.positions("G_grad") if i < g_steps[0]), default=g_steps[0])

    @property
    def d_phase(self) -> list[int]:
        return [i for i in self.positions("step", "D") if i < self.boundary]


def _fingerprint(value: Any) -> np.ndarray:
    if not isinstance(value, np.ndarray) or value.dtype != np.float64 or value.ndim != 2 or value.shape[1] != 3:
        raise Unreadable()
    return value


def _number(value: Any) -> float:
    if type(value) not in (int, float) or not np.isfinite(value):
        raise Unreadable()
    return float(value)


def _labels_array(described: Any) -> np.ndarray | None:
    """A conditional network's label argument as a float array (b, 10), or None when it was not one."""
    if not isinstance(described, dict) or described.get("kind") != "tensor":
        return None
    array = described.get("array")
    if not isinstance(array, np.ndarray) or array.dtype.kind != "f" or array.ndim != 2:
        return None
    return array if array.shape[1] == NUM_CLASSES and np.isfinite(array).all() else None


def _read_trace(reply: Any, conditional: bool) -> tuple[dict[str, Any], list[Call]]:
    """The validated initial snapshot and calls; every field is checked for type before anything uses it."""
    if not isinstance(reply, dict) or not isinstance(reply.get("events"), list):
        raise Unreadable()
    init: dict[str, Any] | None = None
    calls: list[Call] = []
    for event in reply["events"]:
        if not isinstance(event, dict) or event.get("e") not in EVENTS:
            raise Unreadable()
        kind = event["e"]
        if kind in ("init", "end", "step", "G_grad"):
            event["d_fp"] = _fingerprint(event.get("d_fp"))
        if kind in ("init", "end"):
            event["g_fp"] = _fingerprint(event.get("g_fp"))
        if kind in ("init", "end", "step"):
            event["d_max"] = _number(event.get("d_max"))
        if kind == "step" and (event.get("net") not in ("G", "D") or type(event.get("nan")) is not bool):
            raise Unreadable()
        if kind in ("G", "D") and conditional:
            event["y"] = _labels_array(event.get("y"))
        if kind == "loss" and not isinstance(event.get("name"), str):
            raise Unreadable()
        if kind == "init":
            init = event
        elif kind == "call":
            calls.append(Call())
        elif not calls or calls[-1].end:
            raise Unreadable()
        elif kind == "end":
            calls[-1].end = event
        else:
            calls[-1].events.append(event)
    if init is None or not calls or not all(call.end for call in calls):
        raise Unreadable()
    return init, calls


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
            return f"{sentence}; {key} is missing or not a number (use .item())"
        number = value.get("value")
        if type(number) not in (int, float) or not np.isfinite(number):
            return f"{sentence}; {key} is not finite"
        if key.startswith("d_acc") and not 0.0 <= number <= 1.0:
            return f"{key} must be a fraction in [0, 1]"
    return None


def _optimizer_config(training: dict[str, Any]) -> dict[str, Any]:
    """The optimizers of task.toml's [training]. make_optimizers is replaced by the Adam the spec fixes for it,
    so this check does not depend on the student's make_optimizers (its own check judges that)."""
    if training["optimizer"] == "make_optimizers":
        return {"kind": "adam", "lr": 1e-4, "betas": [0.5, 0.999]}
    if training["optimizer"] == "rmsprop":
        return {"kind": "rmsprop", "lr": training["lr"]}
    return {"kind": "adam", "lr": training["lr"], "betas": list(training.get("betas", (0.9, 0.999)))}


@check_kind("train_step")
def train_step(ctx: CheckContext) -> Outcome:
    if ctx.params.get("function") == "clip_weights":
        return _clip_weights(ctx)
    return _train_step(ctx)


def _train_step(ctx: CheckContext) -> Outcome:
    task, training = ctx.task, ctx.task.training
    if training is None:
        raise KeyError(f"task {task.id} has a train_step check but no [training] section")
    batched = "d_steps" in training
    n = int(ctx.params.get("k", ctx.params.get("n_critic", 1))) if batched else 1
    d_name = "critic" if training["discriminator"] == "Critic" else "D"
    step_kwargs = dict(training.get("step_kwargs", {}))
    losses = [GENERATOR_LOSS_FORMULAS[name] for name in ctx.params.get("generator_losses", [])]
    calls = max(CALLS, len(losses))
    size = task.image_size
    reals = ctx.rng.uniform(-1, 1, size=(calls, n, BATCH, 1, size, size)).astype(np.float32)
    labels = ctx.rng.integers(0, NUM_CLASSES, size=(calls, n, BATCH)).astype(np.int64)
    reply = ctx.call(
        "train_step_trace",
        module=ctx.module,
        generator="Generator",
        discriminator=training["discriminator"],
        conditional=task.conditional,
        batched=batched,
        reals=reals,
        labels=labels,
        optimizer=_optimizer_config(training),
        step_kwargs=step_kwargs,
        generator_losses=losses or None,
        small=SMALL,
        seed=ctx.seed,
    )
    init, trace = _read_trace(reply, task.conditional)
    if len(trace) != calls:
        raise Unreadable()
    criteria = Criteria()

    counts_ok = all(len(c.d_phase) == n and len(c.positions("step", "G")) == 1 for c in trace)
    if not any(call.positions("step") for call in trace):
        count_failure = "train_step made no step with the optimizers it was given: use opt_G and opt_D passed in"
    else:
        updates = f"{n} {d_name} updates (one per real batch)" if n > 1 else f"one {d_name} update"
        count_failure = f"make {updates}, then exactly one generator update"
    criteria.add(1.0, counts_ok, count_failure)

    detached = all(not any(g < c.d_phase[-1] for g in c.positions("G_grad")) for c in trace if c.d_phase)
    criteria.add(
        1.0,
        detached,
        f"detach the fakes in the {d_name} update (fake.detach() or make them under torch.no_grad()): "
        f"the {d_name} loss sent gradients into G",
    )

    criteria.add(
        1.0,
        all(_d_unchanged_in_g_phase(c) for c in trace),
        f"the generator update changed {d_name}'s weights: step only opt_G there, never the {d_name} optimizer",
    )

    d_and_g_steps = [c.events[i] for c in trace for i in (*c.d_phase, *c.positions("step", "G"))]
    criteria.add(
        1.0,
        not any(step["nan"] for step in d_and_g_steps),
        "zero the gradients before each backward pass (opt.zero_grad()): a step used gradients left over "
        "from an earlier backward pass",
    )

    last = trace[-1].end
    criteria.add(
        0.5,
        not np.array_equal(init["g_fp"], last["g_fp"]) and not np.array_equal(init["d_fp"], last["d_fp"]),
        f"both networks must learn: step the {d_name} optimizer in the {d_name} updates and opt_G in the "
        "generator update",
    )

    if task.conditional:
        problems = [_labels_problem(call, labels[i], d_name) for i, call in enumerate(trace)]
        problem = next((p for p in problems if p), None)
        criteria.add(1.0, problem is None, problem or "")

    if "clip" in step_kwargs:
        c = float(step_kwargs["clip"])
        # Before every critic step but the very first (the initial critic is not clipped yet) and at the end.
        seen = [call.events[i]["d_max"] for call in trace for i in call.d_phase][1:] + [
            call.end["d_max"] for call in trace
        ]
        criteria.add(
            1.0,
            all(value <= c * (1 + 1e-6) for value in seen),
            "call clip_weights(C, clip) after every critic update: every critic parameter must then lie in "
            "[−clip, clip], weights, biases and norm parameters alike",
        )

    if losses:
        called = all(
            any(e["e"] == "loss" and e["name"] == losses[i % len(losses)] for e in call.events)
            for i, call in enumerate(trace)
        )
        criteria.add(
            1.0,
            called,
            "compute the generator update's loss with the generator_loss passed to train_step, so that either "
            "loss can be trained",
        )

    keys = ["loss_D", "loss_G"] + (["d_acc_real", "d_acc_fake"] if d_name == "D" else [])
    problem = next((p for p in (_result_problem(call.end.get("result"), keys) for call in trace) if p), None)
    criteria.add(0.5, problem is None, problem or "")

    return criteria.outcome(
        f"train_step makes the right {d_name} and generator updates with detached fakes, leaves {d_name} alone "
        "in the generator update and zeroes gradients"
    )


def _d_unchanged_in_g_phase(call: Call) -> bool:
    """D's fingerprint when the G phase began equals the one after the call, and D made no step in between."""
    g_steps = call.positions("step", "G")
    if not g_steps:
        return True  # no generator update at all: the step count says so
    boundary = call.boundary
    if any(i > boundary for i in call.positions("step", "D")):
        return False
    return np.array_equal(call.events[boundary]["d_fp"], call.end["d_fp"])


# ---- clip_weights ----------------------------------------------------------------------------------------------

CLIP_SHAPES = {  # the probe's critic (grader/worker/probes/train_step.py `_clip_critic`)
    "0.weight": (3, 1, 3, 3),
    "0.bias": (3,),
    "1.weight": (3,),
    "1.bias": (3,),
    "4.weight": (12,),
    "4.bias": (12,),
    "5.weight": (1, 12),
    "5.bias": (1,),
}
CLIP_KINDS = {"0.weight": "weights", "5.weight": "weights", "0.bias": "biases", "5.bias": "biases"}


def _clip_values(rng: np.random.Generator, c: float) -> dict[str, np.ndarray]:
    """Half the entries well inside (−c, c), half well outside (2c to 20c, either sign); every tensor has
    entries outside, and every tensor with two or more entries has some inside."""
    values = {}
    for name, shape in CLIP_SHAPES.items():
        size = int(np.prod(shape))
        outside = rng.permutation(size) < max(1, size // 2)
        inside_values = rng.uniform(-0.9 * c, 0.9 * c, size)
        outside_values = rng.choice([-1.0, 1.0], size) * rng.uniform(2 * c, 20 * c, size)
        values[name] = np.where(outside, outside_values, inside_values).reshape(shape).astype(np.float32)
    return values


def _clip_weights(ctx: CheckContext) -> Outcome:
    function = ctx.params.get("function", "clip_weights")
    c_values = [float(ctx.params.get("c", 0.01)), 5 * float(ctx.params.get("c", 0.01))]  # the second: c is honoured
    out_of_range: set[str] = set()
    clamp_ok = in_place = True
    for c in c_values:
        values = _clip_values(ctx.rng, c)
        reply = ctx.call("clip_weights", module=ctx.module, function=function, c=c, values=values)
        parameters, same = _read_clip_reply(reply)
        in_place &= all(same.values())
        for name, before in values.items():
            after = parameters.get(name)
            if after is None or after.shape != before.shape or not np.isfinite(after).all():
                out_of_range.add(CLIP_KINDS.get(name, "normalisation parameters"))
                continue
            if np.abs(after).max() > c * (1 + 1e-6):
                out_of_range.add(CLIP_KINDS.get(name, "normalisation parameters"))
            # Clamp semantics are judged on the tensors the student touched; an untouched one is out of range.
            if not np.array_equal(after, before):
                expected = np.clip(before, np.float32(-c), np.float32(c))
                clamp_ok &= bool(np.allclose(after, expected, rtol=0, atol=1e-7))
    criteria = Criteria()
    criteria.add(
        2.0,
        not out_of_range,
        "clip every tensor in critic.parameters() to [−c, c] for the c given: "
        + ", ".join(sorted(out_of_range))
        + " were left outside",
    )
    criteria.add(
        1.0,
        clamp_ok,
        "clamp, do not rescale: values inside [−c, c] stay as they are and values outside become −c or c "
        "(p.clamp_(-c, c))",
    )
    criteria.add(
        0.5,
        in_place,
        "clip the parameters in place (with torch.no_grad(): p.clamp_(-c, c)); replacing them leaves the "
        "optimizer updating the old tensors",
    )
    return criteria.outcome("clip_weights clamps every critic parameter to [−c, c] in place")


def _read_clip_reply(reply: Any) -> tuple[dict[str, np.ndarray], dict[str, bool]]:
    if not isinstance(reply, dict) or not isinstance(reply.get("parameters"), dict):
        raise Invalid("the clip_weights probe returned something unreadable")
    same = reply.get("same_objects")
    if not isinstance(same, dict) or set(same) != set(CLIP_SHAPES) or not all(type(v) is bool for v in same.values()):
        raise Invalid("the clip_weights probe returned something unreadable")
    parameters = {}
    for name, described in reply["parameters"].items():
        if isinstance(described, dict) and described.get("kind") == "tensor":
            array = described.get("array")
            if isinstance(array, np.ndarray) and array.dtype.kind == "f":
                parameters[name] = array
    return parameters, same
