"""The data model of a grade: the options it ran with, each check's result, and the report of one submission.
Plain data: `grade` fills it in, `report` writes it out, `run_checks` makes the check results.

A report also goes to and from plain JSON (`GradeReport.to_plain` / `from_plain`), images included, because
report.html is rendered from the report and results.json does not hold all of it: `grade release` re-renders a
graded report from the sidecar `report-data.json` with the manual points added. The manual points of a written
question enter as extra keys of its dict in `manual[...]["questions"]`: `awarded` (float; None: not graded yet)
and `comment` (str); a report without those keys is one whose written answers are not released."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gankit.catalogue import Check

# The title ending of a figure of samples, one class per row: the report puts every such grid of a task first, side
# by side, so a TA sees the brief training's samples beside those of the student's own checkpoint.
SAMPLE_GRID = "samples, one class per row"


@dataclass(frozen=True)
class GradeOptions:
    tasks: tuple[str, ...] = ()  # empty: every task
    train: bool = True
    public_only: bool = False
    device: str = "cpu"
    seed: int = 0
    check_seconds: float = 60.0
    submission_seconds: float = 3600.0  # room for every safety net of the training stages
    sandbox: str = "auto"  # grader.sandbox.choose_sandbox: bubblewrap where it works, else an unprivileged uid

    def to_plain(self) -> dict[str, Any]:
        return {
            "tasks": list(self.tasks),
            "train": self.train,
            "public_only": self.public_only,
            "device": self.device,
            "seed": self.seed,
            "check_seconds": self.check_seconds,
            "submission_seconds": self.submission_seconds,
            "sandbox": self.sandbox,
        }

    @classmethod
    def from_plain(cls, data: dict[str, Any]) -> GradeOptions:
        data = {key: value for key, value in data.items() if key != "isolate"}  # a sidecar from before "sandbox"
        return cls(**{**data, "tasks": tuple(data["tasks"])})


@dataclass
class CheckResult:
    task: str
    check: Check
    status: str  # passed | partial | failed | manual | not graded
    points: float
    message: str
    seconds: float = 0.0
    images: dict[str, str] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def max_points(self) -> float:
        return self.check.points

    def to_plain(self) -> dict[str, Any]:
        check = self.check
        return {
            "task": self.task,
            "check": {
                "id": check.id,
                "kind": check.kind,
                "points": check.points,
                "description": check.description,
                "public": check.public,
                "params": _json_safe_items(check.params),
            },
            "status": self.status,
            "points": self.points,
            "message": self.message,
            "seconds": self.seconds,
            "images": dict(self.images),
            "details": _json_safe_items(self.details),
        }

    @classmethod
    def from_plain(cls, data: dict[str, Any]) -> CheckResult:
        return cls(**{**data, "check": Check(**data["check"])})


@dataclass
class GradeReport:
    """Everything the report shows about one submission."""

    name: str
    options: GradeOptions
    results: list[CheckResult] = field(default_factory=list)
    manual: list[dict[str, object]] = field(default_factory=list)
    not_graded: list[dict[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    refused: str | None = None
    isolation: str = ""
    output_tail: str = ""
    seconds: float = 0.0
    complete: bool = False
    out_dir: Path = Path(".")
    previous: dict[str, object] | None = None  # results.json of an earlier complete run, when resumed
    # When the outputs were rendered first from this grade ("%Y-%m-%d %H:%M:%S"); empty: now. A re-render (a
    # release) keeps the time of the grade, so releasing twice writes the same files.
    generated: str = ""

    @property
    def score(self) -> float:
        """The automatic score: the checks' points, without the written answers'."""
        if self.previous is not None:
            extra = self.previous["extra_data"]
            # a released results.json's top-level score includes the manual points; its automatic part is kept
            return float(extra.get("automatic_score", self.previous["score"]))  # type: ignore[attr-defined]
        return round(sum(result.points for result in self.results), 4)

    @property
    def max_score(self) -> float:
        if self.previous is not None:
            return float(self.previous["extra_data"]["max_automatic_score"])  # type: ignore[index]
        return sum(result.max_points for result in self.results) + sum(n["points"] for n in self.not_graded)

    @property
    def questions(self) -> list[tuple[str, dict[str, Any]]]:
        """Every written question as (its task, its dict), in the report's order."""
        return [
            (str(entry["task"]), question)
            for entry in self.manual
            for question in entry["questions"]  # type: ignore[attr-defined]
        ]

    @property
    def released(self) -> bool:
        """Whether the manual grades were put in (by `grade release`): then every question has `awarded`."""
        return any("awarded" in question for _, question in self.questions)

    @property
    def manual_score(self) -> float:
        """The points the graders gave the written answers graded so far."""
        return round(sum(q["awarded"] for _, q in self.questions if q.get("awarded") is not None), 4)

    @property
    def manual_pending(self) -> float:
        """The points of the written answers not graded yet."""
        return sum(float(q["points"]) for _, q in self.questions if q.get("awarded") is None)

    @property
    def max_manual_score(self) -> float:
        return sum(float(q["points"]) for _, q in self.questions)

    def to_plain(self) -> dict[str, Any]:
        """The report as JSON-safe data that `from_plain` reads back into an equal report (less `previous` and
        `out_dir`: a resumed report is never written, and the folder is wherever the data is read from)."""
        return {
            "format": PLAIN_FORMAT,
            "name": self.name,
            "options": self.options.to_plain(),
            "results": [result.to_plain() for result in self.results],
            "manual": self.manual,
            "not_graded": self.not_graded,
            "notes": self.notes,
            "refused": self.refused,
            "isolation": self.isolation,
            "output_tail": self.output_tail,
            "seconds": self.seconds,
            "complete": self.complete,
            "generated": self.generated,
        }

    @classmethod
    def from_plain(cls, data: dict[str, Any], out_dir: Path = Path(".")) -> GradeReport:
        """The report `to_plain` wrote; ValueError for data of another format."""
        if not isinstance(data, dict) or data.get("format") != PLAIN_FORMAT:
            found = data.get("format") if isinstance(data, dict) else type(data).__name__
            raise ValueError(f"report data of format {found!r}, not {PLAIN_FORMAT}")
        try:
            return cls(
                name=data["name"],
                options=GradeOptions.from_plain(data["options"]),
                results=[CheckResult.from_plain(result) for result in data["results"]],
                manual=data["manual"],
                not_graded=data["not_graded"],
                notes=data["notes"],
                refused=data["refused"],
                isolation=data["isolation"],
                output_tail=data["output_tail"],
                seconds=data["seconds"],
                complete=data["complete"],
                generated=data["generated"],
                out_dir=out_dir,
            )
        except (KeyError, TypeError) as error:
            raise ValueError(f"report data with a missing or unexpected field ({error})") from None


PLAIN_FORMAT = 1  # the version of `GradeReport.to_plain`'s layout; from_plain refuses any other


def _json_safe_items(values: dict[str, Any]) -> dict[str, Any]:
    """The entries of `values` that JSON holds as they are; the rest (arrays, objects) never reach an output."""
    return {key: value for key, value in values.items() if isinstance(key, str) and _json_safe(value)}


def _json_safe(value: Any) -> bool:
    if value is None or isinstance(value, str | bool | int):
        return True
    if isinstance(value, float):
        return True  # nan and inf too: Python's json writes and reads them back
    if isinstance(value, list | tuple):  # a tuple comes back as a list
        return all(_json_safe(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(key, str) and _json_safe(item) for key, item in value.items())
    return False
