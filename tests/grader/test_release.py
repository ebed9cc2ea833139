"""`grade release`: the written answers' manual points and comments put into results.json and report.html, from
the report-data.json sidecar that grading writes; the sidecar's round trip, idempotent releases, a regrade that
keeps the manual points, and folders that cannot be released."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from gankit.catalogue import Check, load_catalogue
from grader.authoring.examples import EXAMPLES_DIR
from grader.grade import grade_batch
from grader.gradebook import GRADEBOOK_NAME, GradebookError, grade_question
from grader.release import release
from grader.report import COMMENT_CHARS, DATA_NAME, write_outputs
from grader.results import CheckResult, GradeOptions, GradeReport

CATALOGUE = load_catalogue()
OPTIONS = GradeOptions(tasks=("optimal_d",), train=False)  # optimal_d: static checks and Q1-Q3 (4 + 3 + 3 points)
PATHS = [EXAMPLES_DIR / "perfect.zip", EXAMPLES_DIR / "saturating_generator_loss.zip"]
OUTPUTS = ("results.json", "report.html", DATA_NAME)
COMMENT = "good <b>derivation</b>"


def grade(out: Path, resume: bool = True) -> None:
    grade_batch(PATHS, CATALOGUE, OPTIONS, out, jobs=2, resume=resume)


@pytest.fixture(scope="module")
def graded_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("graded")
    grade(out)
    return out


@pytest.fixture
def graded(graded_once: Path, tmp_path: Path) -> Path:
    """A fresh copy of the graded class, so each test changes only its own."""
    out = tmp_path / "out"
    shutil.copytree(graded_once, out)
    return out


def results(folder: Path) -> dict:
    return json.loads((folder / "results.json").read_text(encoding="utf-8"))


def files(folder: Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in OUTPUTS}


def manual_tests(folder: Path) -> dict[str, dict]:
    return {test["name"]: test for test in results(folder)["tests"] if test["tags"] == ["manual"]}


def test_a_report_round_trips_through_its_plain_data(tmp_path: Path) -> None:
    check = Check("quality", "training_quality", 5.0, "trains", public=True, params={"steps": [1, 2], "x": 0.5})
    report = GradeReport(name="ann.zip", options=GradeOptions(tasks=("gan",), public_only=True, sandbox="none"))
    report.results = [
        CheckResult(
            "gan",
            check,
            "partial",
            2.5,
            "a <sentence>",
            seconds=1.25,
            images={"samples": "data:image/png;base64,iVBORw0KGgo="},
            details={"fid": 12.5, "steps": 3, "curve": [1.0, 2.0], "array": object()},
        )
    ]
    report.manual = [{"task": "gan", "check": "written", "points": 2.0, "questions": [
        {"id": "Q1", "points": 2.0, "answer": "because"},
    ]}]  # fmt: skip
    report.not_graded = [{"task": "gan", "check": "step", "points": 4.0, "why": "hidden check"}]
    report.notes = ["a note"]
    report.isolation, report.output_tail, report.seconds, report.complete = "bubblewrap", "printed", 3.5, True
    report.generated = "2024-05-01 10:00:00"
    back = GradeReport.from_plain(json.loads(json.dumps(report.to_plain())), tmp_path)
    assert back.results[0].details == {"fid": 12.5, "steps": 3, "curve": [1.0, 2.0]}  # what JSON cannot hold: gone
    back.results[0].details["array"] = report.results[0].details["array"]
    assert back == GradeReport(**{**report.__dict__, "out_dir": tmp_path})
    write_outputs(report, tmp_path / "original")
    write_outputs(back, tmp_path / "again")
    assert files(tmp_path / "original") == files(tmp_path / "again")
    assert 'src="data:image/png;base64,iVBORw0KGgo="' in (tmp_path / "again" / "report.html").read_text()


def test_data_of_another_format_is_refused() -> None:
    with pytest.raises(ValueError, match="format"):
        GradeReport.from_plain({"format": 999})
    with pytest.raises(ValueError, match="missing or unexpected field"):
        GradeReport.from_plain({"format": 1, "name": "x"})


def test_the_sidecar_renders_the_graded_outputs_again_unchanged(graded: Path, tmp_path: Path) -> None:
    folder = graded / "perfect"
    data = json.loads((folder / DATA_NAME).read_text(encoding="utf-8"))
    write_outputs(GradeReport.from_plain(data), tmp_path / "again")
    assert files(tmp_path / "again") == files(folder)
    assert "awarded" not in (folder / DATA_NAME).read_text()  # not released: nothing manual in it yet


def test_a_release_makes_each_graded_question_a_test_and_adds_its_points(graded: Path) -> None:
    before = results(graded / "perfect")
    assert grade_question(graded / GRADEBOOK_NAME, "perfect", "optimal_d", "Q1", 3.0, COMMENT, version=0) == 1
    done = release(graded)
    assert sorted(done.rewritten) == [graded / "perfect", graded / "saturating_generator_loss"] and not done.skipped
    after = results(graded / "perfect")
    assert after["score"] == before["score"] + 3
    assert after["score"] == pytest.approx(sum(test["score"] for test in after["tests"]))
    assert after["extra_data"]["automatic_score"] == before["score"]
    tests = manual_tests(graded / "perfect")
    assert list(tests) == ["optimal_d: Q1 (written answer)"]  # Q2 and Q3 are not graded yet: no tests
    q1 = tests["optimal_d: Q1 (written answer)"]
    assert (q1["score"], q1["max_score"], q1["output"], q1["visibility"]) == (3.0, 4.0, COMMENT, "visible")
    assert q1["extra_data"] == {"task": "optimal_d", "question": "Q1", "result": "manual"}
    assert "Written answers 3 / 10 (6 points still to be graded)" in after["output"]
    assert f"Total {before['score'] + 3:g} / {before['extra_data']['max_automatic_score'] + 10:g}" in after["output"]
    assert after["tests"][: len(before["tests"])] == before["tests"]  # the automatic tests as they were
    untouched = results(graded / "saturating_generator_loss")
    assert not manual_tests(graded / "saturating_generator_loss")
    assert "10 points still to be graded" in untouched["output"]


def test_the_report_shows_the_points_and_the_escaped_comment(graded: Path) -> None:
    book = graded / GRADEBOOK_NAME
    grade_question(book, "perfect", "optimal_d", "Q1", 3.0, COMMENT, version=0)
    grade_question(book, "perfect", "optimal_d", "Q3", 3.0, "", version=0, rubric=(0,))
    release(graded)
    html = (graded / "perfect" / "report.html").read_text(encoding="utf-8")
    assert "<b>Q1</b>: 3 / 4 points" in html and "<b>Q3</b>: 3 / 3 points" in html
    assert "<b>Q2</b> (3 points, still to be graded)" in html
    assert "good &lt;b&gt;derivation&lt;/b&gt;" in html and COMMENT not in html
    assert "<h3>optimal_d — 6 / 10 points</h3>" in html
    assert "Written answers 6 / 10 (3 points still to be graded)" in html
    q3 = manual_tests(graded / "perfect")["optimal_d: Q3 (written answer)"]
    assert q3["output"] == "graded by hand" and q3["status"] == "passed"
    assert "rubric" not in (graded / "perfect" / "results.json").read_text()


def test_a_long_comment_is_truncated(graded: Path) -> None:
    grade_question(graded / GRADEBOOK_NAME, "perfect", "optimal_d", "Q2", 1.0, "x" * 5000, version=0)
    release(graded)
    output = manual_tests(graded / "perfect")["optimal_d: Q2 (written answer)"]["output"]
    assert len(output) == COMMENT_CHARS and output.endswith("…")
    assert "x" * (COMMENT_CHARS + 1) not in (graded / "perfect" / "report.html").read_text(encoding="utf-8")


def test_releasing_twice_writes_the_same_files(graded: Path) -> None:
    grade_question(graded / GRADEBOOK_NAME, "perfect", "optimal_d", "Q1", 3.0, COMMENT, version=0)
    release(graded)
    first = {name: files(graded / name) for name in ("perfect", "saturating_generator_loss")}
    release(graded)
    assert {name: files(graded / name) for name in ("perfect", "saturating_generator_loss")} == first


def test_a_later_release_follows_the_gradebook(graded: Path) -> None:
    book = graded / GRADEBOOK_NAME
    version = grade_question(book, "perfect", "optimal_d", "Q1", 3.0, COMMENT, version=0)
    release(graded)
    grade_question(book, "perfect", "optimal_d", "Q1", 1.0, "on second thought", version=version)
    release(graded)
    q1 = manual_tests(graded / "perfect")["optimal_d: Q1 (written answer)"]
    assert (q1["score"], q1["output"]) == (1.0, "on second thought")
    assert COMMENT not in (graded / "perfect" / "report.html").read_text(encoding="utf-8")


def test_a_regrade_then_a_release_keeps_the_manual_points(graded: Path) -> None:
    grade_question(graded / GRADEBOOK_NAME, "perfect", "optimal_d", "Q1", 3.0, COMMENT, version=0)
    release(graded)
    released = results(graded / "perfect")
    resumed = grade_batch(PATHS, CATALOGUE, OPTIONS, graded, jobs=2)  # nothing graded again
    assert resumed[0].previous is not None and resumed[0].score == released["extra_data"]["automatic_score"]
    grade(graded, resume=False)
    assert not manual_tests(graded / "perfect")  # a regrade writes the automatic grade; a release adds the manual
    release(graded)
    again = results(graded / "perfect")
    assert again["score"] == released["score"]
    assert manual_tests(graded / "perfect")["optimal_d: Q1 (written answer)"]["output"] == COMMENT


def test_a_folder_graded_before_releases_existed_is_reported_not_crashed_on(graded: Path) -> None:
    (graded / "saturating_generator_loss" / DATA_NAME).unlink()
    before = files(graded / "perfect")
    html = (graded / "saturating_generator_loss" / "report.html").read_bytes()
    grade_question(graded / GRADEBOOK_NAME, "perfect", "optimal_d", "Q1", 3.0, COMMENT, version=0)
    done = release(graded)
    assert done.rewritten == [graded / "perfect"] and files(graded / "perfect") != before
    [skipped] = done.skipped
    assert (skipped.submission, skipped.folder) == ("saturating_generator_loss", graded / "saturating_generator_loss")
    assert "--regrade" in skipped.problem and DATA_NAME in skipped.problem
    assert (graded / "saturating_generator_loss" / "report.html").read_bytes() == html


def test_an_unreadable_sidecar_is_reported(graded: Path) -> None:
    (graded / "perfect" / DATA_NAME).write_text("{not json", encoding="utf-8")
    [skipped] = release(graded).skipped
    assert skipped.submission == "perfect" and "cannot read" in skipped.problem and "--regrade" in skipped.problem


def test_a_missing_folder_is_reported(graded: Path) -> None:
    shutil.rmtree(graded / "perfect")
    done = release(graded)
    assert done.rewritten == [graded / "saturating_generator_loss"]
    [skipped] = done.skipped
    assert skipped.submission == "perfect" and "no graded folder" in skipped.problem


def test_a_folder_without_a_gradebook_raises(tmp_path: Path) -> None:
    with pytest.raises(GradebookError, match="no gradebook"):
        release(tmp_path)
    assert not (tmp_path / GRADEBOOK_NAME).exists()
