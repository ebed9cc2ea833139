"""Tables of variants (a buggy or hostile edit of the reference): the checks each must cost, how much, with which
words, and the proof that it costs nothing else: every other check of the grade keeps all its points.

A variant is graded on the whole task (`conftest.static_checks`: every check a `--no-train` grade runs), never
on one chosen control, so a fault that leaks into a second check shows. `assert_only_faults` serves a fault that
several checks must see (a function the catalogue tests in two kinds of check) and the results of a whole
submission (several tasks, from `grade_submission`); `conftest.assert_costs_only` is its one-check form.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from gankit.catalogue import Task
from grader.authoring.make_template import REFERENCE_DIR
from grader.checks import Criteria
from grader.results import CheckResult

PRIMARY = 1 - Criteria.PRIMARY_FAILURE_FACTOR  # a fault in a check's reason to exist costs at least this (SPEC)
EVERYTHING = 1.0


class Fault(NamedTuple):
    """A check the variant must cost: at least `at_least` of its points (0: some), with `phrase` in its
    message; a `side` fault costs some, but less than PRIMARY."""

    check: str
    phrase: str = ""
    at_least: float = 0.0
    side: bool = False


def lost(result: CheckResult) -> float:
    return 1 - result.points / result.max_points


def assert_only_faults(results: Iterable[CheckResult], task_id: str, faults: Iterable[Fault]) -> None:
    """Each fault of `task_id` costs what it says; every other result (of any task) keeps all its points."""
    by_check = {(result.task, result.check.id): result for result in results}
    faulty = {(task_id, fault.check): fault for fault in faults}
    assert set(faulty) <= set(by_check), f"not graded: {sorted(set(faulty) - set(by_check))}"
    for key, fault in faulty.items():
        result = by_check[key]
        assert lost(result) > 0 and lost(result) >= fault.at_least, (key, lost(result), result.message)
        assert not fault.side or lost(result) < PRIMARY, (key, "a side fault", lost(result), result.message)
        assert fault.phrase in result.message, (key, result.message)
    leaked = {key: result.message for key, result in by_check.items() if key not in faulty and lost(result) > 0}
    assert not leaked, f"checks that should have kept all their points: {leaked}"


class TrainingVariant(NamedTuple):
    """A generator a brief-training stage must judge: a correct one in another style (`breaks` empty) keeps full
    points at the task's budget; a broken one earns nothing of the figures it `breaks` (those the task scores).
    `first_line` goes at the top of the reference generator's forward, `edit` (old, new) replaces text of the
    reference once, and
    `own_width` builds the networks at their own default width, as for constructors that take no `width`;
    `tasks` limits it to those tasks (empty: every task it can apply to)."""

    name: str
    breaks: tuple[str, ...] = ()
    first_line: str | None = None
    edit: tuple[str, str] | None = None
    own_width: bool = False
    tasks: tuple[str, ...] = ()


TRAINING_VARIANTS = {
    "reference": TrainingVariant("reference"),
    # The spec's plain generator: the one-hot label joins the noise unscaled (the reference scales it by 5).
    "label unscaled": TrainingVariant(
        "label unscaled", edit=("torch.cat([z, 5.0 * y], dim=1)", "torch.cat([z, y], dim=1)"), tasks=("cdcgan",)
    ),
    # A canonical DCGAN-sized network (64 base channels): what a constructor without `width` gives.
    "own width": TrainingVariant("own width", own_width=True),
    "labels ignored": TrainingVariant("labels ignored", ("conditional_accuracy",), "y = torch.zeros_like(y)"),
    "mode collapse": TrainingVariant("mode collapse", ("diversity", "class_coverage"), "z = torch.zeros_like(z)"),
}


def training_variant_source(task: Task, variant: TrainingVariant) -> str:
    """The reference of `task` with `variant`'s change made, failing loudly when the reference moved on."""
    reference = (REFERENCE_DIR / task.student_file).read_text(encoding="utf-8")
    if variant.edit is not None:
        old, new = variant.edit
        assert reference.count(old) == 1, f"the reference no longer contains {old!r} once"
        return reference.replace(old, new)
    if variant.first_line is not None:
        generator = reference.index("class Generator")
        header = reference.index("    def forward(self, z", generator)
        body = reference.index("\n", header) + 1
        return reference[:body] + f"        {variant.first_line}\n" + reference[body:]
    return reference


def training_variants(task: Task) -> list[TrainingVariant]:
    """The variants that apply to `task`: label variants to conditional tasks, `own width` where the budget
    narrows the networks, the others where their `tasks` allow."""
    return [
        variant
        for variant in TRAINING_VARIANTS.values()
        if (not variant.tasks or task.id in variant.tasks)
        and (task.conditional or "conditional_accuracy" not in variant.breaks)
        and (task.budget("cpu").width is not None or not variant.own_width)
    ]
