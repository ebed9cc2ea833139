"""Build a task's student notebook with nbformat: statement, code cells, answer cells, training cells.

Cell tags tell the grader what a cell is: `answer` (with `gan_grader.question` in the cell metadata) holds a
written answer, `skip-grading` marks a cell the grader leaves out (training, plotting). The notebook's own
metadata names its task, so a renamed notebook still maps to it.
"""

from __future__ import annotations

import re
from pathlib import Path

import jinja2
import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from gankit.catalogue import Task
from gankit.questions import read_questions
from gankit.training import GanSpec, optimizer_lines, train_step_line

ANSWER_TAG = "answer"
SKIP_TAG = "skip-grading"
METADATA_KEY = "gan_grader"
TOP_LEVEL = re.compile(r"^(?:@|def |class |async def )")
_templates = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    keep_trailing_newline=True,
    trim_blocks=True,
    lstrip_blocks=True,
    undefined=jinja2.StrictUndefined,
)


def split_code(source: str) -> list[str]:
    """The module as cells: its header (docstring, imports, constants), then one cell per top-level
    def or class, each with the comments and decorators just above it."""
    cells: list[list[str]] = [[]]
    for line in source.splitlines():
        starts_block = TOP_LEVEL.match(line) and not (cells[-1] and TOP_LEVEL.match(cells[-1][-1]))
        if starts_block:
            # Comment lines directly above a definition belong to it, not to the cell before.
            leading: list[str] = []
            while cells[-1] and cells[-1][-1].startswith("#"):
                leading.insert(0, cells[-1].pop())
            cells.append(leading)
        cells[-1].append(line)
    return [text for text in ("\n".join(cell).strip("\n") for cell in cells) if text]


def build_notebook(task: Task, template_source: str) -> nbformat.NotebookNode:
    """The student notebook of `task`, whose code is `template_source` (the stubbed student file)."""
    cells = [new_markdown_cell(task.statement)]
    cells.append(
        new_markdown_cell(
            f"## Your code\n\nFill in every `# TODO` below (the same code as `{task.student_file}`). The grader runs "
            f"every code cell except those tagged `{SKIP_TAG}`."
        )
    )
    cells += [new_code_cell(code) for code in split_code(template_source)]
    if task.training is not None:
        gan = GanSpec.of(task)
        cell = _templates.get_template("training_cell.py.j2").render(
            task=task,
            gan=gan,
            optimizer_lines=optimizer_lines(gan),
            step_call=train_step_line(gan, "reals" if gan.training.batched else "real", "real_labels"),
        )
        training = new_code_cell(cell.strip())
        training.metadata["tags"] = [SKIP_TAG]
        cells += [new_markdown_cell("## Train and look (skipped by the grader)"), training]
    if task.questions:
        cells.append(new_markdown_cell("## Written answers\n\nAnswer each question in the cell below it."))
        for question in read_questions(task.questions):
            answer = new_markdown_cell(f"*Your answer to {question.id}.*")
            answer.metadata["tags"] = [ANSWER_TAG]
            answer.metadata[METADATA_KEY] = {"question": question.id}
            cells += [new_markdown_cell(question.prompt), answer]
    notebook = new_notebook(cells=cells)
    notebook.metadata[METADATA_KEY] = {"task": task.id, "student_file": task.student_file}
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    for index, cell in enumerate(notebook.cells):
        cell["id"] = f"{task.id}-{index}"  # stable ids keep regeneration byte-for-byte deterministic
    nbformat.validate(notebook)
    return notebook
