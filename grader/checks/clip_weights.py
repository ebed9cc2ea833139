"""Kind `clip_weights`: the WGAN weight-clipping helper on a grader-made critic with every kind of parameter
(convolution and linear weights and biases, BatchNorm and LayerNorm affine parameters), set so that half of each
tensor lies well inside [−c, c] and half well outside.

params: `function` (default: the task's name in the role `clip_weights`), `c` (default: its documented default).
Primary: every parameter tensor ends within [−c, c] for the c given, and for 5c, so c is honoured (the documented
default where the function has no c). Side: clamped, not rescaled; in place, so the optimizer keeps updating the
same tensors.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from grader.checks import CheckContext, Criteria, Outcome, check_kind
from grader.validate import Invalid

CLIP_SHAPES = {  # the probe's critic (grader/worker/probes/clip_weights.py `_clip_critic`)
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


@check_kind("clip_weights")
def clip_weights(ctx: CheckContext) -> Outcome:
    """Primary: every parameter tensor ends within [−c, c] for the c given (the documented default where the
    function has no c). Side: clamped, not rescaled; in place."""
    function = ctx.params.get("function") or ctx.task.playing("clip_weights").name
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
