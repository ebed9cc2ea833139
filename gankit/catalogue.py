"""The task catalogue: `tasks/<id>/task.toml`, validated against `tasks/schema.json` on load.

Errors name the file and the field (`tasks/wgan/task.toml: checks[2].points: ...`), so an instructor who
edits a task sees at once what to fix.
"""

from __future__ import annotations

import ast
import json
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import jsonschema

from gankit.stage import STAGE_MARKER
from gankit.stage import describe as describe_stage

TASKS_DIR = Path(__file__).resolve().parent.parent / "tasks"
SCHEMA_PATH = TASKS_DIR / "schema.json"
# "## Q2 (4 points) ..." headings in questions.md carry each written question's points.
QUESTION_HEADING = re.compile(r"^##\s+(Q[\w.]+)\b.*\((\d+(?:\.\d+)?)\s+points?\)", re.MULTILINE)


class TaskSchemaError(ValueError):
    """A task folder that does not follow the schema; the message names the file and the field."""


NETWORK_ROLES = ("generator", "discriminator", "critic", "classifier")
SCORER_ROLES = ("discriminator", "critic")  # the network that judges images in a GAN's training step
# The task.toml sections a check kind reads, so a task that lacks one fails on load, not while grading.
SECTIONS_READ = {"training_quality": ("training", "budgets"), "train_step": ("training",)}


@dataclass(frozen=True)
class Name:
    """A name the student writes, with the role the grader knows it by: a network's role (`NETWORK_ROLES`) or the
    contract a function fulfils (`generate`, `train_step`, `loss`, ...); a function that computes one of the
    trusted formulas names it (`formula`, a name in `grader.formulas`)."""

    name: str
    kind: str  # "class" | "function"
    role: str
    signature: str
    description: str
    formula: str | None = None

    @property
    def optional(self) -> list[tuple[str, Any]]:
        """The documented optional parameters with their defaults, in order (a class: its constructor's)."""
        return documented_optional(self.signature)

    @property
    def required(self) -> list[str]:
        """The documented required parameters, which the grader passes by position."""
        return documented_required(self.signature)


@dataclass(frozen=True)
class Optimizer:
    """One optimizer per network, as `[training.optimizer]` states it once for the stage, the train-step check's
    grader-made optimizers and what a student's optimizer-building function must return."""

    kind: str  # "adam" | "rmsprop"
    lr: float
    betas: tuple[float, float] | None = None  # Adam's; None: torch's default


@dataclass(frozen=True)
class Training:
    """How train_step is called: `train_step(G, D, opt_G, opt_D, real[, labels], **kwargs)` with one real batch
    (`real = "batch"`) or a list of `d_steps` batches, one D update each (`real = "batches"`), integer labels
    after the images for conditional tasks; it returns a dict with the keys `result`."""

    real: str  # "batch" | "batches"
    result: tuple[str, ...]
    optimizer: Optimizer
    d_steps: int = 1  # real batches per call in the training stage
    kwargs: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def batched(self) -> bool:
        return self.real == "batches"


@dataclass(frozen=True)
class Check:
    id: str
    kind: str
    points: float
    description: str
    public: bool = False
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Budget:
    """A training stage: exactly `steps` calls of train_step on batches of `batch_size`. `cpu_seconds` is only a
    safety net against networks far larger than the statement's (the worker's CPU time, not the wall clock's,
    so a busy machine does not reach it)."""

    steps: int
    batch_size: int
    cpu_seconds: float
    width: int | None = None  # the networks' width argument; None: their own default


@dataclass(frozen=True)
class Task:
    id: str
    title: str
    folder: Path
    seeds: list[str]
    dataset: str
    image_size: int
    student_file: str
    conditional: bool
    names: tuple[Name, ...]
    checks: list[Check]
    training: Training | None
    budgets: dict[str, Budget] | None
    quality: dict[str, dict[str, float]]

    @property
    def statement(self) -> str:
        """statement.md with the training stage written in at its marker, from this task's budgets."""
        text = (self.folder / "statement.md").read_text(encoding="utf-8")
        return text.replace(STAGE_MARKER, describe_stage(self)) if self.training is not None else text

    @property
    def questions(self) -> str | None:
        path = self.folder / "questions.md"
        return path.read_text(encoding="utf-8") if path.is_file() else None

    @property
    def checkpoint_file(self) -> str | None:
        """The trained generator's weights a submission hands in (`<task>.pt`, a state_dict), for a task with a
        `trained_model` check; None for the others."""
        return f"{self.id}.pt" if any(check.kind == "trained_model" for check in self.checks) else None

    @property
    def total_points(self) -> float:
        return sum(check.points for check in self.checks)

    def named(self, name: str) -> Name:
        found = next((item for item in self.names if item.name == name), None)
        if found is None:
            raise KeyError(f"task {self.id} names no {name}")
        return found

    def with_role(self, *roles: str) -> Name | None:
        """The first name that plays one of `roles`, or None."""
        return next((item for item in self.names if item.role in roles), None)

    def playing(self, *roles: str) -> Name:
        """The name that plays one of `roles`; KeyError when the task has none."""
        found = self.with_role(*roles)
        if found is None:
            raise KeyError(f"task {self.id} names nothing in the role {' or '.join(roles)}")
        return found

    def optional_parameters(self, name: str) -> list[tuple[str, Any]]:
        """The documented optional parameters of `name` with their defaults, in order, read from its signature
        (`f(a, b, lam=10.0, rng=None) -> Tensor`; a class: its constructor, before the `;`)."""
        return self.named(name).optional

    def budget(self, device_type: str) -> Budget:
        """The training budget for 'cpu' or 'cuda'."""
        if self.budgets is None:
            raise KeyError(f"task {self.id} has no training budget")
        return self.budgets["cuda" if device_type == "cuda" else "cpu"]


def documented_optional(signature: str) -> list[tuple[str, Any]]:
    """(name, default) of each keyword of the call before any `;` or `->`, as in `f(x, lam=10.0) -> T`."""
    call = signature.split(";")[0].split("->")[0].strip()
    try:
        node = ast.parse(call, mode="eval").body
    except SyntaxError as error:
        raise ValueError(f"cannot read the signature {signature!r}: {error}") from None
    if not isinstance(node, ast.Call):
        raise ValueError(f"cannot read the signature {signature!r}: write it as name(arguments)")
    return [(keyword.arg, _default(keyword.value)) for keyword in node.keywords if keyword.arg]


def _default(node: ast.expr) -> Any:
    """A literal default as its value; a name (`generator_loss=generator_loss_nonsaturating`) as its text."""
    try:
        return ast.literal_eval(node)
    except ValueError:
        return ast.unparse(node)


def _field_path(error: jsonschema.ValidationError) -> str:
    path = ""
    for part in error.absolute_path:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(top level)"


def _schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def load_task(folder: Path | str) -> Task:
    """Read and validate one task folder (`tasks/<id>/`)."""
    folder = Path(folder)
    toml_path = folder / "task.toml"
    where = str(toml_path)
    if not toml_path.is_file():
        raise TaskSchemaError(f"{where}: file not found")
    try:
        raw = tomllib.loads(toml_path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise TaskSchemaError(f"{where}: not valid TOML: {error}") from error

    errors = sorted(jsonschema.Draft202012Validator(_schema()).iter_errors(raw), key=lambda e: list(e.path))
    if errors:
        raise TaskSchemaError("\n".join(f"{where}: {_field_path(e)}: {e.message}" for e in errors))

    def fail(field_name: str, message: str) -> TaskSchemaError:
        return TaskSchemaError(f"{where}: {field_name}: {message}")

    if raw["id"] != folder.name:
        raise fail("id", f"{raw['id']!r} must equal the folder name {folder.name!r}")
    for key in ("names", "checks"):
        ids = [item["name" if key == "names" else "id"] for item in raw[key]]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise fail(key, f"duplicate entries {duplicates}")
    if not (folder / "statement.md").is_file():
        raise fail("statement", f"{folder / 'statement.md'} is missing")
    kinds = {check["kind"] for check in raw["checks"]}
    for kind, sections in SECTIONS_READ.items():
        for section in sections:
            if kind in kinds and section not in raw:
                raise fail(section, f"required when a check has kind {kind!r}")
    roles = [item["role"] for item in raw["names"]]
    for item in raw["names"]:
        if (item["kind"] == "class") != (item["role"] in NETWORK_ROLES):
            raise fail("names", f"{item['name']}: a class plays a network role {NETWORK_ROLES}, a function another")
    if "training" in raw:
        for role in ("generator", SCORER_ROLES, "train_step"):
            wanted = (role,) if isinstance(role, str) else role
            if not any(r in wanted for r in roles):
                raise fail("names", f"[training] needs a name in the role {' or '.join(wanted)}")
        if raw["training"]["real"] == "batch" and raw["training"].get("d_steps", 1) != 1:
            raise fail("training.d_steps", "is 1 when train_step takes one real batch")
    if (raw["dataset"] == "none") != (raw["image_size"] == 0):
        raise fail("image_size", "is 0 exactly when dataset is 'none'")
    for check in raw["checks"]:
        if check["kind"] == "trained_model":
            _check_trained_model(check, roles, fail)
    _check_manual_points(folder, raw, fail)

    budgets = raw.get("budgets")
    return Task(
        id=raw["id"],
        title=raw["title"],
        folder=folder,
        seeds=raw["seeds"],
        dataset=raw["dataset"],
        image_size=raw["image_size"],
        student_file=raw["student_file"],
        conditional=raw["conditional"],
        names=tuple(Name(**item) for item in raw["names"]),
        checks=[Check(**check) for check in raw["checks"]],
        training=read_training(raw["training"]) if "training" in raw else None,
        budgets={device: Budget(**b) for device, b in budgets.items()} if budgets else None,
        quality=raw.get("quality", {}),
    )


def read_training(raw: dict[str, Any]) -> Training:
    """`[training]` as task.toml writes it (and `gankit.training.GanSpec.to_plain` sends it) → `Training`."""
    optimizer = raw["optimizer"]
    betas = optimizer.get("betas")
    return Training(
        real=raw["real"],
        result=tuple(raw["result"]),
        optimizer=Optimizer(optimizer["kind"], float(optimizer["lr"]), tuple(betas) if betas else None),
        d_steps=int(raw.get("d_steps", 1)),
        kwargs=MappingProxyType(dict(raw.get("kwargs", {}))),
    )


def _check_trained_model(check: dict[str, Any], roles: list[str], fail: Callable[[str, str], TaskSchemaError]) -> None:
    """A trained_model check loads into the name playing `generator` and scores its figures against thresholds."""
    if "generator" not in roles:
        raise fail("names", f"check {check['id']!r} (trained_model) needs a name in the role generator")
    quality = check.get("params", {}).get("quality")
    if not isinstance(quality, dict) or not quality:
        raise fail("checks", f"{check['id']}: params.quality, the thresholds of each figure scored, is required")
    for figure, band in quality.items():
        if not (isinstance(band, dict) and {"zero", "full"} <= set(band)):
            raise fail("checks", f"{check['id']}: params.quality.{figure} needs zero and full")


def _check_manual_points(folder: Path, raw: dict[str, Any], fail: Any) -> None:
    """The manual check's points equal the sum of the question headings in questions.md."""
    manual = [check for check in raw["checks"] if check["kind"] == "manual"]
    questions = folder / "questions.md"
    if not manual:
        if questions.is_file():
            raise fail("checks", "questions.md exists but no check has kind 'manual'")
        return
    if not questions.is_file():
        raise fail("checks", f"a 'manual' check needs {questions}")
    headings = QUESTION_HEADING.findall(questions.read_text(encoding="utf-8"))
    stated = sum(float(points) for _, points in headings)
    expected = sum(check["points"] for check in manual)
    if stated != expected:
        raise fail("checks", f"manual points {expected:g} differ from the {stated:g} points in questions.md")


def load_catalogue(tasks_dir: Path = TASKS_DIR) -> dict[str, Task]:
    """Every task under `tasks_dir`, by id, in folder order."""
    folders = sorted(p.parent for p in tasks_dir.glob("*/task.toml"))
    return {folder.name: load_task(folder) for folder in folders}


def documented_required(signature: str) -> list[str]:
    """The plain parameter names of the call before any `;` or `->` (`f(x, y, lam=10.0) -> T`: x and y), which
    the grader passes by position; `documented_optional` gives the rest."""
    call = ast.parse(signature.split(";")[0].split("->")[0].strip(), mode="eval").body
    return [argument.id for argument in getattr(call, "args", []) if isinstance(argument, ast.Name)]
