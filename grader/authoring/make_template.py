"""Build `student_template/` from `reference/` and `tasks/`.

The result holds, per task, the stubbed student file and its notebook; the public sanity tests
(`tasks/<id>/public_tests.py` → `tests/test_<id>.py`, with their shared `tasks/public_checks.py`); and a copy
of the `gankit` helpers a student's code imports (`common`, `data`), so the folder works on its own. It is
built in a scratch folder and moved into place only when every file succeeded, so a marker error writes
nothing.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import nbformat

from gankit.catalogue import TASKS_DIR, load_catalogue
from grader.authoring.notebook import build_notebook
from grader.authoring.template import strip_solutions

PROJECT_DIR = TASKS_DIR.parent
REFERENCE_DIR = PROJECT_DIR / "reference"
TEMPLATE_DIR = PROJECT_DIR / "student_template"
AUTHORING_TEMPLATES = Path(__file__).resolve().parent / "templates"  # the student README
GANKIT_FILES = ("__init__.py", "common.py", "data.py")  # what student code and notebooks import

CONFTEST = '''"""Put the folder with your task files first on the import path, so `import cdcgan` finds yours."""

import sys
from pathlib import Path

import torch
from threadpoolctl import threadpool_limits  # comes with scikit-learn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
# The tests' networks are tiny: one thread is fastest, and several threads on a busy machine fight over the
# cores and can make a step a hundred times slower.
torch.set_num_threads(1)
threadpool_limits(1)
'''
PYTEST_INI = "[pytest]\ntestpaths = tests\naddopts = -ra\n"


def render_template(reference_dir: Path = REFERENCE_DIR, tasks_dir: Path = TASKS_DIR) -> dict[str, str]:
    """Every file of the template as {relative path: text}, without touching the disk."""
    files: dict[str, str] = {}
    for task in load_catalogue(tasks_dir).values():
        reference = reference_dir / task.student_file
        stub = strip_solutions(reference.read_text(encoding="utf-8"), task.student_file)
        files[task.student_file] = stub
        files[f"{task.id}.ipynb"] = nbformat.writes(build_notebook(task, stub)) + "\n"
        public_tests = task.folder / "public_tests.py"
        if public_tests.is_file():
            files[f"tests/test_{task.id}.py"] = public_tests.read_text(encoding="utf-8")
    shared_checks = tasks_dir / "public_checks.py"  # helpers the public tests of several tasks share
    if shared_checks.is_file():
        files["tests/public_checks.py"] = shared_checks.read_text(encoding="utf-8")
    gankit_dir = PROJECT_DIR / "gankit"
    for name in GANKIT_FILES:
        files[f"gankit/{name}"] = (gankit_dir / name).read_text(encoding="utf-8")
    files["tests/conftest.py"] = CONFTEST
    files["pytest.ini"] = PYTEST_INI
    files["README.md"] = (AUTHORING_TEMPLATES / "student_readme.md").read_text(encoding="utf-8")
    return files


def write_template(
    out: Path = TEMPLATE_DIR, reference_dir: Path = REFERENCE_DIR, tasks_dir: Path = TASKS_DIR
) -> list[str]:
    """Replace `out` with a freshly rendered template; returns the relative paths written."""
    files = render_template(reference_dir, tasks_dir)
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".template-", dir=out.parent))
    try:
        for relative, text in files.items():
            path = scratch / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        scratch.chmod(0o755)  # mkdtemp makes it private; the template is meant to be shared
        if out.exists():
            shutil.rmtree(out)
        scratch.rename(out)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return sorted(files)
