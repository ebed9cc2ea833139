"""The contracts of the functions that sample the student's generator: `generate` and `interpolate`."""

from __future__ import annotations

from typing import Any

import numpy as np

from gankit.catalogue import Name
from gankit.common import LATENT_DIM, NUM_CLASSES
from gankit.signature import RNG
from grader import validate
from grader.checks import CheckContext, Criteria
from grader.checks.interface.criteria import (
    BATCH,
    call_failure,
    construct_failure,
    contract,
    fail_all,
    in_range,
    judge,
    same,
)
from grader.checks.probing import seed_for
from grader.validate import array_like, dropped, entry, raised

ENDPOINT_TOLERANCE = 2e-3  # half a grey level of 256: batch composition may change G's float rounding
INTERPOLATION_STEPS = 4  # not the default 6, so a hard-coded 8 shows


@contract("generate")
def check_generate(ctx: CheckContext, criteria: Criteria, named: Name) -> None:
    """A float32 numpy array, of shape (n, H, W) for n = 5 and 1, in [0, 1], the same images for the same rng
    (not judged when generate has no rng: the signature criterion says so). None is primary: G's own shape is.
    Uses the student's generator, built with defaults and in eval mode."""
    function = named.name
    size, generator = ctx.task.image_size, ctx.task.playing("generator").name
    label = int(ctx.rng.integers(NUM_CLASSES)) if ctx.task.conditional else None
    sizes = [BATCH, 1]
    reply = ctx.call(
        "interface_generate",
        module=ctx.module,
        function=function,
        generator=generator,
        sizes=sizes,
        label=label,
        optional=named.optional,
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


@contract("interpolate")
def check_interpolate(ctx: CheckContext, criteria: Criteria, named: Name) -> None:
    """A float32 numpy array (steps + 2, H, W) in [0, 1], for class indices with steps = 4 and for label vectors
    with steps = 6 (an interpolate without `steps` is judged at its documented default); with `endpoints`, the
    first and last images equal G(z0, y0) and G(z1, y1) mapped to [0, 1] (2, primary: what the check is for)."""
    function = named.name
    size, generator = ctx.task.image_size, ctx.task.playing("generator").name
    z0, z1 = ctx.rng.standard_normal((2, LATENT_DIM)).astype(np.float32)
    y0, y1 = (int(c) for c in ctx.rng.choice(NUM_CLASSES, 2, replace=False))
    seed = seed_for(ctx)
    endpoints = bool(ctx.params.get("endpoints", False))
    optional = named.optional
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
