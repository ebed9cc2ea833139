"""The networks' contracts: a generator, a scorer (a discriminator or a critic) and a classifier construct with
default arguments and return the documented shapes, dtypes and ranges on grader-chosen inputs; `layers` names
module classes a network must contain."""

from __future__ import annotations

from typing import Any

import numpy as np

from gankit.catalogue import Name
from gankit.common import LATENT_DIM, NUM_CLASSES
from grader import validate
from grader.checks import CheckContext, Criteria
from grader.checks.interface.criteria import (
    BATCH,
    RANGE_TOLERANCE,
    call_failure,
    construct_failure,
    contract,
    fail_all,
    image_sizes,
    images_in_range,
    in_range,
    judge,
    same,
)
from grader.checks.probing import seed_for
from grader.validate import dtype_of, entry, raised, returned_tensor

# A scorer's weights are scaled by these before its scores are judged for squashing: 10 already lifts a correct
# critic's scores far beyond 1 (at least 15 for every width, norm layer and seed tried), 100 where 10 did not.
WEIGHT_SCALES = [10.0, 100.0]
SOFT_MIXES = ("mostly", "partly")  # a 0.9/0.1 and a 0.6/0.4 mix of the same two classes (one argmax)
LAYER_PURPOSES = {"ConvTranspose2d": "upsample with"}  # how a missing layer's sentence reads; default "use"
SCORER_RETURNS = {"discriminator": "logits", "critic": "raw scores"}  # by role, in the squashing sentence


def class_pairs(ctx: CheckContext, count: int) -> tuple[list[int], list[int]]:
    """Labels and, for each, a different label."""
    labels = ctx.rng.integers(0, NUM_CLASSES, count)
    other = (labels + ctx.rng.integers(1, NUM_CLASSES, count)) % NUM_CLASSES
    return labels.tolist(), other.tolist()


@contract("generator")
def check_generator(ctx: CheckContext, criteria: Criteria, named: Name) -> Any:
    """Shape (B, 1, H, W) (primary: with construction, what a generator exists for); the same for a batch of one
    in eval mode; float32 in [-1, 1]; conditional: uses y, takes soft labels in range, and two soft labels with
    one argmax give other images (label interpolation needs the soft vector, not its argmax). Returns the reply."""
    name = named.name
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


@contract("discriminator", "critic")
def check_scorer(ctx: CheckContext, criteria: Criteria, named: Name) -> Any:
    """Scores (B,) (primary: with construction, what a scorer exists for); float32; conditional: they depend on
    y; not squashed: with every weight scaled by `WEIGHT_SCALES`, some score leaves [-1, 1], which a network
    ending in sigmoid or tanh never does whatever its weights, and a piecewise-linear one does whatever its
    initialisation (judged so because a correct critic's scores at initialisation are often within [0, 1]).
    Returns the reply."""
    name = named.name
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
        returns = SCORER_RETURNS[named.role]
        why = " (the losses apply the sigmoid)" if returns == "logits" else ""
        return (
            f"{name}'s scores all lie in {interval} whatever its weights: return {returns}, no sigmoid or tanh "
            f"at the end{why}"
        )

    judge(criteria, 1.0, shape, primary=True)
    for test in (dtype, *((uses_labels,) if conditional else ()), not_squashed):
        judge(criteria, 1.0, test)
    return reply


@contract("classifier")
def check_classifier(ctx: CheckContext, criteria: Criteria, named: Name) -> Any:
    """Logits (B, 10) float32 for each image size (primary, with construction); features(x) (B, F) with one F
    for all sizes. Returns the reply."""
    name = named.name
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
