"""The contract of the function in the role `optimizers` (`make_optimizers(G, D)`): one optimizer per network, of
the class and settings the task's `[training.optimizer]` states."""

from __future__ import annotations

import math
from typing import Any

from gankit.catalogue import Name, Optimizer
from grader.checks import CheckContext, Criteria
from grader.checks.interface.criteria import contract, fail_all, judge
from grader.checks.probing import seed_for
from grader.validate import Invalid, entry, raised


@contract("optimizers")
def check_make_optimizers(ctx: CheckContext, criteria: Criteria, named: Name) -> None:
    """Returns two torch optimizers, each over all of its own network's parameters and none of the other's
    (primary); of the task's `[training.optimizer]`: their class (`kind`), every group's learning rate (`lr`,
    primary: which parameters an optimizer holds and its learning rate are what it exists for, SPEC) and, where
    stated, every group's `betas`. Tried on small grader-made networks, so a fault in the student's networks
    costs nothing here."""
    function = named.name
    expected = stated_optimizer(ctx)
    weights = [1.0, 1.0, 1.0, 1.0] + ([1.0] if expected.betas is not None else [])
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

    wanted, lr = expected.kind, expected.lr

    def kind() -> str | None:
        for which, fact in facts.items():
            name = entry(fact, "type")
            if not isinstance(name, str) or name.lower() != wanted.lower():
                return f"{which} must be torch.optim.{wanted.capitalize()}, not {str(name)[:60]}"
        return None

    def learning_rate() -> str | None:
        for which in facts:
            for group in groups(which):
                value = entry(group, "lr")
                if not is_number(value) or not math.isclose(value, lr, rel_tol=1e-6):
                    return f"{which} has learning rate {str(value)[:30]}, but the task asks for {lr:g}"
        return None

    judge(criteria, 1.0, kind)
    judge(criteria, 1.0, learning_rate, primary=True)
    if expected.betas is not None:
        betas = [float(b) for b in expected.betas]

        def momentum() -> str | None:
            for which in facts:
                for group in groups(which):
                    value = entry(group, "betas")
                    ok = isinstance(value, list) and len(value) == len(betas) and all(map(is_number, value))
                    if not ok or not all(math.isclose(v, b, rel_tol=1e-6) for v, b in zip(value, betas, strict=True)):
                        return f"{which} must use betas {tuple(betas)}"
            return None

        judge(criteria, 1.0, momentum)


def stated_optimizer(ctx: CheckContext) -> Optimizer:
    """The optimizer the task states once for its training stage, which the student's function must build."""
    if ctx.task.training is None:
        raise ValueError(f"{ctx.task.id}/{ctx.check.id}: the optimizers contract needs the task's [training.optimizer]")
    return ctx.task.training.optimizer


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
