import importlib
import shutil
import subprocess
import sys
from xml.etree import ElementTree

import matplotlib
import nbformat
import numpy as np
import pytest

from gankit.catalogue import load_catalogue
from gankit.questions import read_questions
from grader.authoring.make_template import REFERENCE_DIR, TEMPLATE_DIR, render_template, write_template
from grader.authoring.notebook import ANSWER_TAG, METADATA_KEY, SKIP_TAG, split_code
from grader.authoring.template import MarkerError, solution_text

TASKS = load_catalogue()


@pytest.fixture(scope="module")
def rendered():
    return render_template()


def test_committed_template_equals_a_fresh_regeneration(rendered):
    on_disk = {
        str(path.relative_to(TEMPLATE_DIR)): path.read_text(encoding="utf-8")
        for path in TEMPLATE_DIR.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and ".pytest_cache" not in path.parts
    }
    assert sorted(on_disk) == sorted(rendered), "run `grade make-template` and commit student_template/"
    stale = [name for name in rendered if on_disk[name] != rendered[name]]
    assert not stale, f"student_template/ is out of date in {stale}: run `grade make-template` and commit it"


def test_regeneration_is_deterministic(rendered):
    assert render_template() == rendered


@pytest.mark.parametrize("task_id", sorted(TASKS))
def test_no_solution_text_reaches_the_template(rendered, task_id):
    source = (REFERENCE_DIR / TASKS[task_id].student_file).read_text()
    # Short lines (`)`, `nn.ReLU(),`) are code anyone writes; the long ones are the solution. A line the
    # instructor shows on purpose (statement, public tests, training cell) is given, not leaked.
    given = "".join(task.statement for task in TASKS.values())
    given += "".join(text for name, text in rendered.items() if name.startswith("tests/"))
    for name in (name for name in rendered if name.endswith(".ipynb")):
        cells = nbformat.reads(rendered[name], as_version=4).cells
        given += "".join(c.source for c in cells if SKIP_TAG in c.metadata.get("tags", []))
    hidden = [line for line in solution_text(source, f"{task_id}.py") if len(line.replace(" ", "")) >= 16]
    assert hidden, "the reference has no solution regions"
    for name, text in rendered.items():
        leaked = [line for line in hidden if line in text and line not in given]
        assert not leaked, f"{name} shows solution lines of {task_id}.py: {leaked[:3]}"


@pytest.mark.parametrize("task_id", sorted(TASKS))
def test_notebook_has_statement_code_answers_and_skipped_training(rendered, task_id):
    task = TASKS[task_id]
    notebook = nbformat.reads(rendered[f"{task_id}.ipynb"], as_version=4)
    nbformat.validate(notebook)
    assert notebook.metadata[METADATA_KEY]["task"] == task_id
    assert notebook.cells[0].source == task.statement
    tagged = [(c, c.metadata.get("tags", [])) for c in notebook.cells]
    graded_code = [c.source for c, tags in tagged if c.cell_type == "code" and SKIP_TAG not in tags]
    assert graded_code == split_code(rendered[task.student_file])
    answers = [c.metadata[METADATA_KEY]["question"] for c, tags in tagged if ANSWER_TAG in tags]
    assert answers == [question.id for question in read_questions(task.questions)]
    assert "**Rubric**" not in rendered[f"{task_id}.ipynb"]
    skipped = [c for c in notebook.cells if SKIP_TAG in c.metadata.get("tags", [])]
    assert len(skipped) == (1 if task.training else 0)
    for cell in skipped:
        compile(cell.source, f"{task_id} training cell", "exec")


def test_split_code_keeps_decorators_and_comments_with_their_definition():
    header = "import torch\n\nX = 1"
    function = "# why f exists\n@torch.no_grad()\ndef f():\n    return X"
    assert split_code(f"{header}\n\n\n{function}\n\n\nclass A:\n    pass\n") == [header, function, "class A:\n    pass"]


def test_a_marker_error_writes_nothing(tmp_path):
    broken = tmp_path / "reference"
    shutil.copytree(REFERENCE_DIR, broken)
    (broken / "wgan.py").write_text((broken / "wgan.py").read_text().replace("# END SOLUTION", "", 1))
    out = tmp_path / "template"
    out.mkdir()
    (out / "keep.txt").write_text("untouched")
    with pytest.raises(MarkerError, match=r"wgan.py:\d+: BEGIN SOLUTION inside the region opened at line"):
        write_template(out, reference_dir=broken)
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".template-")] == []


def run_public_tests(folder):
    """Run the template's own pytest in `folder`; returns (exit code, [(test name, failure message or None)])."""
    report = folder / "report.xml"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={report}", "tests"],
        cwd=folder, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    cases = ElementTree.parse(report).getroot().iter("testcase")
    outcomes = [(case.get("name"), next((f.get("message") for f in case.iter("failure")), None)) for case in cases]
    return result.returncode, outcomes


@pytest.mark.slow
def test_public_tests_fail_on_the_template_and_pass_on_the_reference(tmp_path):
    template = tmp_path / "student"
    write_template(template)
    code, outcomes = run_public_tests(template)
    assert code == 1 and len(outcomes) > 8 * 4
    not_todo = [
        (name, message) for name, message in outcomes if not (message or "").startswith("NotImplementedError: TODO in ")
    ]
    assert not not_todo, f"these tests do not fail on a TODO of the untouched template: {not_todo[:5]}"

    for task in TASKS.values():
        shutil.copy(REFERENCE_DIR / task.student_file, template / task.student_file)
    code, outcomes = run_public_tests(template)
    assert code == 0, [(name, message) for name, message in outcomes if message][:5]


@pytest.mark.slow
@pytest.mark.parametrize("task_id", sorted(t for t, task in TASKS.items() if task.training is not None))
def test_training_cell_runs_against_the_reference(rendered, task_id):
    matplotlib.use("Agg")
    notebook = nbformat.reads(rendered[f"{task_id}.ipynb"], as_version=4)
    (cell,) = [c for c in notebook.cells if SKIP_TAG in c.metadata.get("tags", [])]
    source = cell.source.replace("STEPS, BATCH_SIZE = 2000, 64", "STEPS, BATCH_SIZE = 2, 8")
    assert source != cell.source
    namespace = dict(vars(importlib.import_module(f"reference.{task_id}")))
    exec(compile(source, f"{task_id} training cell", "exec"), namespace)
    assert len(namespace["history"]) == 2 and np.isfinite(namespace["history"][-1]["loss_D"])
