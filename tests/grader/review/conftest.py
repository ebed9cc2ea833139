"""A class to review: the example submissions graded (optimal_d only, no training) into one folder, and, for
hostile input, a gradebook of answers written to attack the page."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gankit.catalogue import load_catalogue
from grader.authoring.examples import EXAMPLES_DIR
from grader.grade import grade_batch
from grader.gradebook import GRADEBOOK_NAME, record
from grader.results import GradeOptions, GradeReport

CATALOGUE = load_catalogue()
EXAMPLES = ("perfect.zip", "written_answers.zip")
HOSTILE_ANSWERS = {
    "Q1": "<script>window.pwned = 1</script><img src=x onerror='window.pwned = 2'> **bold**",
    "Q2": "A macro bomb $\\def\\a{\\a\\a}\\a$ and a huge rule $\\rule{99999em}{99999em}$ and "
    + "$"
    + "{" * 3000
    + "x"
    + "}" * 3000
    + "$",
    "Q3": "[click](javascript:window.pwned=3) and $$\\href{javascript:window.pwned=4}{x}$$",
}


@pytest.fixture(scope="session")
def graded_class(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """OUT of `grade perfect.zip written_answers.zip --tasks optimal_d --no-train --jobs 2`, graded once; tests
    that write manual grades work on copies (`fresh_class`)."""
    out = tmp_path_factory.mktemp("class")
    options = GradeOptions(tasks=("optimal_d",), train=False)
    grade_batch([EXAMPLES_DIR / name for name in EXAMPLES], CATALOGUE, options, out, jobs=2)
    return out


@pytest.fixture
def fresh_class(graded_class: Path, tmp_path: Path) -> Path:
    """A copy of the graded class with no manual grade yet."""
    out = tmp_path / "out"
    shutil.copytree(graded_class, out)
    return out


@pytest.fixture
def hostile_class(tmp_path: Path) -> Path:
    """A gradebook whose one submission answers optimal_d's questions with markup and TeX meant to attack."""
    report = GradeReport(name="mallory.zip", options=GradeOptions(), complete=True)
    questions = [{"id": qid, "points": points, "answer": HOSTILE_ANSWERS[qid]} for qid, points in
                 (("Q1", 4.0), ("Q2", 3.0), ("Q3", 3.0))]  # fmt: skip
    report.manual = [{"task": "optimal_d", "check": "written", "points": 10.0, "questions": questions}]
    record(tmp_path / GRADEBOOK_NAME, "<b>mallory</b>", report)
    return tmp_path
