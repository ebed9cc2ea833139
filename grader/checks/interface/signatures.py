"""`signatures`: every name of the task accepts its documented optional parameters, by the rules the grader
calls it with (`gankit.signature.fit`)."""

from __future__ import annotations

from grader.checks import CheckContext, Criteria
from grader.checks.interface.criteria import judge
from grader.validate import entry

SIGNATURE_WEIGHT = 0.5


def check_signatures(ctx: CheckContext, criteria: Criteria) -> None:
    """`signatures`: every name with documented optional parameters accepts each of them (`SIGNATURE_WEIGHT`).
    The worker applies `gankit.signature.fit`'s rules (by name, `**kwargs`, a positional stand-in with a default,
    `*args`) to each name's signature (a class: its constructor's), so a criterion here fails exactly where the
    other checks call the function without a parameter."""
    classes = {item.name for item in ctx.task.names if item.kind == "class"}
    optional = {item.name: item.optional for item in ctx.task.names}
    asked = {
        item.name: [len(item.required), [p for p, _ in optional[item.name]]]
        for item in ctx.task.names
        if optional[item.name]
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
