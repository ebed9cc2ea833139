"""`grade release OUT`: the students' feedback again, now with the written answers' manual points and comments.

Graders give written answers points and comments in the gradebook (`OUT/gradebook.sqlite`, table `manual`); a
release writes them into every graded submission's results.json (one test per graded question, the top-level
score automatic + manual) and report.html (per question the answer, the points and the comment). Both are
rendered again from the sidecar `report-data.json` that grading writes beside them, because report.html shows
what results.json does not hold (the checks' images). A folder graded before that sidecar existed cannot be
rendered again and is skipped, saying so. Releasing is idempotent, and a regrade followed by a release brings
the same manual points back: they live in the gradebook, never only in the outputs.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from grader.gradebook import GRADEBOOK_NAME, Answer, answers, submission_folder, table
from grader.report import DATA_NAME, write_outputs
from grader.results import GradeReport


@dataclass(frozen=True)
class Skipped:
    """A submission of the gradebook whose outputs a release could not rewrite, and why (a sentence that says
    what to do)."""

    submission: str
    folder: Path
    problem: str


@dataclass
class Release:
    """What a release did: the folders it rewrote and the submissions it skipped."""

    rewritten: list[Path] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def release(out: Path) -> Release:
    """Rewrite results.json and report.html of every submission in the gradebook of `out` with the manual
    grades there. Raises `GradebookError` when `out` holds no gradebook (or one this grader cannot read)."""
    book = out / GRADEBOOK_NAME
    submissions = [str(row["submission"]) for row in table(book).rows]  # table: the clear error for a missing file
    by_submission: dict[str, list[Answer]] = defaultdict(list)
    for answer in answers(book):
        by_submission[answer.submission].append(answer)
    folders = {submission: submission_folder(out, submission) for submission in submissions}
    claimed: dict[Path, list[str]] = defaultdict(list)
    for submission, folder in folders.items():
        claimed[folder.resolve()].append(submission)
    done = Release()
    for submission, folder in folders.items():
        problem = _problem(folder, claimed[folder.resolve()])
        if problem is None:
            try:
                report = GradeReport.from_plain(json.loads((folder / DATA_NAME).read_text(encoding="utf-8")), folder)
            except (OSError, ValueError) as error:  # json's errors are ValueErrors too
                problem = f"cannot read {folder / DATA_NAME} ({error}): regrade it with --regrade, then release again"
        if problem is not None:
            done.skipped.append(Skipped(submission, folder, problem))
            continue
        _fill_in(report, by_submission[submission])
        write_outputs(report, folder)
        done.rewritten.append(folder)
    return done


def _problem(folder: Path, claimants: list[str]) -> str | None:
    """Why the outputs in `folder` cannot be released, or None."""
    if len(claimants) > 1:
        # a batch folder that is gone makes its submission fall back to OUT itself, which may be another's
        return (
            f"{folder} is the folder of several submissions of the gradebook ({', '.join(sorted(claimants))}): "
            "a submission's folder is missing; regrade it with --regrade, then release again"
        )
    if not (folder / "results.json").is_file():
        return f"no graded folder in {folder}: grade the submission again (with --regrade), then release again"
    if not (folder / DATA_NAME).is_file():
        return (
            f"{folder} was graded before releases existed (it has no {DATA_NAME}): regrade it with --regrade, "
            "then release again"
        )
    return None


def _fill_in(report: GradeReport, graded: list[Answer]) -> None:
    """Put each written question's manual points and comment into the report, replacing those of an earlier
    release; a question the gradebook has no points for gets `awarded` None: not graded yet."""
    found = {(answer.task, answer.question): answer for answer in graded}
    for task, question in report.questions:
        answer = found.get((task, str(question["id"])))
        if answer is None or answer.points is None:
            question["awarded"], question["comment"] = None, ""
        else:
            # never more than the maximum the student's report shows (the gradebook's follows the latest grade)
            question["awarded"] = min(float(answer.points), float(question["points"]))
            question["comment"] = answer.comment
