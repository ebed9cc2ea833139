"""The evaluation task's contracts: `extract_features` on a grader-made model, `tsne_embedding`, and
`generated_accuracy` with grader-made generators, compared with the grader's own frozen classifier."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from gankit.catalogue import Name
from gankit.classifier import predict
from gankit.common import NUM_CLASSES
from gankit.data import load_dataset
from grader import validate
from grader.checks import CheckContext, Criteria
from grader.checks.interface.criteria import BATCH, contract, fail_all, image_sizes, images_in_range, judge, readable
from grader.checks.probing import frozen_classifier, seed_for
from grader.validate import Invalid, entry, raised, returned_tensor


@contract("extract_features")
def check_extract_features(ctx: CheckContext, criteria: Criteria, named: Name) -> None:
    """On a grader-made model with BatchNorm and Dropout, for each of `image_sizes`: a float tensor (B, F) with
    one F for all sizes (1); detached (1); computed in eval mode (1); the model's mode restored (1)."""
    function = named.name
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


@contract("tsne_embedding")
def check_tsne_embedding(ctx: CheckContext, criteria: Criteria, named: Name) -> None:
    """A finite float numpy array (N, 2) for array features of each of `sizes` (default 20 and 200; 1 each) and
    for tensor features of the smallest size (1); `deterministic`: the array and the tensor run of the smallest
    size, with the same seed, give the same embedding (1). t-SNE costs most of a second for a few hundred
    points on a CPU, so only the smallest size, the one that trips the perplexity, is run twice."""
    function = named.name
    sizes = sorted(int(n) for n in ctx.params.get("sizes", [20, 200]))
    seed = int(ctx.rng.integers(1000))
    optional = named.optional

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


def confident_images(ctx: CheckContext, dataset: str, size: int, per_class: int) -> np.ndarray:
    """(classes, per_class, 1, size, size) real test images that the frozen classifier puts in their own class
    with probability ≥ 0.9, so the accuracy on them is 1 without any doubt from float rounding."""
    images, labels = load_dataset(dataset, "test", size=size)
    classifier = frozen_classifier(dataset)
    pools = []
    for c in range(NUM_CLASSES):
        candidates = ctx.rng.permutation(np.flatnonzero(labels.numpy() == c))[: 4 * per_class]
        # The first `per_class` confident candidates in their drawn order, a few more than needed at a time: the
        # classifier is sure of nearly every test image, so one batch is nearly always enough.
        chosen = np.zeros(0, dtype=candidates.dtype)
        for start in range(0, len(candidates), per_class + 5):
            batch = candidates[start : start + per_class + 5]
            with torch.no_grad():
                probabilities = torch.softmax(classifier(images[batch]), dim=1)[:, c].numpy()
            chosen = np.concatenate([chosen, batch[probabilities >= 0.9]])[:per_class]
            if len(chosen) == per_class:
                break
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


@contract("generated_accuracy")
def check_generated_accuracy(ctx: CheckContext, criteria: Criteria, named: Name) -> None:
    """For each of `generators`, grader-made G(z, y) that return real test images: the student's accuracy equals
    the frozen classifier's accuracy on the images that G returns for each requested class (1 each, primary:
    the value is what the check is for)."""
    function = named.name
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
        optional=named.optional,
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
