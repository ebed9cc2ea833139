"""Calling student code the way its own signature allows (SPEC: optional parameters of a documented signature
are passed only where the student's function accepts them).

The required arguments always go by position, as documented. Each optional one (`rng`, `lam`, `clip`, `steps`,
…) goes by keyword where the function has a parameter of that name or takes `**kwargs`; by position where the
function has, at the documented place, a parameter of another name with a default (`lambda_gp=10.0` for
`lam`) or takes `*args`; otherwise it is left out, and the caller learns which, so the parent can judge the
math with the documented default (a penalty without `lam` is compared at λ = 10) and the interface check can
name the missing parameter.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
NAMED = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


@dataclass
class Fitted:
    args: list[Any]
    kwargs: dict[str, Any]
    dropped: list[str] = field(default_factory=list)  # documented optional parameters the function lacks

    def __call__(self, function: Callable[..., Any]) -> Any:
        return function(*self.args, **self.kwargs)


def parameters(function: Callable[..., Any]) -> list[inspect.Parameter] | None:
    """The function's parameters (a class: its constructor's), or None when Python cannot tell."""
    try:
        return list(inspect.signature(function).parameters.values())
    except (TypeError, ValueError):
        return None


def accepts_keyword(function: Callable[..., Any], name: str) -> bool:
    """Whether `function` (a class: its constructor) takes `name` by keyword, by name or through `**kwargs`."""
    return any(
        (p.name == name and p.kind in NAMED) or p.kind is inspect.Parameter.VAR_KEYWORD
        for p in parameters(function) or []
    )


def fit(function: Callable[..., Any], required: Sequence[Any], optional: Sequence[tuple[str, Any]]) -> Fitted:
    """The call of `function` with the `required` arguments and every documented `optional` (name, value), in
    the documented order, that its signature accepts."""
    found = parameters(function)
    if found is None:  # a builtin or C function: pass everything by position, as documented
        return Fitted([*required, *(value for _, value in optional)], {})
    named = {p.name for p in found if p.kind in NAMED}
    positional = [p for p in found if p.kind in POSITIONAL]
    var_positional = any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in found)
    var_keyword = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in found)
    documented = {name for name, _ in optional}
    fitted = Fitted(list(required), {})
    by_position = True  # positions stay aligned only until the first optional argument goes by keyword
    for name, value in optional:
        place = len(fitted.args)
        if name in named or var_keyword:
            fitted.kwargs[name] = value
            by_position = False
        elif by_position and place < len(positional) and _stands_in(positional[place], documented):
            fitted.args.append(value)
        elif by_position and var_positional and place >= len(positional):
            fitted.args.append(value)
        else:
            fitted.dropped.append(name)
            by_position = False
    return fitted


def _stands_in(parameter: inspect.Parameter, documented: set[str]) -> bool:
    """A parameter of another name, with a default, at an optional parameter's documented place."""
    return parameter.default is not inspect.Parameter.empty and parameter.name not in documented


def call(function: Callable[..., Any], required: Sequence[Any], optional: Sequence[tuple[str, Any]]) -> Any:
    return fit(function, required, optional)(function)


RNG = "rng"  # SPEC: every function that draws random numbers takes a torch.Generator by this name


def documented_values(
    optional: Sequence[tuple[str, Any]], given: dict[str, Any], module: Any = None
) -> list[tuple[str, Any]]:
    """The documented optional parameters with the caller's values where it has one, else their documented
    defaults; a default that names a function of the student's module (`generator_loss=generator_loss_nonsaturating`)
    becomes that function, so every parameter keeps its documented place."""
    values = []
    for name, default in optional:
        value = given.get(name, default)
        if name not in given and isinstance(default, str) and default.isidentifier() and hasattr(module, default):
            value = getattr(module, default)
        values.append((name, value))
    return values
