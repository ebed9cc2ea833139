"""A ninth task, from only its task.toml, statement and reference module (tests/grader/new_task/): the template
is generated from it and the grader grades it, its names (`Gen`, `Disc`, `d_loss`, `g_loss`, `optimisers`,
`step`, `sample`) unlike any catalogue task's, with nothing under grader/ that knows it."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest

from gankit.catalogue import Task, load_catalogue
from grader.authoring.make_template import write_template
from grader.grade import grade_submission
from grader.results import GradeOptions, GradeReport

FIXTURE = Path(__file__).resolve().parent / "new_task"
GRADER = Path(__file__).resolve().parents[2] / "grader"
NAMES = ("cmnist", "Gen", "Disc", "d_loss", "g_loss", "optimisers")  # the ones no other task writes


@pytest.fixture(scope="module")
def ninth(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Task], Path]:
    """A catalogue of the ninth task alone, and the folder of its reference."""
    root = tmp_path_factory.mktemp("ninth")
    (root / "tasks" / "cmnist").mkdir(parents=True)
    for name in ("task.toml", "statement.md"):
        shutil.copy(FIXTURE / name, root / "tasks" / "cmnist" / name)
    (root / "reference").mkdir()
    shutil.copy(FIXTURE / "cmnist.py", root / "reference" / "cmnist.py")
    return load_catalogue(root / "tasks"), root / "reference"


def grade(catalogue: dict[str, Task], source: Path, out: Path) -> GradeReport:
    return grade_submission(source, catalogue, GradeOptions(), out)


def test_no_grader_module_knows_the_ninth_task() -> None:
    for path in GRADER.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not [name for name in NAMES if f'"{name}"' in text or f"'{name}'" in text], path


def test_its_template_is_generated_from_the_reference(ninth: tuple[dict[str, Task], Path], tmp_path: Path) -> None:
    catalogue, reference = ninth
    written = write_template(tmp_path / "template", reference, next(iter(catalogue.values())).folder.parent)
    assert {"cmnist.py", "cmnist.ipynb"} <= set(written)
    stub = (tmp_path / "template" / "cmnist.py").read_text(encoding="utf-8")
    assert "def step(" in stub and "opt_D.step()" not in stub and "NotImplementedError" in stub
    notebook = nbformat.read(tmp_path / "template" / "cmnist.ipynb", as_version=4)
    training = next(cell.source for cell in notebook.cells if "skip-grading" in cell.metadata.get("tags", []))
    # The training cell calls the ninth task's own names in its call form, from gankit.training.
    assert "G, D = Gen().to(device), Disc().to(device)" in training
    assert "opt_G, opt_D = optimisers(G, D)" in training
    assert "result = step(G, D, opt_G, opt_D, real, real_labels)" in training


def test_its_reference_gets_full_marks(ninth: tuple[dict[str, Task], Path], tmp_path: Path) -> None:
    catalogue, reference = ninth
    report = grade(catalogue, reference / "cmnist.py", tmp_path)
    assert {r.check.id for r in report.results} == {c.id for c in catalogue["cmnist"].checks}
    short = [(r.check.id, r.points, r.message) for r in report.results if r.points < r.max_points]
    assert not short and report.score == catalogue["cmnist"].total_points


def test_a_wrong_loss_costs_that_check_alone(ninth: tuple[dict[str, Task], Path], tmp_path: Path) -> None:
    """The fake term against target 1 instead of 0: d_loss loses at least half, every other check keeps all, the
    train_step check included (it runs with the trusted loss in d_loss's place)."""
    catalogue, reference = ninth
    source = (reference / "cmnist.py").read_text(encoding="utf-8")
    wrong = "F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))"
    faulty = source.replace("F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))", wrong)
    assert faulty != source
    (tmp_path / "submission").mkdir()
    (tmp_path / "submission" / "cmnist.py").write_text(faulty, encoding="utf-8")
    report = grade(catalogue, tmp_path / "submission" / "cmnist.py", tmp_path / "out")
    points = {r.check.id: (r.points, r.max_points) for r in report.results}
    assert points.pop("d_loss")[0] <= points_max(catalogue, "d_loss") / 2
    assert all(got == most for got, most in points.values()), points


def points_max(catalogue: dict[str, Task], check_id: str) -> float:
    return next(c.points for c in catalogue["cmnist"].checks if c.id == check_id)
