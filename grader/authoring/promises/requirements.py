"""When a check's criterion runs at all: the requirements a promise puts on the check (its parameters) and on
its task (task.toml as a dict), so a statement may promise only what that task's checks verify."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Claim:
    """A clause (or run of clause parts) offered to one check: its parameters, its task (task.toml as a dict)
    and the text the promise's pattern matched."""

    params: Mapping[str, Any]
    task: Mapping[str, Any]
    text: str


Requirement = Callable[[Claim], bool]


def every(*requirements: Requirement) -> Requirement:
    return lambda claim: all(requirement(claim) for requirement in requirements)


def has(param: str) -> Requirement:
    """The check sets `param` to something true (a flag, a list, a value)."""
    return lambda claim: bool(claim.params.get(param))


def equals(param: str, value: Any) -> Requirement:
    return lambda claim: claim.params.get(param) == value


def plays(param: str, *roles: str) -> Requirement:
    """The names the check's `param` gives (a list, or a name) play every one of `roles` (their `[[names]]`
    roles), whatever the student is asked to call them."""
    return lambda claim: set(roles) <= {_role_of(claim, name) for name in _names(claim.params.get(param))}


def layer(role: str, module: str) -> Requirement:
    """interface's `layers`: the network playing `role` must contain `module`."""

    def holds(claim: Claim) -> bool:
        layers = claim.params.get("layers") or {}
        return any(_role_of(claim, network) == role and module in modules for network, modules in layers.items())

    return holds


def quality(figure: str) -> Requirement:
    """The task's brief training scores `figure` (its `[quality]` names it)."""
    return lambda claim: figure in (claim.task.get("quality") or {})


def conditional(claim: Claim) -> bool:
    return bool(claim.task.get("conditional"))


def task_has(kind: str, requirement: Requirement | None = None) -> Requirement:
    """Some check of the task is of `kind` (and meets `requirement`, judged with that check's parameters)."""

    def holds(claim: Claim) -> bool:
        return any(
            check.get("kind") == kind
            and (requirement is None or requirement(Claim(check.get("params") or {}, claim.task, claim.text)))
            for check in claim.task.get("checks", [])
        )

    return holds


def d_updates(claim: Claim) -> int:
    """The number of D steps the train_step check asks per call (as `train_step.train_step` computes it)."""
    training = _training(claim)
    if training.get("real") != "batches":
        return 1
    return int(claim.params.get("d_steps", training.get("d_steps", 1)))


def optimizer(kind: str) -> Requirement:
    """The task's `[training.optimizer]` is of `kind` with its learning rate and betas stated."""

    def holds(claim: Claim) -> bool:
        stated = _training(claim).get("optimizer") or {}
        return stated.get("kind") == kind and "lr" in stated and "betas" in stated

    return holds


def scorer_named(claim: Claim) -> bool:
    """A clause that says "critic" is about a task whose train_step trains a Critic, one that says "D" about a
    Discriminator."""
    critic = _role_named(claim, "critic") is not None
    if re.search(r"\bcritic\b", claim.text, re.I) and not critic:
        return False
    return not (re.search(r"\bD\b", claim.text) and critic)


def names_called(claim: Claim) -> bool:
    """Every name the clause gives in backticks is one the check calls; "G", "D", "the critic" and "the networks"
    need those networks among the check's; "one-hot" a conditional task."""
    called = {
        *_names(claim.params.get("networks")),
        *_names(claim.params.get("functions")),
        *_names(claim.params.get("function")),
        *_names(claim.params.get("network")),
    }
    networks = set(_names(claim.params.get("networks")))
    text = claim.text
    needed = set(re.findall(r"`([A-Za-z_]\w*)`", text))
    if re.search(r"\bG\b|\bthe generator\b", text):
        needed.add(_role_named(claim, "generator") or "the generator")
    if re.search(r"\bD\b", text):
        needed.add(_role_named(claim, "discriminator") or "the discriminator")
    if re.search(r"\bthe critic\b", text, re.I):
        needed.add(_role_named(claim, "critic") or "the critic")
    if re.search(r"\bnetworks\b", text, re.I) and not networks:
        return False
    if re.search(r"one-hot", text, re.I) and not conditional(claim):
        return False
    return needed <= called


def _named_by(claim: Claim, kind: str, key: str) -> set[str]:
    """The names the param `key` gives in every check of `kind` of the claim's task."""
    return {
        name
        for check in claim.task.get("checks", [])
        if check.get("kind") == kind
        for name in _names((check.get("params") or {}).get(key))
    }


def formulas_checked(claim: Claim) -> bool:
    """Every name the clause gives in backticks is checked by one of the task's loss_formula checks."""
    return set(re.findall(r"`([A-Za-z_]\w*)`", claim.text)) <= _named_by(claim, "loss_formula", "function")


def interface_functions(*roles: str) -> Requirement:
    """The task's interface checks, together, call a function in every one of `roles`."""

    def holds(claim: Claim) -> bool:
        return set(roles) <= {_role_of(claim, name) for name in _named_by(claim, "interface", "functions")}

    return holds


def two_image_sizes(claim: Claim) -> bool:
    return len(set(claim.params.get("image_sizes") or [])) >= 2


def losses_on_domain(claim: Claim) -> bool:
    """The clause's "logits" or "scores" is the domain of every formula of the check, "(±100)" means logits,
    and "both" means the task checks two losses on that domain."""
    from grader.formulas import FORMULAS  # imports torch: only when a loss clause is judged

    text = claim.text.lower()
    domain = "logits" if "logits" in text or "±100" in text else "scores" if "scores" in text else None
    formulas = [FORMULAS[name] for name in _formulas_of(claim, claim.params.get("function")) if name in FORMULAS]
    if domain is None or not formulas or any(formula.domain != domain for formula in formulas):
        return False
    if not re.match(r"both\b", text):
        return True
    in_task = {
        function
        for check in claim.task.get("checks", [])
        if check.get("kind") == "loss_formula"
        for function in _names((check.get("params") or {}).get("function"))
        for formula in _formulas_of(claim, function)
        if formula in FORMULAS and FORMULAS[formula].domain == domain
    }
    return len(in_task) == 2


def gradients_compared(claim: Claim) -> bool:
    """loss_formula compares gradients: `gradient` set, or by default for a loss (not an elementwise formula)."""
    from grader.formulas import FORMULAS

    formulas = [FORMULAS[name] for name in _formulas_of(claim, claim.params.get("function")) if name in FORMULAS]
    return bool(formulas) and all(bool(claim.params.get("gradient", not f.elementwise)) for f in formulas)


def batches_of_different_sizes(claim: Claim) -> bool:
    """loss_formula draws real and fake batches of different sizes: a two-input formula that is not elementwise,
    with `different_sizes` left at its default (true) or set."""
    from grader.formulas import FORMULAS

    formulas = [FORMULAS[name] for name in _formulas_of(claim, claim.params.get("function")) if name in FORMULAS]
    return (
        bool(claim.params.get("different_sizes", True))
        and bool(formulas)
        and all(len(f.inputs) == 2 and not f.elementwise for f in formulas)
    )


# How the statements name the attack's inputs → the `source` of the attack check's experiment.
ATTACK_SOURCES = {
    r"real (\d)s": r"test {0}s\b",
    r"random noise": r"uniform noise\b",
    r"the all-black image": r"all-black image\b",
    r"the all-white image": r"all-white image\b",
}


def sources_named(claim: Claim) -> bool:
    """Every input the clause names is the source of one of the attack check's experiments."""
    sources = [str(experiment.get("source", "")) for experiment in claim.params.get("experiments", [])]
    for phrase, source in ATTACK_SOURCES.items():
        for match in re.finditer(phrase, claim.text, re.I):
            wanted = source.format(*match.groups())
            if not any(re.match(wanted, found) for found in sources):
                return False
    return True


def digits_for_mnist(claim: Claim) -> bool:
    """ "digits" only where the task's data set is MNIST."""
    return "digits" not in claim.text or claim.task.get("dataset") == "mnist"


def asks_labels_of_each_class(claim: Claim) -> bool:
    """ "samples of each class" only for a conditional task (the training check asks G for each class)."""
    return "each class" not in claim.text or conditional(claim)


def checkpoint_named(claim: Claim) -> bool:
    """ "your `<file>.pt` into your `<G>()`": the task's checkpoint file and the name playing the generator."""
    found = re.search(r"`(\w+)\.pt` into your `(\w+)\(\)`", claim.text)
    return found is not None and found.groups() == (claim.task.get("id"), _role_named(claim, "generator"))


def generate_named(claim: Claim) -> bool:
    """ "drawn through your `<name>`": the name playing `generate` in the task."""
    found = re.search(r"drawn through your `(\w+)`", claim.text)
    return found is not None and found.group(1) == _role_named(claim, "generate")


def _names(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        return [str(key) for key in value]
    if isinstance(value, Iterable):
        return [str(item) for item in value]
    return [str(value)]


def _training(claim: Claim) -> Mapping[str, Any]:
    return claim.task.get("training") or {}


def _role_of(claim: Claim, name: str) -> str | None:
    """The role the claim's task gives `name`, or None."""
    return next((str(n.get("role")) for n in claim.task.get("names", []) if n.get("name") == name), None)


def _role_named(claim: Claim, role: str) -> str | None:
    """The name the claim's task gives the role, or None."""
    return next((str(n["name"]) for n in claim.task.get("names", []) if n.get("role") == role), None)


def _formulas_of(claim: Claim, functions: Any) -> list[str]:
    """The formulas the task's `[[names]]` say the named functions compute, in order."""
    by_name = {str(n["name"]): n.get("formula") for n in claim.task.get("names", [])}
    return [str(by_name[f]) for f in _names(functions) if by_name.get(f)]
