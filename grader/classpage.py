"""The instructor's class page `OUT/index.html`: the whole class at a glance, from the gradebook and the
submissions' results.json.

It holds the headline (submissions, complete and refused, mean and median total), the distribution of totals,
how each check went (the checks that fail most first), the training figures across the class, how far manual
grading is, and every submission with a link to its report. The page is self-contained (Jinja2, autoescaped,
plots inline as PNG data URIs, no external CSS or JS), so it opens from a copied folder without the grader.

`grade` rewrites the page after every submission it grades, so it is kept cheap (a few small figures at a
modest dpi, drawn on bare `matplotlib.figure.Figure`s: no pyplot, no global state, safe beside the `--jobs`
threads) and written atomically: a reader, a second `grade` process or another thread never sees a torn file.
"""

from __future__ import annotations

import base64
import io
import json
import math
import os
import statistics
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

from grader.gradebook import GRADEBOOK_NAME, answers, connect, submission_folder, table
from grader.report import _templates

PAGE_NAME = "index.html"
# The figures of the training_quality and trained_model checks the page plots across the class, with what
# reads as better.
TRAINING_FIGURES = {
    "conditional_accuracy": "conditional accuracy (higher is better)",
    "fid_ratio": "FID ratio (lower is better)",
}
DPI = 90  # about 900 px for the widest figure: sharp enough on a 1100 px page, cheap to redraw every submission
WIDTH = 10.0  # inches
LABEL_INCHES = 0.065  # the width of one character of an 8 pt tick label, near enough to leave room for it
FULL_MARKS = 1e-9  # points this close to the maximum count as full marks (sums of floats)
_BLUE, _GREEN, _GREY = "#4c72b0", "#55a868", "#8c8c8c"


@dataclass(frozen=True)
class CheckSummary:
    """How the class did on one automatic check; `mean` and `full` are None when no submission was graded on
    it (a --no-train run, refused submissions)."""

    column: str  # task/check
    max_points: float
    mean: float | None  # mean points over the graded submissions, as a fraction of the maximum
    full: float | None  # share of the graded submissions with full marks
    not_graded: int  # submissions without points for it: skipped in the run, refused, or still running


@dataclass(frozen=True)
class SubmissionRow:
    """One submission as the page lists it; `href` relative to OUT, None when its report is not there."""

    submission: str
    name: str
    automatic: float
    manual: float
    total: float
    status: str  # complete | refused | incomplete
    refused: str
    href: str | None


@dataclass(frozen=True)
class QuestionProgress:
    """How many of one written question's answers have manual points."""

    column: str  # task/question
    max_points: float
    graded: int
    answers: int


@dataclass
class ClassSummary:
    """Everything the page shows, before it is drawn."""

    submissions: list[SubmissionRow] = field(default_factory=list)
    maximum: dict[str, float] = field(default_factory=dict)  # automatic, manual, total
    checks: list[CheckSummary] = field(default_factory=list)  # the checks that fail most first
    questions: list[QuestionProgress] = field(default_factory=list)
    # figure -> task/check -> [(submission, value)], from the tests of the results.json files that carry figures
    training: dict[str, dict[str, list[tuple[str, float]]]] = field(default_factory=dict)

    @property
    def totals(self) -> list[float]:
        return [row.total for row in self.submissions]


def summarise(out: Path) -> ClassSummary:
    """Read the gradebook in `out` and the submissions' results.json into what the class page shows."""
    book_path = out / GRADEBOOK_NAME
    book = table(book_path)  # raises GradebookError when there is no gradebook
    written = answers(book_path)
    with connect(book_path) as db:  # the table has no status: read the submissions' names, refusals, completeness
        rows = db.execute("SELECT submission, name, refused, complete FROM submissions").fetchall()
    statuses = {row[0]: row[1:] for row in rows}
    question_columns = {f"{answer.task}/{answer.question}" for answer in written}
    summary = ClassSummary(maximum={key: book.maximum[key] for key in ("automatic", "manual", "total")})

    for row in book.rows:
        submission = str(row["submission"])
        name, refused, complete = statuses.get(submission, (submission, None, 0))
        folder = submission_folder(out, submission)
        status = "refused" if refused else "complete" if complete else "incomplete"
        summary.submissions.append(
            SubmissionRow(
                submission=submission,
                name=name,
                automatic=float(row["automatic"]),  # type: ignore[arg-type]
                manual=float(row["manual"]),  # type: ignore[arg-type]
                total=float(row["total"]),  # type: ignore[arg-type]
                status=status,
                refused=refused or "",
                href=_report_href(out, folder),
            )
        )
        _read_training_figures(folder / "results.json", submission, summary.training)

    checks = [column for column in book.columns if column not in question_columns]
    summaries = [_check_summary(column, book.maximum[column], book.rows) for column in checks]
    # Worst first: by mean, then by share of full marks; checks nobody was graded on go last, in catalogue order.
    summary.checks = sorted(summaries, key=lambda c: (c.mean is None, c.mean or 0.0, c.full or 0.0))

    by_question: dict[str, list[bool]] = {}
    maxima: dict[str, float] = {}
    for answer in written:
        column = f"{answer.task}/{answer.question}"
        by_question.setdefault(column, []).append(answer.points is not None)
        maxima[column] = answer.max_points
    summary.questions = [
        QuestionProgress(column, maxima[column], sum(graded), len(graded)) for column, graded in by_question.items()
    ]
    return summary


def _check_summary(column: str, most: float, rows: Sequence[dict[str, object]]) -> CheckSummary:
    points = [float(row[column]) for row in rows if row.get(column) is not None]  # type: ignore[arg-type]
    if not points:
        return CheckSummary(column, most, None, None, len(rows))
    mean = statistics.fmean(points) / most if most > 0 else 1.0
    full = sum(p >= most - FULL_MARKS for p in points) / len(points)
    return CheckSummary(column, most, mean, full, len(rows) - len(points))


def _report_href(out: Path, folder: Path) -> str | None:
    """The submission's report.html relative to `out`, quoted for an href (a folder name may hold `#` or `%`)."""
    if not (folder / "report.html").is_file():
        return None
    relative = folder.relative_to(out).as_posix()
    return "report.html" if relative == "." else f"{quote(relative)}/report.html"


def _read_training_figures(path: Path, submission: str, into: dict[str, dict[str, list[tuple[str, float]]]]) -> None:
    """Add the training figures of one results.json to `into`; an unreadable or partial file adds nothing."""
    try:
        results = json.loads(path.read_text(encoding="utf-8"))
        tests = results.get("tests", [])
    except (OSError, ValueError, AttributeError):
        return
    for test in tests if isinstance(tests, list) else []:
        extra = test.get("extra_data") if isinstance(test, dict) else None
        if not isinstance(extra, dict) or not any(figure in extra for figure in TRAINING_FIGURES):
            continue
        # one strip per check: a task's brief training and its handed-in checkpoint are scored on the same figures
        series = f"{extra.get('task', '?')}/{extra.get('check', '?')}"
        for figure in TRAINING_FIGURES:
            value = extra.get(figure)
            if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
                into.setdefault(figure, {}).setdefault(series, []).append((submission, value))


# --- figures ---------------------------------------------------------------------------------------------


def _data_uri(figure: Figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    figure.clear()  # a bare Figure is not registered anywhere; clearing frees its artists now, not at gc
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _axes(figure: Figure, left: float, bottom: float = 0.55, top: float = 0.35, right: float = 0.2) -> Axes:
    """One axes with fixed margins in inches: a layout engine (constrained, tight) draws the figure once more to
    measure it, which costs more than the drawing itself and this page is redrawn after every submission."""
    width, height = figure.get_size_inches()
    figure.subplots_adjust(left=left / width, right=1 - right / width, bottom=bottom / height, top=1 - top / height)
    return figure.add_subplot()


def _histogram(totals: Sequence[float], most: float) -> str:
    figure = Figure(figsize=(WIDTH, 3.2))
    ax = _axes(figure, left=0.7)
    top = most if most > 0 else max([*totals, 1.0])
    bins = int(min(20, max(5, math.ceil(top))))
    ax.hist(totals, bins=bins, range=(0, top), color=_BLUE, edgecolor="white")
    mean, median = statistics.fmean(totals), statistics.median(totals)
    ax.axvline(mean, color="#c44e52", linestyle="--", label=f"mean {mean:.4g}")
    ax.axvline(median, color="#222222", linestyle=":", label=f"median {median:.4g}")
    ax.set_xlim(0, top)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(f"Totals (automatic + manual) of {len(totals)} submissions")
    ax.set_xlabel(f"total points (of {most:g})")
    ax.set_ylabel("submissions")
    ax.legend(loc="upper left", frameon=False)
    return _data_uri(figure)


def _check_bars(checks: Sequence[CheckSummary]) -> str:
    graded = [check for check in checks if check.mean is not None]
    figure = Figure(figsize=(WIDTH, 1.2 + 0.24 * len(graded)))
    longest = max(len(check.column) for check in graded)
    ax = _axes(figure, left=min(0.45 * WIDTH, 0.25 + LABEL_INCHES * longest), bottom=0.5, top=0.6)
    positions = np.arange(len(graded))
    height = 0.4
    ax.barh(positions - height / 2, [c.mean for c in graded], height, color=_BLUE, label="mean score / max")
    ax.barh(positions + height / 2, [c.full for c in graded], height, color=_GREEN, label="share with full marks")
    ax.set_yticks(positions, [c.column for c in graded], fontsize=8)
    ax.set_ylim(len(graded) - 0.5, -0.5)  # inverted: the checks that fail most on top
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.grid(axis="x", color="#dddddd")
    ax.set_axisbelow(True)
    ax.set_title("Automatic checks, the ones that fail most on top", pad=22)
    ax.set_xlabel("share of the graded submissions")
    # between the title and the axes: inside, it would hide the bars of the checks everyone passes
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=2, fontsize=8, frameon=False, borderaxespad=0.1)
    return _data_uri(figure)


def _strip_plot(figure_name: str, by_task: dict[str, list[tuple[str, float]]]) -> str:
    tasks = sorted(by_task)
    figure = Figure(figsize=(min(WIDTH, max(5.5, 2.0 + 1.3 * len(tasks))), 3.2))
    ax = _axes(figure, left=0.8, bottom=0.75)
    jitter = np.random.default_rng(0)  # the same spread on every redraw: the page does not flicker
    for position, task in enumerate(tasks):
        values = [value for _, value in by_task[task]]
        ax.scatter(position + jitter.uniform(-0.18, 0.18, len(values)), values, s=18, color=_BLUE, alpha=0.7)
        median = statistics.median(values)
        ax.plot([position - 0.3, position + 0.3], [median, median], color="#222222", linewidth=1.5)
    ax.set_xticks(range(len(tasks)), [f"{task}\n({len(by_task[task])})" for task in tasks], fontsize=8)
    ax.set_xlim(-0.6, len(tasks) - 0.4)
    ax.grid(axis="y", color="#dddddd")
    ax.set_axisbelow(True)
    ax.set_title(TRAINING_FIGURES[figure_name])
    ax.set_ylabel(figure_name)
    ax.set_xlabel("task (submissions)")
    return _data_uri(figure)


# --- the page --------------------------------------------------------------------------------------------


def write_class_page(out: Path) -> Path:
    """Render `out/index.html` from the gradebook in `out` and the submissions' results.json; returns its path.
    Raises GradebookError when `out` holds no gradebook this grader can read."""
    summary = summarise(out)
    totals = summary.totals
    graded_checks = [check for check in summary.checks if check.mean is not None]
    images = {
        "histogram": _histogram(totals, summary.maximum["total"]) if totals else None,
        "checks": _check_bars(graded_checks) if graded_checks else None,
    }
    training = {figure: _strip_plot(figure, by_task) for figure, by_task in summary.training.items()}
    counts = {status: sum(row.status == status for row in summary.submissions) for status in ("complete", "refused")}
    html = _templates.get_template("class.html.j2").render(
        summary=summary,
        title=out.resolve().name or str(out),
        counts=counts,
        incomplete=len(summary.submissions) - sum(counts.values()),
        mean=statistics.fmean(totals) if totals else None,
        median=statistics.median(totals) if totals else None,
        images=images,
        training=training,
        figure_labels=TRAINING_FIGURES,
        graded_answers=sum(question.graded for question in summary.questions),
        all_answers=sum(question.answers for question in summary.questions),
        generated=time.strftime("%Y-%m-%d %H:%M:%S"),
    )
    path = out / PAGE_NAME
    _write_atomically(path, html)
    return path


def _write_atomically(path: Path, text: str) -> None:
    """Write through a temporary file unique to this process and thread, so concurrent writers never collide."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
