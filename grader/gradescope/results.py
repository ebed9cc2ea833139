"""results.json as Gradescope shows it to students: the grader's own results.json (grader/report.py) with each
test's visibility decided by whether its check is public, every output as escaped Markdown, the still-hidden
checks named in the top-level output, and, on request, the training figures as a leaderboard.

The file is checked against `results.schema.json`, a JSON Schema written from Gradescope's autograder
specification, before it is written: a grader bug shows as a failed autograder run, never as a wrong grade."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from gankit.catalogue import Task

SCHEMA_PATH = Path(__file__).with_name("results.schema.json")
HIDDEN_CHOICES = ("after_due_date", "hidden")
# The training figures a leaderboard ranks, with Gradescope's sort order for each: higher accuracy is better,
# a lower Fréchet ratio is closer to the real images.
LEADERBOARD_FIGURES = {"conditional_accuracy": ("conditional accuracy", "desc"), "fid_ratio": ("fid_ratio", "asc")}
_MARKDOWN_INLINE = re.compile(r"([\\`*_\[\]<>!|~&])")  # what formats, links, embeds or escapes mid-line
_MARKDOWN_LINE_START = re.compile(r"^(\s*)(\d*)([#+\-=.)])")  # headings, lists ("- ", "1. "), rules


@dataclass(frozen=True)
class Visibility:
    """What students see: `hidden` is the visibility of the checks that are not public; `leaderboard` turns the
    training figures of conditional tasks into Gradescope leaderboard columns."""

    hidden: str = "after_due_date"
    leaderboard: bool = False

    def __post_init__(self) -> None:
        if self.hidden not in HIDDEN_CHOICES:
            raise ValueError(f"hidden visibility must be one of {', '.join(HIDDEN_CHOICES)}, not {self.hidden!r}")


def escape_markdown(text: str) -> str:
    """`text` shown literally by a Markdown renderer, on one line: student-controlled text (an exception's
    message) can neither format, link nor embed anything."""
    line = _MARKDOWN_INLINE.sub(r"\\\1", " ".join(text.split()))
    return _MARKDOWN_LINE_START.sub(lambda m: f"{m.group(1)}{m.group(2)}\\{m.group(3)}", line)


def _is_public(test: dict[str, Any], catalogue: dict[str, Task]) -> bool:
    extra = test.get("extra_data", {})
    if extra.get("result") == "manual":
        return True  # a written answer's points and comment, once released, are the grader's feedback
    task = catalogue.get(str(extra.get("task")))
    check = next((c for c in task.checks if c.id == extra.get("check")), None) if task else None
    return bool(check and check.public)


def for_gradescope(results: dict[str, Any], catalogue: dict[str, Task], visibility: Visibility) -> dict[str, Any]:
    """Gradescope's results.json from the grader's: same scores and tests, Gradescope's visibility and formats."""
    tests, hidden = [], []
    for number, test in enumerate(results["tests"], start=1):
        public = _is_public(test, catalogue)
        if not public:
            hidden.append(test)
        tests.append(
            {
                **test,
                "number": str(number),
                "output": escape_markdown(test.get("output", "")),
                "output_format": "md",
                "visibility": "visible" if public else visibility.hidden,
            }
        )
    output = results.get("output", "")
    if hidden:
        when = "after the due date" if visibility.hidden == "after_due_date" else "to the course staff only"
        points = sum(float(test["max_score"]) for test in hidden)
        names = ", ".join(test["name"] for test in hidden)
        output += f" {len(hidden)} hidden checks worth {points:g} points are shown {when}: {names}."
    shown = {
        **results,
        "output": escape_markdown(output),
        "output_format": "md",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }
    if visibility.leaderboard:
        shown["leaderboard"] = leaderboard(results)
    return shown


def leaderboard(results: dict[str, Any]) -> list[dict[str, Any]]:
    """One column per conditional task's training figure (conditional accuracy, descending; fid_ratio,
    ascending); a figure the grade did not measure (no training, a crashed stage) is left out."""
    columns = []
    for test in results["tests"]:
        extra = test.get("extra_data", {})
        if "conditional_accuracy" not in extra:
            continue  # only conditional tasks' training stages measure it
        for figure, (label, order) in LEADERBOARD_FIGURES.items():
            value = extra.get(figure)
            if isinstance(value, int | float) and not isinstance(value, bool):
                columns.append({"name": f"{extra['task']} {label}", "value": round(float(value), 4), "order": order})
    return columns


@cache
def schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def validate(results: dict[str, Any]) -> None:
    """Raise `jsonschema.ValidationError` unless `results` follows Gradescope's specification, and ValueError
    when the top-level score is not the sum of the tests' scores (Gradescope's rule when no score is forced)."""
    jsonschema.validate(results, schema())
    total = sum(float(test.get("score", 0.0)) for test in results["tests"])
    if abs(float(results["score"]) - total) > 1e-3:
        raise ValueError(f"score {results['score']} is not the sum of the tests' scores ({total:.4f})")
