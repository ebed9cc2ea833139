"""The gradebook: every graded check in OUT/gradebook.sqlite, regrades that keep manual points, refused manual
grades, concurrent writers, foreign and older files, and the CSV / JSON export."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import threading
from pathlib import Path

import pytest

from gankit.catalogue import Check, load_catalogue
from grader.authoring.examples import EXAMPLES_DIR
from grader.cli import main
from grader.grade import grade_batch
from grader.gradebook import (
    GRADEBOOK_NAME,
    GradebookError,
    anonymous_ids,
    answers,
    as_json,
    grade_question,
    record,
    table,
    write_csv,
)
from grader.results import CheckResult, GradeOptions, GradeReport

CATALOGUE = load_catalogue()
LOSS = Check("d_loss", "loss_formula", 2.0, "the loss")
STEP = Check("step", "train_step", 4.0, "the step")


def report(name: str, loss: float, step: float, answer: str = "because") -> GradeReport:
    graded = GradeReport(name=f"{name}.zip", options=GradeOptions())
    graded.results = [
        CheckResult("gan", LOSS, "passed" if loss == 2 else "partial", loss, "a sentence"),
        CheckResult("gan", STEP, "passed" if step == 4 else "failed", step, "another"),
    ]
    graded.not_graded = [{"task": "gan", "check": "training", "points": 6.0, "why": "a --no-train run"}]
    graded.manual = [{"task": "gan", "check": "written", "points": 5.0, "questions": [
        {"id": "Q1", "points": 2.0, "answer": answer},
        {"id": "Q2", "points": 3.0, "answer": ""},
    ]}]  # fmt: skip
    graded.complete = True
    return graded


def rows(path: Path) -> list[list[str]]:
    out = io.StringIO()
    write_csv(table(path), out)
    return list(csv.reader(io.StringIO(out.getvalue())))


def test_one_row_per_submission_one_column_per_check_and_question(tmp_path: Path) -> None:
    book = tmp_path / GRADEBOOK_NAME
    record(book, "bob", report("bob", 1.0, 4.0))
    record(book, "ann", report("ann", 2.0, 0.0))
    header, maximum, ann, bob = rows(book)
    assert header == ["submission", "gan/d_loss", "gan/step", "gan/training", "gan/Q1", "gan/Q2"] + [
        "automatic",
        "manual",
        "total",
    ]
    assert maximum == ["max points", "2", "4", "6", "2", "3", "12", "5", "17"]
    assert ann == ["ann", "2", "0", "", "", "", "2", "0", "2"]  # not graded yet: an empty cell, not a zero
    assert bob[:3] == ["bob", "1", "4"] and bob[-1] == "5"


def test_a_regrade_replaces_the_automatic_rows_and_keeps_the_manual_ones(tmp_path: Path) -> None:
    book = tmp_path / GRADEBOOK_NAME
    record(book, "ann", report("ann", 1.0, 0.0))
    assert grade_question(book, "ann", "gan", "Q1", 1.5, "good start", version=0) == 1
    record(book, "ann", report("ann", 2.0, 4.0, answer="because, revised"))
    (_, _, ann) = rows(book)
    assert ann == ["ann", "2", "4", "", "1.5", "", "6", "1.5", "7.5"]
    with sqlite3.connect(book) as db:
        assert db.execute("SELECT answer, comment FROM manual WHERE question = 'Q1'").fetchone() == (
            "because, revised",
            "good start",
        )
        assert db.execute("SELECT COUNT(*) FROM automatic").fetchone() == (3,)


def test_manual_points_stay_in_range_and_a_stale_save_is_refused(tmp_path: Path) -> None:
    book = tmp_path / GRADEBOOK_NAME
    record(book, "ann", report("ann", 2.0, 4.0))
    for points in (-0.5, 2.5):
        with pytest.raises(GradebookError, match=r"gan/Q1 takes 0 to 2 points"):
            grade_question(book, "ann", "gan", "Q1", points, "", version=0)
    first_tab = second_tab = 0  # both opened the answer at version 0
    assert grade_question(book, "ann", "gan", "Q1", 2.0, "full", first_tab) == 1
    with pytest.raises(GradebookError, match="was changed since you opened it"):
        grade_question(book, "ann", "gan", "Q1", 0.0, "none", second_tab)
    assert rows(book)[2][4] == "2"  # the earlier save stands
    with pytest.raises(GradebookError, match="no written answer gan/Q9"):
        grade_question(book, "ann", "gan", "Q9", 1.0, "", 0)


def write_from_threads(book: Path, threads: int, writes: int) -> list[BaseException]:
    """As `--jobs` threads do: every write its own short transaction on its own connection; the errors raised."""
    errors: list[BaseException] = []

    def write(worker: int) -> None:
        try:
            for i in range(writes):
                record(book, f"s{worker}-{i}", report("x", 2.0, float(i % 5)))
        except BaseException as error:  # noqa: BLE001 - reported by the caller's assertion
            errors.append(error)

    started = [threading.Thread(target=write, args=(n,)) for n in range(threads)]
    for thread in started:
        thread.start()
    for thread in started:
        thread.join()
    return errors


def test_writers_on_many_threads_lose_nothing(tmp_path: Path) -> None:
    book = tmp_path / GRADEBOOK_NAME
    assert not write_from_threads(book, threads=4, writes=15) and len(table(book).rows) == 60


def test_the_first_writers_of_a_new_gradebook_race_safely(tmp_path: Path) -> None:
    """Switching a new file to WAL once answered "database is locked" to a racing writer at once (one fresh
    file in about 25 did so); many fresh files make that race show."""
    for n in range(40):
        book = tmp_path / str(n) / GRADEBOOK_NAME
        book.parent.mkdir()
        assert not write_from_threads(book, threads=4, writes=1), n
        assert len(table(book).rows) == 4


def test_a_foreign_or_older_file_is_refused_with_what_to_do(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"not a database at all, " * 100)
    with pytest.raises(GradebookError, match="is not a gradebook this grader can read"):
        record(garbage, "ann", report("ann", 1.0, 1.0))
    foreign = tmp_path / "foreign.sqlite"
    with sqlite3.connect(foreign) as db:
        db.execute("CREATE TABLE songs (title TEXT)")
    with pytest.raises(GradebookError, match="an SQLite file of another program"):
        table(foreign)
    older = tmp_path / "older.sqlite"
    record(older, "ann", report("ann", 1.0, 1.0))
    with sqlite3.connect(older) as db:
        db.execute("UPDATE meta SET value = '0' WHERE key = 'schema_version'")
    with pytest.raises(GradebookError, match="schema version 0; this grader writes version 2"):
        record(older, "ann", report("ann", 1.0, 1.0))
    with sqlite3.connect(older) as db:  # the refused write changed nothing
        assert db.execute("SELECT COUNT(*) FROM automatic").fetchone() == (3,)


def test_a_version_1_gradebook_is_brought_up_to_date_keeping_its_grades(tmp_path: Path) -> None:
    book = tmp_path / "gradebook.sqlite"
    record(book, "ann", report("ann", 1.0, 1.0))
    grade_question(book, "ann", "gan", "Q1", 1.0, "kept", version=0)
    with sqlite3.connect(book) as db:  # what the first release wrote: no rubric column
        db.execute("ALTER TABLE manual DROP COLUMN rubric")
        db.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    assert grade_question(book, "ann", "gan", "Q1", 2.0, "kept", version=1, rubric=[1, 0]) == 2
    (written,) = [a for a in answers(book) if a.question == "Q1"]
    assert (written.points, written.comment, written.rubric) == (2.0, "kept", (0, 1))


def test_anonymous_ids_are_stable_and_say_nothing_of_the_name(tmp_path: Path) -> None:
    book = tmp_path / "gradebook.sqlite"
    for name in ("ann", "bob"):
        record(book, name, report(name, 1.0, 1.0))
    ids = anonymous_ids(book)
    assert ids == anonymous_ids(book) and len(set(ids.values())) == 2
    assert all(name not in anonymous and anonymous.startswith("S-") for name, anonymous in ids.items())


def test_grade_fills_the_gradebook_and_the_command_exports_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    zips = sorted(EXAMPLES_DIR.glob("*.zip"))
    reports = grade_batch(zips, CATALOGUE, GradeOptions(tasks=("optimal_d",), train=False), tmp_path, jobs=2)
    book = table(tmp_path / GRADEBOOK_NAME)
    assert [row["submission"] for row in book.rows] == sorted(path.stem for path in zips)
    scores = {r.out_dir.name: r.score for r in reports}
    assert all(row["automatic"] == scores[row["submission"]] for row in book.rows)  # type: ignore[index]
    assert {"optimal_d/optimal_d", "optimal_d/Q1"} <= set(book.columns)

    with pytest.raises(SystemExit) as ended:
        main(["gradebook", str(tmp_path), "--csv", str(tmp_path / "class.csv")])
    assert ended.value.code == 0
    exported = list(csv.reader((tmp_path / "class.csv").open(encoding="utf-8")))
    assert exported[0] == book.header and exported[1][0] == "max points" and len(exported) == 2 + len(zips)
    capsys.readouterr()
    with pytest.raises(SystemExit):
        main(["gradebook", str(tmp_path), "--json"])
    assert json.loads(capsys.readouterr().out) == json.loads(json.dumps(as_json(book)))
    with pytest.raises(SystemExit) as ended:
        main(["gradebook", str(tmp_path / "elsewhere")])
    assert ended.value.code == 2 and "no gradebook at" in capsys.readouterr().err


def test_a_batch_into_a_folder_with_a_foreign_gradebook_stops_before_grading(tmp_path: Path) -> None:
    (tmp_path / GRADEBOOK_NAME).write_text("my notes", encoding="utf-8")
    with pytest.raises(GradebookError):
        grade_batch([EXAMPLES_DIR / "perfect.zip"], CATALOGUE, GradeOptions(train=False), tmp_path)
    assert not (tmp_path / "results.json").exists()
