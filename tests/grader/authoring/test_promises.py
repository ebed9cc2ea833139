"""Every clause of every statement's "How it is graded" bullets is a promise some check of that task keeps, and
every promise names what verifies it in its kind's module (grader/authoring/promises/kinds.py)."""

from __future__ import annotations

import ast
import copy
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from grader.authoring.promises import PROMISES, Promise, clauses, graded_bullets, module_files, module_path, uncovered

ROOT = Path(__file__).resolve().parents[3]
TASK_IDS = sorted(path.parent.name for path in (ROOT / "tasks").glob("*/task.toml"))


@cache
def task(task_id: str) -> dict[str, Any]:
    return tomllib.loads((ROOT / "tasks" / task_id / "task.toml").read_text(encoding="utf-8"))


def statement(task_id: str) -> str:
    return (ROOT / "tasks" / task_id / "statement.md").read_text(encoding="utf-8")


@cache
def defined_names(path: str) -> frozenset[str]:
    """Every name a module defines anywhere: functions and classes (nested ones too), assigned and annotated
    names (local variables and dataclass fields included) and imported names."""
    names: set[str] = set()
    for node in ast.walk(ast.parse((ROOT / path).read_text(encoding="utf-8"))):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.alias):
            names.add((node.asname or node.name).split(".")[0])
    return frozenset(names)


def test_every_task_has_graded_bullets() -> None:
    assert TASK_IDS
    for task_id in TASK_IDS:
        assert graded_bullets(statement(task_id)), f"{task_id}: no bullets under '## How it is graded'"


@pytest.mark.parametrize("task_id", TASK_IDS)
def test_every_graded_clause_is_a_promise_a_check_keeps(task_id: str) -> None:
    gaps = uncovered(task(task_id), statement(task_id))
    assert not gaps, "\n".join(map(str, gaps))


def test_every_promise_names_what_verifies_it() -> None:
    """A name that is an identifier must be defined in the kind's module (a function, a nested criterion, a
    constant, a variable); anything else (`primary=True`, a figure's key in quotes) must appear in its source."""
    stale = []
    for promise in PROMISES:
        path, files = module_path(promise.kind), module_files(promise.kind)
        assert files, f"no module {path} for the kind {promise.kind!r}"
        source = "".join((ROOT / file).read_text(encoding="utf-8") for file in files)
        for name in promise.names:
            found = any(name in defined_names(file) for file in files) if name.isidentifier() else name in source
            if not found:
                stale.append(f"{promise.kind}: {name!r} (for {promise.pattern!r}) is not in {path}")
    assert not stale, "\n".join(stale)


def test_every_kind_the_tasks_use_has_a_module() -> None:
    kinds = {check["kind"] for task_id in TASK_IDS for check in task(task_id).get("checks", [])}
    assert kinds <= {promise.kind for promise in PROMISES}, kinds - {promise.kind for promise in PROMISES}
    for kind in kinds:
        assert module_files(kind), kind


# ---- the machinery can fail --------------------------------------------------------------------------------------

MADE_UP = """# A task

## How it is graded

- **Interface:** the networks construct with the documented arguments; the grader checks the colour of your plots.
- **Written answers** (`questions.md`): graded by hand.

Every check gives partial credit and a message you can act on.
"""


def test_a_made_up_clause_is_reported_uncovered() -> None:
    gaps = uncovered(task("wgan"), MADE_UP)
    assert [(gap.task, gap.bullet, gap.clause) for gap in gaps] == [
        ("wgan", "Interface", "the grader checks the colour of your plots")
    ]
    assert "the grader checks the colour of your plots" in str(gaps[0]) and "Interface" in str(gaps[0])


def test_a_made_up_part_after_a_covered_one_is_reported() -> None:
    text = MADE_UP.replace("; the grader checks the colour of your plots", ", and the colour of your plots")
    gaps = uncovered(task("wgan"), text)
    assert [gap.rest for gap in gaps] == ["and the colour of your plots"]


def test_a_promise_needs_the_parameter_that_makes_its_criterion_run() -> None:
    """The interpolation endpoints are promised only by an interface check with `endpoints`."""
    without = copy.deepcopy(task("cdcgan"))
    for check in without["checks"]:
        check.get("params", {}).pop("endpoints", None)
    assert not uncovered(task("cdcgan"), statement("cdcgan"))
    gaps = uncovered(without, statement("cdcgan"))
    assert [gap.bullet for gap in gaps] == ["Interpolation"]


def test_a_promise_of_another_kind_covers_nothing() -> None:
    """The gradient penalty's clauses need a gradient_penalty check: wgan has none."""
    text = MADE_UP.replace("the grader checks the colour of your plots", "one $\\varepsilon$ per sample")
    assert not uncovered(task("cwgan_gp"), text)
    assert [gap.clause for gap in uncovered(task("wgan"), text)] == ["one $\\varepsilon$ per sample"]


def test_clauses_split_at_top_level_only() -> None:
    body = "a, b (c, d); `e, f` and $[-1, 1]$: g [h, i]. Then j, k."
    assert clauses(body) == [["a", "b (c, d)"], ["`e, f` and $[-1, 1]$"], ["g [h, i]"], ["Then j", "k"]]


def test_the_bullet_heading_is_not_a_clause() -> None:
    (bullet,) = graded_bullets("## How it is graded\n\n- **Written answers** (`questions.md`): graded by hand.\n")
    assert (bullet.heading, clauses(bullet.body)) == ("Written answers", [["graded by hand"]])


def test_promise_patterns_compile() -> None:
    for promise in PROMISES:
        assert isinstance(promise, Promise)
        promise.regex({"dataset": "mnist", "image_size": 28})
