"""`grade gradescope-bundle`: the zip Gradescope takes as it is.

The steps, in order (`build_bundle`):
  1. plan    decide whether the training stages fit the chosen machine (budget.py)
  2. wheel   build this project as a wheel, from a copy without `reference/` (the bundle never holds it)
  3. pins    requirements.txt: this project's dependencies at the versions this machine grades with
  4. data    the tasks' data sets, as the grader found them here (nothing is downloaded at grading time)
  5. zip     setup.sh and run_autograder at the root, the wheel, the task catalogue, the data, gradescope.json

The zip is the same bytes for the same inputs: entries in name order with a fixed date."""

from __future__ import annotations

import importlib.metadata
import json
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

from gankit.catalogue import TASKS_DIR, Task
from gankit.data import DATASETS, portable_files
from grader.checks import load_all
from grader.gradescope.autograder import CONFIG_NAME
from grader.gradescope.budget import Machine, Plan, plan
from grader.gradescope.results import Visibility
from grader.measured import Measured

PROJECT_DIR = TASKS_DIR.parent
SCRIPTS_DIR = Path(__file__).with_name("scripts")
EXECUTABLES = ("setup.sh", "run_autograder")
ZIP_DATE = (2000, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class BundleSettings:
    tasks: tuple[str, ...]
    train: bool | None  # None: the training stages run when they fit the machine
    visibility: Visibility
    machine: Machine


@dataclass(frozen=True)
class Bundle:
    path: Path
    plan: Plan
    max_score: float  # what the autograder can award: the assignment's autograder points on Gradescope
    files: int


def autograder_points(tasks: dict[str, Task], train: bool) -> float:
    """The points of every check the bundle grades (written answers are graded by hand on Gradescope)."""
    kinds = load_all()
    return sum(
        check.points
        for task in tasks.values()
        for check in task.checks
        if check.kind != "manual" and (train or not kinds[check.kind].trains)
    )


def build_wheel(scratch: Path) -> Path:
    """This project as a wheel, built offline from a copy of what the grader needs (no `reference/`)."""
    project = scratch / "project"
    project.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    for name in ("gankit", "grader"):
        shutil.copytree(PROJECT_DIR / name, project / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(PROJECT_DIR / name, project / name)
    wheels = scratch / "wheels"
    command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", str(wheels)]
    subprocess.run([*command, str(project)], check=True, capture_output=True)
    (wheel,) = wheels.glob("*.whl")
    return wheel


def pinned_requirements() -> str:
    """Each dependency of pyproject.toml at the version installed here, so Gradescope grades with the same
    libraries (torch's local build label, +cu130 or +cpu, is dropped: setup.sh takes the CPU build)."""
    dependencies = tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    lines = []
    for requirement in dependencies["dependencies"]:
        name = requirement.split(">")[0].split("=")[0].split("<")[0].strip()
        lines.append(f"{name}=={importlib.metadata.version(name).split('+')[0]}")
    return "\n".join(lines) + "\n"


def _entries(settings: BundleSettings, catalogue: dict[str, Task], chosen: Plan, wheel: Path) -> dict[str, Path | str]:
    """Every file of the zip: its name in the zip → a file to copy or the text to write."""
    entries: dict[str, Path | str] = {name: SCRIPTS_DIR / name for name in EXECUTABLES}
    entries[f"wheels/{wheel.name}"] = wheel
    entries["requirements.txt"] = pinned_requirements()
    for path in sorted(TASKS_DIR.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            entries[f"tasks/{path.relative_to(TASKS_DIR).as_posix()}"] = path
    for dataset in sorted({catalogue[task].dataset for task in settings.tasks} & set(DATASETS)):
        entries.update(portable_files(dataset))
    config = {
        "tasks": list(settings.tasks),
        "train": chosen.train,
        "hidden": settings.visibility.hidden,
        "leaderboard": settings.visibility.leaderboard,
        "machine": asdict(settings.machine),
        "expected_seconds": round(chosen.expected_seconds),
        "peak_memory_mb": round(chosen.peak_memory_mb),
        "plan": chosen.describe(),
    }
    entries[CONFIG_NAME] = json.dumps(config, indent=2) + "\n"
    return entries


def build_bundle(
    out: Path, settings: BundleSettings, catalogue: dict[str, Task], measured: Measured | None = None
) -> Bundle:
    """Write the autograder zip to `out`; raises BudgetError when the grade does not fit the machine (judged by
    `measured`, by default the figures in measured.toml)."""
    chosen = plan(list(settings.tasks), settings.train, settings.machine, measured)
    with tempfile.TemporaryDirectory(prefix="gan-bundle-") as scratch:
        wheel = build_wheel(Path(scratch))
        entries = _entries(settings, catalogue, chosen, wheel)
        out.parent.mkdir(parents=True, exist_ok=True)
        temporary = out.with_name(f".{out.name}.tmp")
        with zipfile.ZipFile(temporary, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
            for name in sorted(entries):
                info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = (0o755 if name in EXECUTABLES else 0o644) << 16
                content = entries[name]
                bundle.writestr(info, content.read_bytes() if isinstance(content, Path) else content)
        temporary.replace(out)
    tasks = {task: catalogue[task] for task in settings.tasks}
    return Bundle(out, chosen, autograder_points(tasks, chosen.train), len(entries))
