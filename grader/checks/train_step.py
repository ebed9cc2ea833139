"""Kind `train_step`: the semantics of one training step, judged by its effect. The worker traces the student's
`train_step` twice on their own (small) networks with grader-made optimizers, with the task's trusted losses,
penalty and clipping in place of the student's module-level ones (so a wrong loss costs its own check only);
with `params.function = "clip_weights"` it judges the clipping helper of the WGAN task.

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

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gankit.catalogue import Task
from grader.checks import CheckContext, Criteria, Outcome, check_kind
from grader.formulas import FORMULAS
from grader.validate import Invalid

NUM_CLASSES = 10
BATCH = 8  # small batches of small networks: the check runs in a fraction of a second
CALLS = 2  # a gradient left over by a missing zero_grad shows at the next call's step
SMALL = {"width": 8, "hidden": 32}  # constructor knobs of the networks, used when the constructor has them
PENALTY = "gradient_penalty"  # the trusted penalty's name in the worker's substitutes
EVENTS = {"init", "call", "end", "G", "D", "grad", "out", "loss", "loss_call", "step"}


class Unreadable(Invalid):
    def __init__(self) -> None:
        super().__init__("the training-step trace could not be read (did train_step change the grader's hooks?)")


@dataclass
class Pass:
    """One backward pass (or autograd.grad call): what it reached and which loss it carried."""

    position: int  # index of its first event in the call's event list
    fresh: dict[str, bool] = field(default_factory=dict)  # network → its gradients were zero when it arrived
    real: float | None = None  # gradient summed over D's scores of real images
    fake: float | None = None  # … of G's images
    interpolates: bool = False  # only D's scores of other inputs (the penalty's interpolates) were differentiated
    losses: list[tuple[str, float]] = field(default_factory=list)  # trusted losses in it, with their scale

    @property
    def role(self) -> str | None:
        """Whose loss this pass carries, "D" or "G"; None when neither (the penalty's inner autograd.grad)."""
        networks = {FORMULAS[name].network for name, _ in self.losses if name in FORMULAS}
        if networks - {None}:
            return "D" if "D" in networks else "G"
        if self.real is not None:
            return "D"
        if self.fake is not None:
            return "G" if self.fake < 0 else "D"
        return None

    @property
    def descends(self) -> bool:
        """The trusted loss enters with a positive scale; with the loss written inline, the scores move the way a
        descending loss moves them (D: real up, fake down; a G pass is recognised by fake going up)."""
        role = self.role
        scales = [scale for name, scale in self.losses if name in FORMULAS and FORMULAS[name].network == role]
        if scales:
            return all(scale > 0 for scale in scales)
        if role == "D":
            return (self.real is None or self.real < 0) and (self.fake is None or self.fake >= 0)
        return True

    @property
    def penalty(self) -> float | None:
        """The scale of the trusted penalty in this pass, or None where it is not in it."""
        return next((scale for name, scale in self.losses if name == PENALTY), None)


@dataclass
class Step:
    net: str
    position: int
    event: dict[str, Any]
    applied: list[Pass]  # the passes whose gradients this step applied
    stale: bool  # its network's gradients were never zeroed since its previous step

    def carries(self, role: str) -> list[Pass]:
        return [p for p in self.applied if p.role == role]


@dataclass
class Call:
    """The events of one train_step call, in order, the snapshot taken after it returned, and its analysis."""

    events: list[dict[str, Any]] = field(default_factory=list)
    end: dict[str, Any] = field(default_factory=dict)
    passes: list[Pass] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)

    @property
    def d_steps(self) -> list[Step]:
        """The steps that updated D with its own loss."""
        return [s for s in self.steps if s.net == "D" and s.carries("D")]

    @property
    def g_steps(self) -> list[Step]:
        return [s for s in self.steps if s.net == "G"]

    @property
    def d_phase(self) -> list[int]:
        return [s.position for s in self.d_steps]


def _fingerprint(value: Any) -> np.ndarray:
    if not isinstance(value, np.ndarray) or value.dtype != np.float64 or value.ndim != 2 or value.shape[1] != 3:
        raise Unreadable()
    return value


def _number(value: Any) -> float:
    if type(value) not in (int, float) or not np.isfinite(value):
        raise Unreadable()
    return float(value)


def _optional_number(value: Any) -> float | None:
    return None if value is None else _number(value)


def _labels_array(described: Any) -> np.ndarray | None:
    """A conditional network's label argument as a float array (b, 10), or None when it was not one."""
    if not isinstance(described, dict) or described.get("kind") != "tensor":
        return None
    array = described.get("array")
    if not isinstance(array, np.ndarray) or array.dtype.kind != "f" or array.ndim != 2:
        return None
    return array if array.shape[1] == NUM_CLASSES and np.isfinite(array).all() else None


def _require(condition: bool) -> None:
    if not condition:
        raise Unreadable()


def _validate(event: Any, conditional: bool) -> dict[str, Any]:
    """The event with every field the analysis reads checked for type; anything else is Unreadable."""
    _require(isinstance(event, dict) and event.get("e") in EVENTS)
    kind = event["e"]
    if kind in ("init", "end", "step"):
        event["d_fp"] = _fingerprint(event.get("d_fp"))
        event["d_max"] = _number(event.get("d_max"))
    if kind in ("init", "end"):
        event["g_fp"] = _fingerprint(event.get("g_fp"))
    if kind == "step":
        _require(event.get("net") in ("G", "D"))
        event["d_after"] = _fingerprint(event.get("d_after"))
    if kind in ("grad", "out", "loss"):
        _require(type(event.get("task")) is int)
    if kind == "grad":
        _require(event.get("net") in ("G", "D") and type(event.get("fresh")) is bool)
    if kind == "out":
        event["real"], event["fake"] = _optional_number(event.get("real")), _optional_number(event.get("fake"))
        _require(type(event.get("other")) is bool)
    if kind in ("loss", "loss_call"):
        _require(isinstance(event.get("name"), str))
    if kind == "loss":
        event["scale"] = _number(event.get("scale"))
    if kind == "loss_call":
        _require(type(event.get("passed")) is bool)
    if kind in ("G", "D") and conditional:
        event["y"] = _labels_array(event.get("y"))
    return event


def _read_trace(reply: Any, conditional: bool) -> tuple[dict[str, Any], list[Call]]:
    """The validated initial snapshot and calls, each with its passes and steps rebuilt."""
    _require(isinstance(reply, dict) and isinstance(reply.get("events"), list))
    init: dict[str, Any] | None = None
    calls: list[Call] = []
    for raw in reply["events"]:
        event = _validate(raw, conditional)
        kind = event["e"]
        if kind == "init":
            init = event
        elif kind == "call":
            calls.append(Call())
        else:
            _require(bool(calls) and not calls[-1].end)
            if kind == "end":
                calls[-1].end = event
            else:
                calls[-1].events.append(event)
    _require(init is not None and bool(calls) and all(call.end for call in calls))
    _rebuild(calls)
    return init, calls


def _rebuild(calls: list[Call]) -> None:
    """Each call's passes, and each step with the passes it applied: those since its network's gradients were
    last zeroed, counted from that network's previous step (none zeroed since then: `stale`)."""
    pending: dict[str, list[Pass]] = {"G": [], "D": []}
    for call in calls:
        passes: dict[int, Pass] = {}
        for position, event in enumerate(call.events):
            kind = event["e"]
            if kind in ("grad", "out", "loss"):
                found = passes.setdefault(event["task"], Pass(position))
            if kind == "grad":
                found.fresh[event["net"]] = event["fresh"]
                pending[event["net"]].append(found)
            elif kind == "out":
                if event["real"] is not None:
                    found.real = (found.real or 0.0) + event["real"]
                if event["fake"] is not None:
                    found.fake = (found.fake or 0.0) + event["fake"]
                found.interpolates |= event["other"] and event["real"] is None and event["fake"] is None
            elif kind == "loss":
                found.losses.append((event["name"], event["scale"]))
            elif kind == "step":
                net, since = event["net"], pending[event["net"]]
                zeroed = [i for i, p in enumerate(since) if p.fresh[net]]
                start = zeroed[-1] if zeroed else 0
                call.steps.append(Step(net, position, event, since[start:], stale=bool(since) and not zeroed))
                pending[net] = []
        call.passes = sorted(passes.values(), key=lambda p: p.position)


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


def _optimizer_config(training: dict[str, Any]) -> dict[str, Any]:
    """The optimizers of task.toml's [training]. make_optimizers is replaced by the Adam the spec fixes for it,
    so this check does not depend on the student's make_optimizers (its own check judges that)."""
    if training["optimizer"] == "make_optimizers":
        return {"kind": "adam", "lr": 1e-4, "betas": [0.5, 0.999]}
    if training["optimizer"] == "rmsprop":
        return {"kind": "rmsprop", "lr": training["lr"]}
    return {"kind": "adam", "lr": training["lr"], "betas": list(training.get("betas", (0.9, 0.999)))}


def _substitutes(task: Task) -> dict[str, str]:
    """The student's module-level names that train_step calls, each with the trusted formula to put in its
    place: the losses of the task's loss_formula checks, its penalty and its clipping helper."""
    substitutes: dict[str, str] = {}
    for check in task.checks:
        if check.kind == "loss_formula":
            functions, formulas = (
                [x] if isinstance(x, str) else x for x in (check.params["function"], check.params["formula"])
            )
            substitutes.update(
                (f, formula) for f, formula in zip(functions, formulas, strict=True) if FORMULAS[formula].network
            )
        elif check.kind == "gradient_penalty":
            substitutes[check.params["function"]] = PENALTY
        elif check.kind == "train_step" and "function" in check.params:
            substitutes[check.params["function"]] = "clip_weights"
    return substitutes


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
    losses = [str(name) for name in ctx.params.get("generator_losses", [])]
    penalised = any(check.kind == "gradient_penalty" for check in task.checks)
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
        optional=task.optional_parameters("train_step"),
        substitutes=_substitutes(task),
        generator_losses=losses or None,
        small=SMALL,
        seed=ctx.seed,
    )
    init, trace = _read_trace(reply, task.conditional)
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

    if "clip" in step_kwargs:
        c = float(step_kwargs["clip"])
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

    keys = ["loss_D", "loss_G"] + (["d_acc_real", "d_acc_fake"] if d_name == "D" else [])
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
    """Primary: every parameter tensor ends within [−c, c] for the c given (the documented default where the
    function has no c). Side: clamped, not rescaled; in place."""
    function = ctx.params.get("function", "clip_weights")
    optional = ctx.task.optional_parameters(function)
    documented = float(optional[0][1])
    c_values = [float(ctx.params.get("c", documented)), 5 * float(ctx.params.get("c", documented))]  # c honoured
    out_of_range: set[str] = set()
    clamp_ok = in_place = True
    for c in c_values:
        values = _clip_values(ctx.rng, c)
        reply = ctx.call("clip_weights", module=ctx.module, function=function, c=c, values=values, optional=optional)
        parameters, same, dropped = _read_clip_reply(reply)
        if dropped:
            c = documented  # without a c parameter it clips at its own default, which must be the documented one
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
        primary=True,
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


def _read_clip_reply(reply: Any) -> tuple[dict[str, np.ndarray], dict[str, bool], bool]:
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
    if type(reply.get("dropped")) is not bool:
        raise Invalid("the clip_weights probe returned something unreadable")
    return parameters, same, reply["dropped"]
