"""Kind `interface`: the required names exist, construct, and return the documented shapes, dtypes and ranges.

Each parameter has one meaning, and a criterion (or a few) follows from each one present, so a new task that
reuses a parameter needs no code here:
- `networks`: classes to construct with default arguments and call on grader-chosen inputs. The role comes from
  the name (`ROLES`): a generator gives (B, 1, H, W) float32 in [-1, 1] (for a conditional task it must use y and
  take soft label vectors, and two soft vectors with the same argmax must give other images); a discriminator
  or critic gives float32 scores (B,) (conditional: they depend on y) that are not squashed into [-1, 1] by a
  sigmoid or tanh, judged with its weights scaled up; a classifier gives logits (B, 10) and `features(x)` (B, F)
  for each of `image_sizes`.
- `layers`: {network: [module class names]} each network must contain (`nn.ConvTranspose2d` for DCGAN's G).
- `functions`: each name has a contract in `FUNCTIONS` (generate, interpolate, make_optimizers, targeted_attack,
  optimal_discriminator, gan_value, optimal_value, extract_features, tsne_embedding, generated_accuracy).
- `endpoints`: interpolate's first and last images are G(z0, y0) and G(z1, y1) mapped to [0, 1].
- `optimizer`, `lr`, `betas`: make_optimizers' class and settings.
- `value`: what optimal_value() returns ("-log 4", "log 2", a number).
- `image_sizes`: the image sizes networks and extract_features get (default: the task's).
- `sizes`, `deterministic`: tsne_embedding's point counts, and whether one seed must give one embedding.
- `generators`, `expected`: generated_accuracy's grader-made generators (`POOL_GENERATORS`); `expected` states
  what they are built to give, and the grader recomputes it with its own frozen classifier on the same images.
- `tolerance`: slack on targeted_attack's bounds.
- `signatures`: every name of the task accepts its documented optional parameters (`rng`, `lam`, `width`, …),
  by the rules the grader calls it with (`gankit.signature.fit`); a small share of the check
  (`SIGNATURE_WEIGHT`), as the other checks call a function without what it lacks (SPEC).
Optional arguments are passed only where the student's function takes them; what needs one it lacks (generate's
replay without rng) is not judged. A criterion weighs 1 unless its docstring below says otherwise; the primary
ones (SPEC: severity; `Criteria`) are named in each docstring. Nothing the worker sends is trusted: every value
passes `grader.validate`.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from gankit.catalogue import documented_required
from gankit.classifier import load_frozen_classifier, predict
from gankit.common import LATENT_DIM, NUM_CLASSES
from gankit.data import load_dataset
from gankit.signature import RNG
from grader import validate
from grader.advice import with_advice
from grader.checks import CheckContext, Criteria, Outcome, check_kind, student_error_message
from grader.sandbox import StudentError
from grader.validate import Invalid

BATCH = 5
RANGE_TOLERANCE = 1e-6
CHANGE_TOLERANCE = 1e-6  # outputs that differ by less are "the same"
ENDPOINT_TOLERANCE = 2e-3  # half a grey level of 256: batch composition may change G's float rounding
INTERPOLATION_STEPS = 4  # not the default 6, so a hard-coded 8 shows
MESSAGE_CHARS = 300
# A scorer's weights are scaled by these before its scores are judged for squashing: 10 already lifts a correct
# critic's scores far beyond 1 (at least 15 for every width, norm layer and seed tried), 100 where 10 did not.
WEIGHT_SCALES = [10.0, 100.0]
SOFT_MIXES = ("mostly", "partly")  # a 0.9/0.1 and a 0.6/0.4 mix of the same two classes (one argmax)
SIGNATURE_WEIGHT = 0.5
LAYER_PURPOSES = {"ConvTranspose2d": "upsample with"}  # how a missing layer's sentence reads; default "use"

ROLES = {"Generator": "generator", "Discriminator": "scorer", "Critic": "scorer", "Classifier": "classifier"}
SCORES = {"Discriminator": "logits", "Critic": "raw scores"}  # what each scorer returns, in its message


# ---- reading the worker's replies ------------------------------------------------------------------------------


def entry(reply: Any, *path: str | int) -> Any:
    """reply[path[0]][path[1]]…, or None where the reply does not have that shape."""
    for key in path:
        if isinstance(key, str) and isinstance(reply, dict):
            reply = reply.get(key)
        elif isinstance(key, int) and isinstance(reply, list) and 0 <= key < len(reply):
            reply = reply[key]
        else:
            return None
    return reply


def dropped(reply: Any) -> list[str]:
    """The documented optional parameters the probed function lacks, as the worker reports them."""
    found = entry(reply, "dropped")
    return [str(name) for name in found] if isinstance(found, list) else []


def raised(described: Any, what: str) -> Any:
    """`described` unless it reports an exception of the student's code, which becomes `Invalid`."""
    if isinstance(described, dict) and described.get("kind") == "error":
        error, message = str(described.get("error"))[:80], str(described.get("message"))
        if error == "contract":
            raise Invalid(message[:MESSAGE_CHARS])
        raise Invalid(f"{what} raised {error}: {with_advice(message, MESSAGE_CHARS)}")
    return described


def returned_tensor(described: Any, what: str, shape: tuple[int, ...] | None = None) -> np.ndarray:
    return validate.tensor(raised(described, what), what, shape)


def array_like(described: Any, what: str) -> np.ndarray:
    """The values of a returned numpy array or tensor, for criteria that judge values, not the type."""
    described = raised(described, what)
    if isinstance(described, dict) and described.get("kind") == "tensor":
        return validate.tensor(described, what)
    return validate.ndarray(described, what)


def dtype_of(described: Any) -> str:
    dtype = entry(described, "dtype")
    return dtype if isinstance(dtype, str) else "an unknown dtype"


def judge(criteria: Criteria, weight: float, test: Callable[[], str | None], primary: bool = False) -> bool:
    """One criterion: `test` returns None when it holds, else the sentence that says what to fix."""
    try:
        problem = test()
    except Invalid as error:
        problem = str(error)
    return criteria.add(weight, problem is None, problem or "", primary=primary)


def readable(read: Callable[[], object]) -> Callable[[], None]:
    """A criterion that holds when `read` gets its value without `Invalid`."""

    def test() -> None:
        read()

    return test


def fail_all(criteria: Criteria, weights: list[float], problem: str, primary: bool = False) -> None:
    """Every criterion failed for one reason (nothing could be tried); `primary`: one of them is primary."""
    for index, weight in enumerate(weights):
        criteria.add(weight, False, problem, primary=primary and index == 0)


def seed_for(ctx: CheckContext) -> int:
    return int(ctx.rng.integers(2**31 - 1))


def construct_failure(reply: Any, name: str) -> str | None:
    """Why the network could not be built, or None; a reply that is not a dict counts as unreadable."""
    if not isinstance(reply, dict):
        return f"the worker's answer about {name} could not be read"
    construct = reply.get("construct")
    if construct is None:
        return None
    try:
        raised(construct, f"{name}() with default arguments")
    except Invalid as error:
        return str(error)
    return f"{name}() with default arguments could not be built"


def call_failure(described: Any, what: str) -> str | None:
    """Why the first call of the student's code raised, or None: every criterion that needs its output then
    fails with this one sentence."""
    try:
        raised(described, what)
    except Invalid as error:
        return str(error)
    return None


def in_range(array: np.ndarray, low: float, high: float) -> bool:
    """Every value in [low, high] (an empty array has none to show, and fails)."""
    return array.size > 0 and bool(array.min() >= low - RANGE_TOLERANCE and array.max() <= high + RANGE_TOLERANCE)


def same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=0.0, atol=CHANGE_TOLERANCE))


def image_sizes(ctx: CheckContext) -> list[int]:
    return [int(size) for size in ctx.params.get("image_sizes", [ctx.task.image_size])]


def images_in_range(ctx: CheckContext, count: int, size: int) -> np.ndarray:
    return ctx.rng.uniform(-1.0, 1.0, (count, 1, size, size)).astype(np.float32)


def class_pairs(ctx: CheckContext, count: int) -> tuple[list[int], list[int]]:
    """Labels and, for each, a different label."""
    labels = ctx.rng.integers(0, NUM_CLASSES, count)
    other = (labels + ctx.rng.integers(1, NUM_CLASSES, count)) % NUM_CLASSES
    return labels.tolist(), other.tolist()


def network_named(ctx: CheckContext, role: str) -> str:
    """The task's class that plays `role` (the generator that generate and interpolate sample from)."""
    for item in ctx.task.names:
        if item.get("kind") == "class" and ROLES.get(item["name"]) == role:
            return item["name"]
    raise LookupError(f"task {ctx.task.id} names no class in the role {role}")


# ---- networks ----------------------------------------------------------------------------------------------------


def check_generator(ctx: CheckContext, criteria: Criteria, name: str) -> Any:
    """Shape (B, 1, H, W) (primary: with construction, what a generator exists for); the same for a batch of one
    in eval mode; float32 in [-1, 1]; conditional: uses y, takes soft labels in range, and two soft labels with
    one argmax give other images (label interpolation needs the soft vector, not its argmax). Returns the reply."""
    size, conditional = ctx.task.image_size, ctx.task.conditional
    z = ctx.rng.standard_normal((BATCH, LATENT_DIM)).astype(np.float32)
    labels, other = class_pairs(ctx, BATCH) if conditional else (None, None)
    reply = ctx.call(
        "interface_generator", module=ctx.module, name=name, z=z, labels=labels, other=other, seed=seed_for(ctx)
    )
    call = f"{name}(z, y)" if conditional else f"{name}(z)"
    problem = construct_failure(reply, name) or call_failure(entry(reply, "batch"), call)
    if problem:
        fail_all(criteria, [1.0] * (6 if conditional else 3), problem, primary=True)
        return reply

    def shape() -> str | None:
        returned_tensor(reply.get("batch"), f"{call} for a batch of {BATCH}", (BATCH, 1, size, size))
        return None

    def single() -> str | None:
        returned_tensor(reply.get("single"), f"{call} for a batch of 1 (in eval mode)", (1, 1, size, size))
        return None

    def values() -> str | None:
        batch = reply.get("batch")
        images = returned_tensor(batch, f"{call}")
        if dtype_of(batch) != "float32":
            return f"{name} must return float32 images, not {dtype_of(batch)}"
        if not in_range(images, -1.0, 1.0):
            return f"{name}'s images must lie in [-1, 1]: end with tanh"
        return None

    judge(criteria, 1.0, shape, primary=True)
    judge(criteria, 1.0, single)
    judge(criteria, 1.0, values)
    if not conditional:
        return reply

    def uses_labels() -> str | None:
        return label_problem(
            reply,
            call,
            f"{name} ignores y: the same z with other labels gives the same images: feed y into the network",
        )

    def soft() -> str | None:
        images = returned_tensor(reply.get("soft_labels"), f"{call} with soft label vectors", (BATCH, 1, size, size))
        if not in_range(images, -1.0, 1.0):
            return f"{name}'s images for soft label vectors must lie in [-1, 1] too"
        return None

    def soft_used() -> str | None:
        mostly, partly = (returned_tensor(reply.get(key), f"{call} with soft label vectors") for key in SOFT_MIXES)
        if uses_labels() is None and same(mostly, partly):  # a G that ignores y costs uses_labels only
            return (
                f"{name} gives the same images for two soft label vectors with the same argmax: feed the float "
                "vector y itself into the network (an embedding of y.argmax() breaks label interpolation)"
            )
        return None

    for test in (uses_labels, soft, soft_used):
        judge(criteria, 1.0, test)
    return reply


def label_problem(reply: Any, call: str, sentence: str) -> str | None:
    """`sentence` when the network's output for the batch is the same with other labels, else None."""
    first = returned_tensor(reply.get("batch"), call)
    if same(first, returned_tensor(reply.get("other_labels"), f"{call} with other labels")):
        return sentence
    return None


def check_scorer(ctx: CheckContext, criteria: Criteria, name: str) -> Any:
    """Scores (B,) (primary: with construction, what a scorer exists for); float32; conditional: they depend on
    y; not squashed: with every weight scaled by `WEIGHT_SCALES`, some score leaves [-1, 1], which a network
    ending in sigmoid or tanh never does whatever its weights, and a piecewise-linear one does whatever its
    initialisation (judged so because a correct critic's scores at initialisation are often within [0, 1]).
    Returns the reply."""
    size, conditional = ctx.task.image_size, ctx.task.conditional
    x = images_in_range(ctx, BATCH, size)
    labels, other = class_pairs(ctx, BATCH) if conditional else (None, None)
    reply = ctx.call(
        "interface_scorer",
        module=ctx.module,
        name=name,
        x=x,
        labels=labels,
        other=other,
        scales=WEIGHT_SCALES,
        seed=seed_for(ctx),
    )
    call = f"{name}(x, y)" if conditional else f"{name}(x)"
    problem = construct_failure(reply, name) or call_failure(entry(reply, "batch"), call)
    if problem:
        fail_all(criteria, [1.0] * (4 if conditional else 3), problem, primary=True)
        return reply

    def shape() -> str | None:
        scores = returned_tensor(reply.get("batch"), call)
        if scores.shape == (BATCH, 1):
            return f"{name} must return one score per image, shape (B,), not (B, 1): squeeze the last dimension"
        if scores.shape != (BATCH,):
            return f"{name} must return scores of shape (B,), but for a batch of {BATCH} it returned {scores.shape}"
        return None

    def dtype() -> str | None:
        returned_tensor(reply.get("batch"), call)
        if dtype_of(reply.get("batch")) != "float32":
            return f"{name} must return float32 scores, not {dtype_of(reply.get('batch'))}"
        return None

    def uses_labels() -> str | None:
        return label_problem(reply, call, f"{name} ignores y: the same images with other labels get the same scores")

    def not_squashed() -> str | None:
        scaled = entry(reply, "scaled")
        if not isinstance(scaled, list) or len(scaled) != len(WEIGHT_SCALES):
            return f"the worker's answer about {name}'s scores could not be read"
        what = f"{call} with its weights scaled up"
        # inf is a score beyond any bound (an unsquashed network may overflow); NaN shows nothing either way.
        scores = np.concatenate([validate.tensor(raised(s, what), what, finite=False).ravel() for s in scaled])
        scores = scores[~np.isnan(scores)]
        if scores.size == 0 or np.abs(scores).max() > 1.0 + RANGE_TOLERANCE:
            return None
        interval = "[0, 1]" if scores.min() >= -RANGE_TOLERANCE else "[-1, 1]"
        returns = SCORES.get(name, "raw scores")
        why = " (the losses apply the sigmoid)" if returns == "logits" else ""
        return (
            f"{name}'s scores all lie in {interval} whatever its weights: return {returns}, no sigmoid or tanh "
            f"at the end{why}"
        )

    judge(criteria, 1.0, shape, primary=True)
    for test in (dtype, *((uses_labels,) if conditional else ()), not_squashed):
        judge(criteria, 1.0, test)
    return reply


def check_classifier(ctx: CheckContext, criteria: Criteria, name: str) -> Any:
    """Logits (B, 10) float32 for each image size (primary, with construction); features(x) (B, F) with one F
    for all sizes. Returns the reply."""
    sizes = image_sizes(ctx)
    batches = [images_in_range(ctx, BATCH, size) for size in sizes]
    reply = ctx.call("interface_classifier", module=ctx.module, name=name, images=batches, seed=seed_for(ctx))
    problem = construct_failure(reply, name)
    if problem:
        fail_all(criteria, [1.0] * (len(sizes) + 1), problem, primary=True)
        return reply
    for index, size in enumerate(sizes):

        def logits(index: int = index, size: int = size) -> str | None:
            described = entry(reply, "sizes", index, "logits")
            returned_tensor(described, f"{name}(x) for {size}×{size} images", (BATCH, NUM_CLASSES))
            if dtype_of(described) != "float32":
                return f"{name} must return float32 logits, not {dtype_of(described)}"
            return None

        judge(criteria, 1.0, logits, primary=True)

    def features() -> str | None:
        widths = set()
        for index, size in enumerate(sizes):
            what = f"{name}.features(x) for {size}×{size} images"
            array = returned_tensor(entry(reply, "sizes", index, "features"), what)
            if array.ndim != 2 or array.shape[0] != BATCH:
                return f"{what} must have shape (B, F), not {array.shape}: flatten before the head"
            widths.add(array.shape[1])
        if len(widths) > 1:
            return f"{name}.features(x) must have the same width F for every image size: pool to a fixed grid"
        return None

    judge(criteria, 1.0, features)
    return reply


NETWORKS = {"generator": check_generator, "scorer": check_scorer, "classifier": check_classifier}


def check_layers(ctx: CheckContext, criteria: Criteria, name: str, reply: Any) -> None:
    """`layers`: each module class the task asks of this network is among its modules (1 each)."""
    for layer in [str(layer) for layer in ctx.params.get("layers", {}).get(name, [])]:

        def present(layer: str = layer) -> str | None:
            problem = construct_failure(reply, name)
            if problem:
                return problem
            found = entry(reply, "modules")
            if not isinstance(found, list):
                return f"the worker's answer about {name}'s layers could not be read"
            if layer not in found:
                return f"{name} must {LAYER_PURPOSES.get(layer, 'use')} nn.{layer}: none of its modules is one"
            return None

        judge(criteria, 1.0, present)


# ---- generate, interpolate, make_optimizers ----------------------------------------------------------------------


def check_generate(ctx: CheckContext, criteria: Criteria, function: str) -> None:
    """A float32 numpy array, of shape (n, H, W) for n = 5 and 1, in [0, 1], the same images for the same rng
    (not judged when generate has no rng: the signature criterion says so). None is primary: G's own shape is.
    Uses the student's generator, built with defaults and in eval mode."""
    size, generator = ctx.task.image_size, network_named(ctx, "generator")
    label = int(ctx.rng.integers(NUM_CLASSES)) if ctx.task.conditional else None
    sizes = [BATCH, 1]
    reply = ctx.call(
        "interface_generate",
        module=ctx.module,
        function=function,
        generator=generator,
        sizes=sizes,
        label=label,
        optional=ctx.task.optional_parameters(function),
        seed=seed_for(ctx),
    )
    problem = construct_failure(reply, generator)
    if problem:
        fail_all(criteria, [1.0] * 4, f"{function} could not be tried: {problem}")
        return
    call = f"{function}(G, n, c)" if label is not None else f"{function}(G, n)"
    outputs = [entry(reply, "sizes", i) for i in range(len(sizes))]
    replayable = RNG not in dropped(reply)
    problem = call_failure(outputs[0], call)
    if problem:
        fail_all(criteria, [1.0] * (4 if replayable else 3), problem)
        return

    def kind() -> str | None:
        for described in outputs:
            validate.ndarray(raised(described, call), call, dtype="float32")
        return None

    def shapes() -> str | None:
        for n, described in zip(sizes, outputs, strict=True):
            images = array_like(described, f"{call} for n = {n}")
            if images.shape != (n, size, size):
                return f"{call} must return shape (n, {size}, {size}), but for n = {n} it returned {images.shape}"
        return None

    def unit_range() -> str | None:
        if not in_range(array_like(outputs[0], call), 0.0, 1.0):
            return f"{call} must return values in [0, 1]: map G's [-1, 1] images with (x + 1) / 2"
        return None

    def replay() -> str | None:
        again = array_like(reply.get("replay"), f"{call} called again")
        if not same(array_like(outputs[0], call), again):
            return f"{call} must draw its noise with the rng argument: the same rng gave other images"
        return None

    for test in (kind, shapes, unit_range, *((replay,) if replayable else ())):
        judge(criteria, 1.0, test)


def check_interpolate(ctx: CheckContext, criteria: Criteria, function: str) -> None:
    """A float32 numpy array (steps + 2, H, W) in [0, 1], for class indices with steps = 4 and for label vectors
    with steps = 6 (an interpolate without `steps` is judged at its documented default); with `endpoints`, the
    first and last images equal G(z0, y0) and G(z1, y1) mapped to [0, 1] (2, primary: what the check is for)."""
    size, generator = ctx.task.image_size, network_named(ctx, "generator")
    z0, z1 = ctx.rng.standard_normal((2, LATENT_DIM)).astype(np.float32)
    y0, y1 = (int(c) for c in ctx.rng.choice(NUM_CLASSES, 2, replace=False))
    seed = seed_for(ctx)
    endpoints = bool(ctx.params.get("endpoints", False))
    optional = ctx.task.optional_parameters(function)
    replies = []
    for as_vectors, steps in ((False, INTERPOLATION_STEPS), (True, 6)):
        reply = ctx.call(
            "interface_interpolate",
            module=ctx.module,
            function=function,
            generator=generator,
            z0=z0,
            z1=z1,
            y0=y0,
            y1=y1,
            steps=steps,
            as_vectors=as_vectors,
            optional=optional,
            seed=seed,
        )
        # Without a steps parameter it ran with its own default: judged at the documented one.
        judged = int(dict(optional).get("steps", steps)) if "steps" in dropped(reply) else steps
        replies.append((reply, judged, "label vectors (10,)" if as_vectors else "class indices"))
    problem = construct_failure(replies[0][0], generator)
    if problem:
        weights = ([2.0] if endpoints else []) + [1.0, 1.0]
        fail_all(criteria, weights, f"{function} could not be tried: {problem}", primary=endpoints)
        return
    for reply, steps, labels in replies:

        def contract(reply: Any = reply, steps: int = steps, labels: str = labels) -> str | None:
            what = f"{function}(G, z0, z1, y0, y1, steps={steps}) with {labels}"
            frames = validate.ndarray(raised(entry(reply, "frames"), what), what, dtype="float32")
            if frames.shape != (steps + 2, size, size):
                return f"{what} must return shape (steps + 2, {size}, {size}), not {frames.shape}"
            if not in_range(frames, 0.0, 1.0):
                return f"{what} must return values in [0, 1]: map G's images with (x + 1) / 2"
            return None

        judge(criteria, 1.0, contract)
    if not endpoints:
        return

    def ends() -> str | None:
        reply, steps, _ = replies[0]
        what = f"{function}(G, z0, z1, y0, y1)"
        frames = array_like(entry(reply, "frames"), what)
        expected = validate.ndarray(raised(entry(reply, "endpoints"), "G(z0, y0) in eval mode"), "G's images")
        if frames.shape != (steps + 2, size, size) or expected.shape != (2, size, size):
            return f"{what} returned no frames to compare the endpoints with"
        for frame, target, which in ((frames[0], expected[0], "first"), (frames[-1], expected[1], "last")):
            if not np.allclose(frame, target, rtol=0.0, atol=ENDPOINT_TOLERANCE):
                code = "G(z0, y0)" if which == "first" else "G(z1, y1)"
                return f"the {which} image of {what} must be {code} (G in eval mode) mapped to [0, 1]"
        return None

    judge(criteria, 2.0, ends, primary=True)


def check_make_optimizers(ctx: CheckContext, criteria: Criteria, function: str) -> None:
    """Returns two torch optimizers, each over all of its own network's parameters and none of the other's
    (primary); `optimizer`: their class; `lr`: every group's learning rate (primary: which parameters an optimizer
    holds and its learning rate are what it exists for, SPEC); `betas`: every group's betas. Tried on small
    grader-made networks, so a fault in the student's networks costs nothing here."""
    params = ctx.params
    weights = [1.0, 1.0] + [1.0 for key in ("optimizer", "lr", "betas") if key in params]
    reply = ctx.call("interface_optimizers", module=ctx.module, function=function, seed=seed_for(ctx))
    call = f"{function}(G, D)"
    if not isinstance(reply, dict):
        fail_all(criteria, weights, f"the worker's answer about {call} could not be read")
        return
    if "call" in reply:
        try:
            raised(reply["call"], call)
            problem = f"{call} failed"
        except Invalid as error:
            problem = str(error)
        fail_all(criteria, weights, problem, primary=True)
        return
    if reply.get("pair") is not True:
        problem = f"{call} must return a pair (opt_G, opt_D), not a {str(reply.get('type'))[:60]}"
        fail_all(criteria, weights, problem, primary=True)
        return
    facts = {"opt_G": reply.get("G"), "opt_D": reply.get("D")}

    def optimizers() -> str | None:
        for which, fact in facts.items():
            if entry(fact, "is_optimizer") is not True:
                return f"{which} must be a torch.optim optimizer, not a {str(entry(fact, 'type'))[:60]}"
        return None

    if not judge(criteria, 1.0, optimizers):
        fail_all(criteria, weights[1:], "make_optimizers' results could not be inspected", primary=True)
        return

    def parameters() -> str | None:
        for which, network in (("opt_G", "G"), ("opt_D", "D")):
            fact = facts[which]
            if entry(fact, "other_parameters") is True:
                return f"{which} holds the other network's parameters: give each optimizer its own network's"
            if entry(fact, "own_parameters") is not True:
                return f"{which} must optimise all of {network}.parameters(), each once"
        return None

    judge(criteria, 1.0, parameters, primary=True)

    def groups(which: str) -> list[Any]:
        found = entry(facts[which], "groups")
        if not isinstance(found, list) or not found:
            raise Invalid(f"{which} has no parameter groups")
        return found

    if "optimizer" in params:
        wanted = str(params["optimizer"])

        def kind() -> str | None:
            for which, fact in facts.items():
                name = entry(fact, "type")
                if not isinstance(name, str) or name.lower() != wanted.lower():
                    return f"{which} must be torch.optim.{wanted.capitalize()}, not {str(name)[:60]}"
            return None

        judge(criteria, 1.0, kind)
    if "lr" in params:
        lr = float(params["lr"])

        def learning_rate() -> str | None:
            for which in facts:
                for group in groups(which):
                    value = entry(group, "lr")
                    if not is_number(value) or not math.isclose(value, lr, rel_tol=1e-6):
                        return f"{which} has learning rate {str(value)[:30]}, but the task asks for {lr:g}"
            return None

        judge(criteria, 1.0, learning_rate, primary=True)
    if "betas" in params:
        betas = [float(b) for b in params["betas"]]

        def momentum() -> str | None:
            for which in facts:
                for group in groups(which):
                    value = entry(group, "betas")
                    ok = isinstance(value, list) and len(value) == len(betas) and all(map(is_number, value))
                    if not ok or not all(math.isclose(v, b, rel_tol=1e-6) for v, b in zip(value, betas, strict=True)):
                        return f"{which} must use betas {tuple(betas)}"
            return None

        judge(criteria, 1.0, momentum)


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


# ---- optimal_d: optimal_discriminator, gan_value, optimal_value ---------------------------------------------------


def call_output(ctx: CheckContext, function: str, *args: Any, grad: bool = False) -> Any:
    """The described output of `function(*args)` through the generic `call` probe; an exception is `Invalid`."""
    try:
        reply = ctx.call_function(function, *args, grad=grad)
    except StudentError as error:
        raise Invalid(student_error_message(error, function)) from None
    return entry(reply, "output")


def check_optimal_discriminator(ctx: CheckContext, criteria: Criteria, function: str) -> None:
    """A tensor of the densities' shape (here 2-D) with values in [0, 1] (1)."""
    p_data, p_g = ctx.rng.uniform(0.05, 2.0, (2, 3, 4)).astype(np.float32)

    def contract() -> str | None:
        what = f"{function}(p_data, p_g) for densities of shape (3, 4)"
        values = validate.tensor(call_output(ctx, function, p_data, p_g), what, (3, 4))
        if not in_range(values, 0.0, 1.0):
            return f"{function} must return values in [0, 1]: p_data / (p_data + p_g)"
        return None

    judge(criteria, 1.0, contract)


def check_gan_value(ctx: CheckContext, criteria: Criteria, function: str) -> None:
    """One number as a tensor, for batches of different sizes (1), that keeps its autograd graph (1)."""
    d_real = ctx.rng.uniform(0.05, 0.95, 6).astype(np.float32)
    d_fake = ctx.rng.uniform(0.05, 0.95, 4).astype(np.float32)
    what = f"{function}(d_real, d_fake) for batches of 6 and 4"
    try:
        output = call_output(ctx, function, d_real, d_fake, grad=True)
    except Invalid as error:
        fail_all(criteria, [1.0, 1.0], str(error))
        return
    judge(criteria, 1.0, readable(lambda: validate.scalar(output, what)))

    def graph() -> str | None:
        validate.scalar(output, what)
        if entry(output, "has_graph") is not True:
            return f"{function} must keep the autograd graph: use torch operations, no .item() or numpy"
        return None

    judge(criteria, 1.0, graph)


def parse_value(text: Any) -> float:
    """A number, or a tiny expression from task.toml: "-log 4", "log 2", "0.5"."""
    if isinstance(text, int | float):
        return float(text)
    match = re.fullmatch(r"\s*([+-]?)\s*(log\s*)?(\d+(?:\.\d*)?(?:[eE][+-]?\d+)?)\s*", str(text))
    if match is None:
        raise ValueError(f"cannot read the value {text!r}: write a number or 'log N' / '-log N'")
    sign, log, number = match.groups()
    value = math.log(float(number)) if log else float(number)
    return -value if sign == "-" else value


def check_optimal_value(ctx: CheckContext, criteria: Criteria, function: str) -> None:
    """A finite number: float, numpy scalar or one-element tensor (1); `value`: equal to it (3, primary), as the
    value is what such a check is about."""
    what = f"{function}()"
    try:
        output = call_output(ctx, function)
    except Invalid as error:
        fail_all(criteria, ([3.0] if "value" in ctx.params else []) + [1.0], str(error), primary="value" in ctx.params)
        return
    judge(criteria, 1.0, readable(lambda: validate.scalar(output, what, allow_number=True)))
    if "value" in ctx.params:
        expected = parse_value(ctx.params["value"])

        def value() -> str | None:
            got = validate.scalar(output, what, allow_number=True)
            if not math.isclose(got, expected, rel_tol=1e-6, abs_tol=1e-9):
                return f"{what} returned {got:.6g}, which is not V(D*, G*): evaluate V with D* = 1/2 everywhere"
            return None

        judge(criteria, 3.0, value, primary=True)


# ---- adversarial: targeted_attack ---------------------------------------------------------------------------------

ATTACK_EPS = 0.2
ATTACK_STEPS = 5


def check_targeted_attack(ctx: CheckContext, criteria: Criteria, function: str) -> None:
    """On a small grader-made victim whose target class is out of reach (so every step is taken), and images at
    the edges of the range: an int target works and gives x's shape, dtype and device (1); a (B,) target
    works likewise (1); ‖x_adv − x‖∞ ≤ eps per sample (1); values in [-1, 1] (1); x and the model unchanged (1)."""
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


# ---- evaluation: extract_features, tsne_embedding, generated_accuracy --------------------------------------------


def check_extract_features(ctx: CheckContext, criteria: Criteria, function: str) -> None:
    """On a grader-made model with BatchNorm and Dropout, for each of `image_sizes`: a float tensor (B, F) with
    one F for all sizes (1); detached (1); computed in eval mode (1); the model's mode restored (1)."""
    sizes = image_sizes(ctx)
    batches = [images_in_range(ctx, BATCH + 1, size) for size in sizes]
    reply = ctx.call("evaluation_features", module=ctx.module, function=function, images=batches, seed=seed_for(ctx))
    runs = entry(reply, "runs")
    if not isinstance(runs, list) or len(runs) != len(sizes) + 1:
        fail_all(criteria, [1.0] * 4, f"the worker's answer about {function} could not be read")
        return
    what = f"{function}(model, x)"

    def features(run: Any) -> np.ndarray:
        return returned_tensor(entry(run, "output"), what)

    def shape() -> str | None:
        widths = set()
        for run, size in zip(runs, [*sizes, sizes[0]], strict=True):
            array = features(run)
            if array.ndim != 2 or array.shape[0] != BATCH + 1:
                return f"{what} must return shape (B, F), but for {size}×{size} images it returned {array.shape}"
            widths.add(array.shape[1])
        if len(widths) > 1:
            return f"{what} must have the same width F for every image size"
        return None

    def detached() -> str | None:
        for run in runs:
            output = raised(entry(run, "output"), what)
            if entry(output, "requires_grad") is not False or entry(output, "has_graph") is not False:
                return f"{what} must return a detached tensor: compute it under torch.no_grad()"
        return None

    def eval_mode() -> str | None:
        for run in runs:
            array = features(run)
            expected = returned_tensor(entry(run, "expected"), "the grader's features")
            if array.size != expected.size:
                return f"{what} must return model.features(x), one row of F values per image"
            # Compared as flat values, so a wrong shape (its own criterion) does not hide the mode.
            if not np.allclose(array.reshape(expected.shape), expected, rtol=1e-4, atol=1e-5):
                return f"{what} must compute the features in eval mode (BatchNorm and Dropout behave differently)"
        return None

    def restored() -> str | None:
        for run in runs:
            features(run)  # a call that failed has shown nothing about the mode it leaves
            if entry(run, "training_after") is not entry(run, "training_before"):
                return f"{what} must restore the model's previous mode (train or eval) when it is done"
        return None

    for test in (shape, detached, eval_mode, restored):
        judge(criteria, 1.0, test)


def clustered_features(ctx: CheckContext, count: int, width: int = 16) -> np.ndarray:
    """Points around a few centres, like classifier features of several classes."""
    centres = ctx.rng.normal(0.0, 4.0, (4, width))
    return (centres[ctx.rng.integers(0, 4, count)] + ctx.rng.normal(0.0, 1.0, (count, width))).astype(np.float32)


def check_tsne_embedding(ctx: CheckContext, criteria: Criteria, function: str) -> None:
    """A finite float numpy array (N, 2) for array features of each of `sizes` (default 20 and 200; 1 each) and
    for tensor features of the smallest size (1); `deterministic`: the array and the tensor run of the smallest
    size, with the same seed, give the same embedding (1). t-SNE costs most of a second for a few hundred
    points on a CPU, so only the smallest size, the one that trips the perplexity, is run twice."""
    sizes = sorted(int(n) for n in ctx.params.get("sizes", [20, 200]))
    seed = int(ctx.rng.integers(1000))
    optional = ctx.task.optional_parameters(function)

    def run(features: np.ndarray, as_tensor: bool) -> Callable[[], np.ndarray]:
        count = len(features)
        reply = ctx.call(
            "evaluation_tsne",
            module=ctx.module,
            function=function,
            features=features,
            as_tensor=as_tensor,
            optional=optional,
            seed=seed,
        )
        given = "a tensor" if as_tensor else "a numpy array"
        what = f"{function}(features, seed) for {count} points given as {given}"

        def embedding() -> np.ndarray:
            array = validate.ndarray(raised(entry(reply, "output"), what), what, (count, 2))
            if array.dtype.kind != "f":
                raise Invalid(f"{what} must return a float array, not {array.dtype}")
            return array

        return embedding

    few = clustered_features(ctx, sizes[0])
    smallest, as_tensor = run(few, as_tensor=False), run(few, as_tensor=True)
    larger = [run(clustered_features(ctx, count), as_tensor=False) for count in sizes[1:]]
    for embedding in [smallest, as_tensor, *larger]:
        judge(criteria, 1.0, readable(embedding))
    if ctx.params.get("deterministic", False):

        def replayable() -> str | None:
            if not np.allclose(smallest(), as_tensor(), rtol=1e-4, atol=1e-4):
                return f"{function} gave two embeddings of the same points for one seed: pass random_state=seed"
            return None

        judge(criteria, 1.0, replayable)


@functools.lru_cache(maxsize=4)
def frozen_classifier(dataset: str) -> torch.nn.Module:
    """The grader's own copy of the frozen classifier (the worker loads its own: nothing is shared)."""
    model, _ = load_frozen_classifier(dataset, "cpu")
    return model


def confident_images(ctx: CheckContext, dataset: str, size: int, per_class: int) -> np.ndarray:
    """(classes, per_class, 1, size, size) real test images that the frozen classifier puts in their own class
    with probability ≥ 0.9, so the accuracy on them is 1 without any doubt from float rounding."""
    images, labels = load_dataset(dataset, "test", size=size)
    classifier = frozen_classifier(dataset)
    pools = []
    for c in range(NUM_CLASSES):
        candidates = ctx.rng.permutation(np.flatnonzero(labels.numpy() == c))[: 4 * per_class]
        with torch.no_grad():
            probabilities = torch.softmax(classifier(images[candidates]), dim=1)[:, c].numpy()
        chosen = candidates[probabilities >= 0.9][:per_class]
        if len(chosen) < per_class:
            raise RuntimeError(f"too few confidently classified test images of class {c} in {dataset}")
        pools.append(images[chosen].numpy())
    return np.stack(pools).astype(np.float32)


# generators for generated_accuracy → the class all its images come from (None: the class asked for)
POOL_GENERATORS: dict[str, Callable[[CheckContext], int | None]] = {
    "class_faithful": lambda ctx: None,
    "label_ignoring": lambda ctx: int(ctx.rng.integers(1, NUM_CLASSES)),
}
POOL_DESCRIPTIONS = {
    "class_faithful": "returns correctly classified real images of the requested class",
    "label_ignoring": "returns images of one class whatever the label",
}
GENERATED_PER_CLASS = 20


def check_generated_accuracy(ctx: CheckContext, criteria: Criteria, function: str) -> None:
    """For each of `generators`, grader-made G(z, y) that return real test images: the student's accuracy equals
    the frozen classifier's accuracy on the images that G returns for each requested class (1 each, primary:
    the value is what the check is for)."""
    names = list(ctx.params.get("generators", list(POOL_GENERATORS)))
    dataset = ctx.task.dataset
    pools = confident_images(ctx, dataset, ctx.task.image_size, GENERATED_PER_CLASS)
    fixed = [POOL_GENERATORS[name](ctx) for name in names]
    expected = []
    classifier = frozen_classifier(dataset)
    for kind in fixed:
        # What the classifier says about the images G returns for each requested class c.
        hits = [
            predict(classifier, torch.from_numpy(pools[c if kind is None else kind])).numpy() == c for c in range(10)
        ]
        expected.append(float(np.concatenate(hits).mean()))
    stated = ctx.params.get("expected")
    if stated is not None and not np.allclose(stated, expected, rtol=0.0, atol=1e-9):
        # The generators are built to give what task.toml states; a difference is the task's error, not the
        # student's, and must not be scored.
        raise ValueError(f"{ctx.task.id}/{ctx.check.id}: expected = {stated} but the generators give {expected}")
    reply = ctx.call(
        "evaluation_generated_accuracy",
        module=ctx.module,
        function=function,
        classifier=dataset,
        pools=ctx.put_array("generated_accuracy_pools", pools),
        fixed=fixed,
        n_per_class=GENERATED_PER_CLASS,
        optional=ctx.task.optional_parameters(function),
        seed=seed_for(ctx),
    )
    for index, (name, target) in enumerate(zip(names, expected, strict=True)):

        def matches(index: int = index, name: str = name, target: float = target) -> str | None:
            what = f"{function}(classifier, G, n_per_class)"
            got = validate.scalar(raised(entry(reply, "outputs", index), what), what, allow_number=True)
            if not math.isclose(got, target, abs_tol=1e-6):
                return (
                    f"{what} returned {got:.3g} for a generator that {POOL_DESCRIPTIONS.get(name, name)}, "
                    f"where it should be {target:g}: classify G(z, one_hot(c)) and count the predictions equal to c"
                )
            return None

        judge(criteria, 1.0, matches, primary=True)


FUNCTIONS: dict[str, Callable[[CheckContext, Criteria, str], None]] = {
    "generate": check_generate,
    "interpolate": check_interpolate,
    "make_optimizers": check_make_optimizers,
    "optimal_discriminator": check_optimal_discriminator,
    "gan_value": check_gan_value,
    "optimal_value": check_optimal_value,
    "targeted_attack": check_targeted_attack,
    "extract_features": check_extract_features,
    "tsne_embedding": check_tsne_embedding,
    "generated_accuracy": check_generated_accuracy,
}


# ---- signatures ------------------------------------------------------------------------------------------------


def check_signatures(ctx: CheckContext, criteria: Criteria) -> None:
    """`signatures`: every name with documented optional parameters accepts each of them (`SIGNATURE_WEIGHT`).
    The worker applies `gankit.signature.fit`'s rules (by name, `**kwargs`, a positional stand-in with a default,
    `*args`) to each name's signature (a class: its constructor's), so a criterion here fails exactly where the
    other checks call the function without a parameter."""
    documented = {item["name"]: item["signature"] for item in ctx.task.names}
    classes = {item["name"] for item in ctx.task.names if item.get("kind") == "class"}
    optional = {name: ctx.task.optional_parameters(name) for name in documented}
    asked = {
        name: [len(documented_required(signature)), [p for p, _ in optional[name]]]
        for name, signature in documented.items()
        if optional[name]
    }
    if not asked:
        return
    reply = ctx.call("interface_signatures", module=ctx.module, names=asked)

    def accepted() -> str | None:
        problems = []  # (name, sentence)
        for name, (_, names) in asked.items():
            lacking = entry(reply, name)
            if lacking is None:  # a missing name costs the criteria that call it
                continue
            if not isinstance(lacking, list) or not set(map(str, lacking)) <= set(names):
                return "the worker's answer about the signatures could not be read"
            if lacking:
                defaults = ", ".join(f"{p}={default}" for p, default in optional[name] if p in lacking)
                plural = "s" if len(lacking) > 1 else ""
                listed = ", ".join(map(str, lacking))
                problems.append((name, f"{name} has no parameter{plural} {listed} (documented: {defaults})"))
        if not problems:
            return None
        said = " and ".join(sentence for _, sentence in problems)
        if len(problems) > 1:
            return f"{said}: the grader leaves out what each lacks"
        return f"{said}: the grader {'builds' if problems[0][0] in classes else 'calls'} it without it"

    judge(criteria, SIGNATURE_WEIGHT, accepted)


@check_kind("interface")
def interface(ctx: CheckContext) -> Outcome:
    criteria = Criteria()
    networks = [str(name) for name in ctx.params.get("networks", [])]
    functions = [str(name) for name in ctx.params.get("functions", [])]
    for name in networks:
        check_layers(ctx, criteria, name, NETWORKS[ROLES[name]](ctx, criteria, name))
    for name in functions:
        FUNCTIONS[name](ctx, criteria, name)
    if ctx.params.get("signatures", False):
        check_signatures(ctx, criteria)
    names = networks + functions
    return criteria.outcome(f"{', '.join(names)} {'meets' if len(names) == 1 else 'meet'} the documented interface")
