"""What one grade was measured to cost: seconds per task and phase, and peak memory, on the machine named.

`python bench/gradescope_run.py --write` writes `measured.toml` from a real grade of examples/perfect.zip. The
Gradescope budget plans with it (`grader/gradescope/budget.py`), and a grade balances its worker groups with it
(`grader.grade.worker_groups`)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

MEASURED_PATH = Path(__file__).with_name("measured.toml")


@dataclass(frozen=True)
class Measured:
    """One grade's figures on the machine they were measured on (seconds per task and phase, peak memory)."""

    machine: str
    start_seconds: float
    static_seconds: dict[str, float]
    training_seconds: dict[str, float]
    peak_memory_mb: dict[str, float]  # "static", "training": the whole process tree's peak RSS

    @classmethod
    def load(cls, path: Path = MEASURED_PATH) -> Measured:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        tasks = data["tasks"]
        return cls(
            machine=data["machine"],
            start_seconds=float(data["start_seconds"]),
            static_seconds={task: float(figures["static_seconds"]) for task, figures in tasks.items()},
            training_seconds={task: float(figures.get("training_seconds", 0.0)) for task, figures in tasks.items()},
            peak_memory_mb={phase: float(mb) for phase, mb in data["peak_memory_mb"].items()},
        )
