"""What a grade looks like to its readers: results.json in Gradescope's format, and a self-contained
report.html (Jinja2, autoescaped; images inline as data URIs). Student output and messages are escaped and
truncated; nothing hidden (inputs, expected values, reference code) is ever put into either.

Beside them goes `report-data.json`, the report's full data (`GradeReport.to_plain`, images included), which
the students do not get: `grade release` (grader/release.py) reads it back to render both outputs again with
the written answers' manual points and comments, which then appear as tests of their own in results.json."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import jinja2

from grader.results import SAMPLE_GRID, GradeReport

MESSAGE_CHARS = 600
COMMENT_CHARS = 2000  # a grader's comment on a written answer: room for a paragraph or two of feedback
DATA_NAME = "report-data.json"  # the sidecar `grade release` re-renders from; not for the students
_templates = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _truncate(text: str, chars: int = MESSAGE_CHARS) -> str:
    return text if len(text) <= chars else text[: chars - 1] + "…"


def headline(report: GradeReport) -> str:
    """The sentence at the top of both outputs: what was graded, and what was not."""
    if report.refused:
        return f"Submission refused before anything ran: {report.refused}"
    parts = [f"Automatic score {report.score:.4g} / {report.max_score:g}."]
    hidden = [n for n in report.not_graded if n["why"].startswith("hidden")]
    if report.options.public_only:
        points = sum(n["points"] for n in hidden)
        parts.append(f"PUBLIC CHECKS ONLY: {len(hidden)} hidden checks worth {points:g} points were not graded.")
    other = [n for n in report.not_graded if not n["why"].startswith("hidden")]
    if other:
        count = "1 check was" if len(other) == 1 else f"{len(other)} checks were"
        parts.append(f"{count} not graded ({other[0]['why']}).")
    manual = sum(float(entry["points"]) for entry in report.manual)  # type: ignore[arg-type]
    if report.released:
        pending = report.manual_pending
        still = f" ({pending:g} points still to be graded)" if pending else ""
        parts.append(f"Written answers {report.manual_score:.4g} / {report.max_manual_score:g}{still}.")
        parts.append(f"Total {report.score + report.manual_score:.4g} / {report.max_score + manual:g}.")
    elif manual:
        parts.append(f"{manual:g} points of written answers are graded by hand.")
    if not report.complete:
        parts.append("Grading is still running or was stopped: this is a partial result.")
    return " ".join(parts)


def results_json(report: GradeReport) -> dict[str, Any]:
    """Gradescope's results.json: score, tests[] (name, score, max_score, status, output, visibility)."""
    tests = [
        {
            "name": f"{result.task}: {result.check.id}",
            "score": result.points,
            "max_score": result.max_points,
            "status": "passed" if result.status == "passed" else "failed",
            "output": _truncate(result.message),
            "visibility": "visible",
            "tags": [result.check.kind],
            "extra_data": {
                "task": result.task,
                "check": result.check.id,
                "result": result.status,
                "seconds": round(result.seconds, 3),
                **_plain(result.details),
            },
        }
        for result in report.results
    ]
    tests += _manual_tests(report)
    extra: dict[str, Any] = {}
    if report.released:
        # a later resumed run reads the automatic score back from here (the top-level one includes the manual)
        extra = {"automatic_score": report.score, "manual_score": report.manual_score}
        extra["manual_pending"] = report.manual_pending
    return {
        "score": round(report.score + report.manual_score, 4) if not report.refused else 0.0,
        "execution_time": round(report.seconds, 3),
        "output": headline(report),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": {
            "grader": "gan-grader",
            "submission": report.name,
            "complete": report.complete,
            "public_only": report.options.public_only,
            "max_automatic_score": report.max_score,
            "isolation": report.isolation,
            "refused": report.refused,
            "not_graded": report.not_graded,
            "manual": [_manual_entry(entry) for entry in report.manual] if report.released else report.manual,
            "notes": report.notes,
            **extra,
        },
    }


def _manual_tests(report: GradeReport) -> list[dict[str, Any]]:
    """One test per written question a grader has graded; a question not graded yet is none (the headline
    lists its points as still to be graded)."""
    return [
        {
            "name": f"{task}: {question['id']} (written answer)",
            "score": question["awarded"],
            "max_score": question["points"],
            "status": "passed" if question["awarded"] >= question["points"] else "failed",
            "output": _truncate(question.get("comment") or "", COMMENT_CHARS) or "graded by hand",
            "visibility": "visible",
            "tags": ["manual"],
            "extra_data": {"task": task, "question": question["id"], "result": "manual"},
        }
        for task, question in report.questions
        if question.get("awarded") is not None
    ]


def _manual_entry(entry: dict[str, Any]) -> dict[str, Any]:
    """A task's written answers for results.json's extra_data, each comment truncated as in the tests."""
    questions = [
        {**question, "comment": _truncate(question.get("comment") or "", COMMENT_CHARS)}
        for question in entry["questions"]
    ]
    return {**entry, "questions": questions}


def _plain(details: dict[str, Any]) -> dict[str, Any]:
    """Only JSON-safe figures from a check's details reach results.json."""
    return {key: value for key, value in details.items() if isinstance(value, int | float | str | bool)}


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def task_figures(results: list[Any]) -> list[tuple[str, str]]:
    """A task's figures as (title, data URI): its sample grids first (brief training's, then the checkpoint's,
    side by side on the page), then the rest in check order."""
    figures = [item for result in results for item in result.images.items()]
    return sorted(figures, key=lambda item: not item[0].endswith(SAMPLE_GRID))


def write_outputs(report: GradeReport, out_dir: Path) -> None:
    """results.json, report.html and the sidecar report-data.json into `out_dir`, each replaced atomically."""
    out_dir.mkdir(parents=True, exist_ok=True)
    generated = report.generated or time.strftime("%Y-%m-%d %H:%M:%S")
    # the sidecar first: whenever results.json shows a grade, the data to re-render it is at least as new
    _write_atomically(out_dir / DATA_NAME, json.dumps({**report.to_plain(), "generated": generated}))
    _write_atomically(out_dir / "results.json", json.dumps(results_json(report), indent=2))
    by_task: dict[str, list[Any]] = {}
    for result in report.results:
        by_task.setdefault(result.task, []).append(result)
    figures = {task: task_figures(results) for task, results in by_task.items()}
    html = _templates.get_template("report.html.j2").render(
        report=report,
        headline=headline(report),
        by_task=by_task,
        figures=figures,
        output_tail=_truncate(report.output_tail, 2000),
        generated=generated,
        truncate=_truncate,
        comment_chars=COMMENT_CHARS,
    )
    _write_atomically(out_dir / "report.html", html)
