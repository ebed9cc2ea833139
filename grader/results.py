"""The data model of a grade: the options it ran with, each check's result, and the report of one submission.
Plain data: `grade` fills it in, `report` writes it out, `run_checks` makes the check results."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gankit.catalogue import Check


@dataclass(frozen=True)
class GradeOptions:
    tasks: tuple[str, ...] = ()  # empty: every task
    train: bool = True
    public_only: bool = False
    device: str = "cpu"
    seed: int = 0
    check_seconds: float = 60.0
    submission_seconds: float = 3600.0  # room for every safety net of the training stages
    isolate: bool | None = None  # None: bubblewrap when available


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

    @property
    def score(self) -> float:
        if self.previous is not None:
            return float(self.previous["score"])  # type: ignore[arg-type]
        return round(sum(result.points for result in self.results), 4)

    @property
    def max_score(self) -> float:
        if self.previous is not None:
            return float(self.previous["extra_data"]["max_automatic_score"])  # type: ignore[index]
        return sum(result.max_points for result in self.results) + sum(n["points"] for n in self.not_graded)
