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

from grader.checks import Criteria
from grader.run_checks import CheckResult

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
