"""The class's gradebook: every graded check of every submission in `OUT/gradebook.sqlite` (stdlib sqlite3).

`grade` records a submission after every check, as it writes results.json, so the gradebook is as far as the
grade is. The file is in WAL mode with a busy timeout, and every write is one short transaction on its own
connection, so the threads of `--jobs` (and two `grade` processes on one OUT) write side by side. Regrading a
submission replaces its automatic rows and keeps its manual ones: the points and comments a grader gave a
written answer survive a regrade; only the answer's text and maximum follow the new grade.

Manual points are written with `grade_question`, which refuses points outside [0, max] and a write made from a
stale version of the row (two tabs editing the same answer: the later save of an old version is refused).
`table` is the class as rows: one per submission, one column per check and per written question.
"""

from __future__ import annotations

import csv
import hashlib
import json
import secrets
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from grader.results import GradeReport

GRADEBOOK_NAME = "gradebook.sqlite"
SCHEMA_VERSION = 2
BUSY_SECONDS = 60.0  # how long a write waits for another writer (a --jobs thread, another grade process)
SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE submissions (
    submission TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    refused TEXT,
    complete INTEGER NOT NULL
);
CREATE TABLE automatic (
    submission TEXT NOT NULL REFERENCES submissions (submission),
    position INTEGER NOT NULL,
    task TEXT NOT NULL,
    check_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    points REAL,
    max_points REAL NOT NULL,
    message TEXT NOT NULL,
    PRIMARY KEY (submission, task, check_id)
);
CREATE TABLE manual (
    submission TEXT NOT NULL REFERENCES submissions (submission),
    position INTEGER NOT NULL,
    task TEXT NOT NULL,
    question TEXT NOT NULL,
    max_points REAL NOT NULL,
    answer TEXT NOT NULL,
    points REAL,
    comment TEXT NOT NULL DEFAULT '',
    version INTEGER NOT NULL DEFAULT 0,
    rubric TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (submission, task, question)
);
"""
TABLES = {"meta", "submissions", "automatic", "manual"}
# Each older schema version's statements to the next; a file of a listed version is brought up to date in place.
MIGRATIONS = {1: ("ALTER TABLE manual ADD COLUMN rubric TEXT NOT NULL DEFAULT '[]'",)}


class GradebookError(RuntimeError):
    """A gradebook file this grader cannot use (not SQLite, another program's, another schema version), or a
    manual grade it refuses; the message says which and what to do."""


class StaleEdit(GradebookError):
    """A manual grade saved from a version of the answer's row that another save has replaced since."""


@contextmanager
def connect(path: Path) -> Iterator[sqlite3.Connection]:
    """A connection to the gradebook at `path`, created with the schema when the file is new; one transaction,
    committed when the block ends (rolled back on an exception)."""
    try:
        with closing(sqlite3.connect(path, timeout=BUSY_SECONDS, isolation_level=None)) as db:
            _use_wal(db)
            db.execute("PRAGMA foreign_keys=ON")
            db.execute("BEGIN IMMEDIATE")
            try:
                _check_schema(db, path)
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
    except sqlite3.DatabaseError as error:
        raise GradebookError(f"{path} is not a gradebook this grader can read ({error}); move it away") from None


def _use_wal(db: sqlite3.Connection) -> None:
    """Put the file in WAL mode (it stays so). Switching needs the file to itself, and SQLite answers "locked"
    at once instead of waiting its busy timeout when a new file's first writers race, so wait here."""
    deadline = time.monotonic() + BUSY_SECONDS
    while True:
        try:
            if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _check_schema(db: sqlite3.Connection, path: Path) -> None:
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not tables:
        for statement in SCHEMA.split(";"):
            if statement.strip():
                db.execute(statement)
        db.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        return
    if "meta" not in tables or not TABLES <= tables:
        raise GradebookError(f"{path} is an SQLite file of another program, not a gradebook; move it away")
    found = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    while found is not None and found[0].isdigit() and int(found[0]) in MIGRATIONS:
        for statement in MIGRATIONS[int(found[0])]:
            db.execute(statement)
        found = (str(int(found[0]) + 1),)
        db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", found)
    if found is None or found[0] != str(SCHEMA_VERSION):
        version = found[0] if found else "unknown"
        raise GradebookError(
            f"{path} is a gradebook of schema version {version}; this grader writes version {SCHEMA_VERSION}: "
            "grade into a new --out folder, or move the file away"
        )


def record(path: Path, submission: str, report: GradeReport) -> None:
    """Write `report` as submission `submission`: its automatic rows replaced, its manual rows kept."""
    with connect(path) as db:
        db.execute(
            "INSERT INTO submissions VALUES (?, ?, ?, ?) ON CONFLICT (submission) DO UPDATE SET "
            "name = excluded.name, refused = excluded.refused, complete = excluded.complete",
            (submission, report.name, report.refused, int(report.complete)),
        )
        db.execute("DELETE FROM automatic WHERE submission = ?", (submission,))
        rows = [(r.task, r.check.id, r.check.kind, r.status, r.points, r.max_points, r.message) for r in report.results]
        rows += [(n["task"], n["check"], "", "not graded", None, n["points"], n["why"]) for n in report.not_graded]
        db.executemany(
            "INSERT INTO automatic VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(submission, position, *row) for position, row in enumerate(rows)],
        )
        questions = [
            (entry["task"], question["id"], question["points"], question["answer"])
            for entry in report.manual
            for question in entry["questions"]  # type: ignore[union-attr]
        ]
        db.executemany(
            "INSERT INTO manual (submission, position, task, question, max_points, answer) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (submission, task, question) DO UPDATE SET "
            "position = excluded.position, max_points = excluded.max_points, answer = excluded.answer",
            [(submission, position, *question) for position, question in enumerate(questions)],
        )


def grade_question(
    path: Path,
    submission: str,
    task: str,
    question: str,
    points: float | None,
    comment: str,
    version: int,
    rubric: Sequence[int] = (),
) -> int:
    """Set a written answer's manual points (None: not graded yet, a comment only), comment and the rubric items
    the grader ticked (their positions in the question's rubric); `version` is the row's version the grader saw.
    Returns the new version. Refuses points outside [0, max] and a stale version (`StaleEdit`), saying so."""
    with connect(path) as db:
        found = db.execute(
            "SELECT max_points, version FROM manual WHERE submission = ? AND task = ? AND question = ?",
            (submission, task, question),
        ).fetchone()
        if found is None:
            raise GradebookError(f"{submission} has no written answer {task}/{question} in {path}")
        most, current = found
        if points is not None and not 0 <= points <= most:
            raise GradebookError(f"{task}/{question} takes 0 to {most:g} points, not {points:g}")
        if version != current:
            raise StaleEdit(
                f"{task}/{question} of {submission} was changed since you opened it (version {current}, yours "
                f"{version}): reload it before saving"
            )
        db.execute(
            "UPDATE manual SET points = ?, comment = ?, rubric = ?, version = version + 1 "
            "WHERE submission = ? AND task = ? AND question = ?",
            (points, comment, json.dumps(sorted(set(rubric))), submission, task, question),
        )
        return current + 1


@dataclass(frozen=True)
class Answer:
    """One written answer of one submission as the gradebook holds it; `points` None: not graded yet."""

    submission: str
    task: str
    question: str
    max_points: float
    answer: str
    points: float | None
    comment: str
    rubric: tuple[int, ...]
    version: int


def answers(path: Path) -> list[Answer]:
    """Every written answer in the gradebook at `path`, question by question (in the tasks' order), then by
    submission."""
    with connect(path) as db:
        rows = db.execute(
            "SELECT submission, task, question, max_points, answer, points, comment, rubric, version FROM manual "
            "ORDER BY (SELECT MIN(position) FROM manual AS first WHERE first.task = manual.task "
            "AND first.question = manual.question), submission"
        ).fetchall()
    return [Answer(*row[:7], tuple(json.loads(row[7])), row[8]) for row in rows]


def anonymous_ids(path: Path) -> dict[str, str]:
    """A stable anonymous id per submission ("S-1a2b3c"): a keyed hash with a key kept in the gradebook, so the
    ids say nothing about the names and stay the same from one review session to the next."""
    with connect(path) as db:
        found = db.execute("SELECT value FROM meta WHERE key = 'anonymous_key'").fetchone()
        key = found[0] if found else secrets.token_hex(16)
        if found is None:
            db.execute("INSERT INTO meta VALUES ('anonymous_key', ?)", (key,))
        names = [row[0] for row in db.execute("SELECT submission FROM submissions")]
    return {name: "S-" + hashlib.sha256(f"{key}/{name}".encode()).hexdigest()[:6] for name in names}


def submission_folder(out: Path, submission: str) -> Path:
    """The folder a submission of the gradebook in `out` was graded into: `out/<submission>` in a batch, `out`
    itself when it was graded alone."""
    folder = out / submission
    return folder if (folder / "results.json").is_file() else out


@dataclass
class Table:
    """The class as rows: `columns` are `task/check` then `task/question`; `maximum` their points; each row a
    submission with its points per column (None: not graded yet) and its automatic, manual and total sums."""

    columns: list[str] = field(default_factory=list)
    maximum: dict[str, float] = field(default_factory=dict)
    rows: list[dict[str, object]] = field(default_factory=list)

    @property
    def header(self) -> list[str]:
        return ["submission", *self.columns, "automatic", "manual", "total"]


def table(path: Path) -> Table:
    """Every submission of the gradebook at `path`, by name."""
    if not path.is_file():
        raise GradebookError(f"no gradebook at {path}: grade submissions into that folder first")
    result = Table()
    with connect(path) as db:
        checks = db.execute("SELECT task, check_id, max_points FROM automatic ORDER BY position, rowid").fetchall()
        questions = db.execute("SELECT task, question, max_points FROM manual ORDER BY position, rowid").fetchall()
        check_columns = {f"{task}/{name}" for task, name, _ in checks}
        for task, name, most in [*checks, *questions]:
            column = f"{task}/{name}"
            if column not in result.maximum:
                result.columns.append(column)
                result.maximum[column] = most
        submissions = db.execute("SELECT submission FROM submissions ORDER BY submission").fetchall()
        for (submission,) in submissions:
            automatic = db.execute(
                "SELECT task, check_id, points FROM automatic WHERE submission = ?", (submission,)
            ).fetchall()
            manual = db.execute("SELECT task, question, points FROM manual WHERE submission = ?", (submission,))
            manual_points = manual.fetchall()
            row: dict[str, object] = {"submission": submission}
            row |= {f"{task}/{name}": points for task, name, points in [*automatic, *manual_points]}
            row["automatic"] = round(sum(points or 0.0 for _, _, points in automatic), 4)
            row["manual"] = round(sum(points or 0.0 for _, _, points in manual_points), 4)
            row["total"] = round(float(row["automatic"]) + float(row["manual"]), 4)  # type: ignore[arg-type]
            result.rows.append(row)
    automatic_max = sum(most for column, most in result.maximum.items() if column in check_columns)
    manual_max = sum(most for column, most in result.maximum.items() if column not in check_columns)
    result.maximum |= {"automatic": automatic_max, "manual": manual_max, "total": automatic_max + manual_max}
    return result


def write_csv(book: Table, out: TextIO) -> None:
    """The table as CSV: a header, a first row of maximum points, then one row per submission; a check not
    graded yet is an empty cell. Opens in a spreadsheet and imports into an LMS as it is."""
    writer = csv.writer(out)
    writer.writerow(book.header)
    writer.writerow(["max points", *(_cell(book.maximum[column]) for column in book.header[1:])])
    for row in book.rows:
        writer.writerow([row["submission"], *(_cell(row.get(column)) for column in book.header[1:])])


def as_json(book: Table) -> dict[str, object]:
    """The table for scripts: the columns, their maximum points and one object per submission."""
    return {"columns": book.header, "max_points": book.maximum, "submissions": book.rows}


def _cell(value: object) -> str:
    return "" if value is None else f"{value:g}" if isinstance(value, float | int) else str(value)
