"""Grading whole submissions: the bundled examples, public-only runs, missing and broken files, batches that
resume, and the outputs (Gradescope's results.json, report.html)."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from gankit.catalogue import Task, load_catalogue
from grader.authoring.examples import EXAMPLES_DIR
from grader.authoring.make_template import REFERENCE_DIR
from grader.checks import load_all
from grader.grade import grade_batch, grade_submission
from grader.results import GradeOptions, GradeReport

CATALOGUE = load_catalogue()
TRAINING_KINDS = tuple(name for name, kind in load_all().items() if kind.trains)  # left out by --no-train
STATIC = GradeOptions(train=False)


@pytest.fixture(scope="module")
def perfect(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, dict, Path]:
    out = tmp_path_factory.mktemp("perfect")
    report = grade_submission(EXAMPLES_DIR / "perfect.zip", CATALOGUE, STATIC, out)
    return report, json.loads((out / "results.json").read_text()), out


def test_the_reference_gets_full_marks_on_every_static_check(perfect: tuple) -> None:
    """Every check of the code passes; the example holds no trained checkpoints, so each task's trained_model
    check says "not submitted" and earns nothing."""
    report, results, _ = perfect
    static = [c for task in CATALOGUE.values() for c in task.checks if c.kind not in ("manual", *TRAINING_KINDS)]
    assert len(report.results) == len(static)
    failed = [f"{r.task}/{r.check.id}: {r.message}" for r in report.results if r.status != "passed"]
    unsubmitted = [r for r in report.results if r.check.kind == "trained_model"]
    assert {r.task for r in unsubmitted} == {t.id for t in CATALOGUE.values() if t.checkpoint_file}
    assert all(r.points == 0 and r.message.startswith("not submitted") for r in unsubmitted)
    assert len(failed) == len(unsubmitted)
    assert results["score"] == sum(c.points for c in static if c.kind != "trained_model")


def test_results_json_follows_gradescope(perfect: tuple) -> None:
    _, results, _ = perfect
    assert set(results) >= {"score", "execution_time", "tests", "output"}
    for test in results["tests"]:
        assert set(test) >= {"name", "score", "max_score", "status", "output", "visibility"}
        assert test["status"] in ("passed", "failed")
        assert 0 <= test["score"] <= test["max_score"]
    assert results["score"] == pytest.approx(sum(test["score"] for test in results["tests"]))
    manual = results["extra_data"]["manual"]
    assert {entry["task"] for entry in manual} == {t.id for t in CATALOGUE.values() if t.questions}
    not_graded = results["extra_data"]["not_graded"]
    assert {entry["check"] for entry in not_graded} == {"training_quality", "classifier_training"}
    assert "not graded" in results["output"]


def test_the_report_lists_every_task_and_the_written_questions(perfect: tuple) -> None:
    _, _, out = perfect
    html = (out / "report.html").read_text()
    for task_id in CATALOGUE:
        assert f"<h2>{task_id}</h2>" in html
    assert "Written answers (graded by hand)" in html
    assert "no answer found in the notebook" in html  # the example zip holds .py files only


def test_the_saturating_example_loses_only_the_generator_loss(tmp_path: Path) -> None:
    options = GradeOptions(tasks=("cdcgan",), train=False)
    report = grade_submission(EXAMPLES_DIR / "saturating_generator_loss.zip", CATALOGUE, options, tmp_path)
    lost = {r.check.id for r in report.results if r.status != "passed"}
    assert lost == {"generator_loss", "trained_model"}  # the example hands in no checkpoint


def test_a_public_run_says_so_and_grades_only_public_checks(tmp_path: Path) -> None:
    options = GradeOptions(tasks=("cdcgan", "wgan"), public_only=True)
    report = grade_submission(EXAMPLES_DIR / "perfect.zip", CATALOGUE, options, tmp_path)
    assert all(result.check.public for result in report.results)
    results = json.loads((tmp_path / "results.json").read_text())
    assert "PUBLIC CHECKS ONLY" in results["output"]
    assert results["extra_data"]["public_only"] is True
    assert "PUBLIC CHECKS ONLY" in (tmp_path / "report.html").read_text()


def test_missing_files_and_syntax_errors_cost_only_their_tasks(tmp_path: Path) -> None:
    archive = tmp_path / "partial.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("optimal_d.py", (REFERENCE_DIR / "optimal_d.py").read_text())
        zf.writestr("wgan.py", "def broken(:\n")
    options = GradeOptions(tasks=("optimal_d", "wgan", "adversarial"), train=False)
    report = grade_submission(archive, CATALOGUE, options, tmp_path / "out")
    by_task: dict[str, list] = {}
    for result in report.results:
        by_task.setdefault(result.task, []).append(result)
    assert all(r.status == "passed" for r in by_task["optimal_d"])
    assert all(r.points == 0 and "SyntaxError" in r.message for r in by_task["wgan"])
    assert all(r.points == 0 and "not in the submission" in r.message for r in by_task["adversarial"])


def test_a_batch_grades_one_folder_each_and_resumes(tmp_path: Path) -> None:
    source = REFERENCE_DIR / "optimal_d.py"
    first, second = tmp_path / "a" / "optimal_d.py", tmp_path / "b" / "optimal_d.py"
    for path in (first, second):
        path.parent.mkdir()
        path.write_text(source.read_text())
    options = GradeOptions(tasks=("optimal_d",), train=False)
    out = tmp_path / "out"
    reports = grade_batch([first.parent, second.parent], CATALOGUE, options, out, jobs=2)
    assert [r.name for r in reports] == ["a", "b"] and all(r.score == r.max_score for r in reports)
    assert (out / "a" / "results.json").is_file() and (out / "b" / "report.html").is_file()
    again = grade_batch([first.parent, second.parent], CATALOGUE, options, out, jobs=2)
    assert all(report.previous is not None for report in again), "complete grades are not graded twice"
    assert [r.score for r in again] == [r.score for r in reports]


def training_only(task_id: str, steps: int) -> Task:
    """The task with only its training check, on a budget of `steps` at its CPU batch size and width."""
    task = CATALOGUE[task_id]
    budget = dataclasses.replace(task.budget("cpu"), steps=steps)
    checks = [check for check in task.checks if check.kind == "training_quality"]
    return dataclasses.replace(task, checks=checks, budgets={"cpu": budget, "cuda": budget})


def training_figures(report: GradeReport) -> dict[str, tuple[float, dict[str, float]]]:
    """Points and figures of each training check; its CPU seconds are the one thing allowed to differ."""
    return {
        result.task: (result.points, {key: value for key, value in result.details.items() if key != "train_seconds"})
        for result in report.results
    }


@pytest.mark.slow
def test_training_scores_are_the_same_alone_in_a_batch_and_beside_another_grade(tmp_path: Path) -> None:
    """Steps, not seconds, end a run and every worker trains on one thread: the same figures alone, in a `--jobs 2`
    batch beside a copy, and beside a second grade process with its own $TMPDIR."""
    catalogue = {"cdcgan": training_only("cdcgan", 300)}
    options = GradeOptions(tasks=tuple(catalogue))
    example = EXAMPLES_DIR / "perfect.zip"
    copy = tmp_path / "copy.zip"
    shutil.copy(example, copy)
    alone = grade_submission(example, catalogue, options, tmp_path / "alone")
    batch = grade_batch([example, copy], catalogue, options, tmp_path / "batch", jobs=2)
    (tmp_path / "other-tmp").mkdir()
    neighbour = subprocess.Popen(
        [str(Path(sys.executable).parent / "grade"), str(example), "--no-train", "--out", str(tmp_path / "other")],
        env={**os.environ, "TMPDIR": str(tmp_path / "other-tmp")},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        beside = grade_submission(example, catalogue, options, tmp_path / "beside")
    finally:
        assert neighbour.wait(timeout=600) == 0
    expected = training_figures(alone)
    assert expected["cdcgan"][1]["steps"] == 300 and expected["cdcgan"][1]["diversity"] > 0.1, alone.results
    assert [training_figures(report) for report in (*batch, beside)] == [expected] * 3
