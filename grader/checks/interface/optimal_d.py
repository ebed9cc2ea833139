"""The contracts of the optimal-discriminator task's functions: `optimal_discriminator`, `gan_value` and
`optimal_value`, called through the generic `call` probe."""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np

from gankit.catalogue import Name
from grader import validate
from grader.checks import CheckContext, Criteria, student_error_message
from grader.checks.interface.criteria import contract, fail_all, in_range, judge, readable
from grader.sandbox import StudentError
from grader.validate import Invalid, entry


def call_output(ctx: CheckContext, function: str, *args: Any, grad: bool = False) -> Any:
    """The described output of `function(*args)` through the generic `call` probe; an exception is `Invalid`."""
    try:
        reply = ctx.call_function(function, *args, grad=grad)
    except StudentError as error:
        raise Invalid(student_error_message(error, function)) from None
    return entry(reply, "output")


@contract("optimal_discriminator")
def check_optimal_discriminator(ctx: CheckContext, criteria: Criteria, named: Name) -> None:
    """A tensor of the densities' shape (here 2-D) with values in [0, 1] (1)."""
    function = named.name
    p_data, p_g = ctx.rng.uniform(0.05, 2.0, (2, 3, 4)).astype(np.float32)

    def contract() -> str | None:
        what = f"{function}(p_data, p_g) for densities of shape (3, 4)"
        values = validate.tensor(call_output(ctx, function, p_data, p_g), what, (3, 4))
        if not in_range(values, 0.0, 1.0):
            return f"{function} must return values in [0, 1]: p_data / (p_data + p_g)"
        return None

    judge(criteria, 1.0, contract)


@contract("gan_value")
def check_gan_value(ctx: CheckContext, criteria: Criteria, named: Name) -> None:
    """One number as a tensor, for batches of different sizes (1), that keeps its autograd graph (1)."""
    function = named.name
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


@contract("optimal_value")
def check_optimal_value(ctx: CheckContext, criteria: Criteria, named: Name) -> None:
    """A finite number: float, numpy scalar or one-element tensor (1); `value`: equal to it (3, primary), as the
    value is what such a check is about."""
    function = named.name
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
