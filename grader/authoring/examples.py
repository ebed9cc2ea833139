"""The bundled example submissions: the reference as a perfect student, one typical mistake, and the reference
with written answers (good, partial, poor, empty) in the task notebooks and a report PDF, for the graders' tools.

Every example is byte-for-byte reproducible, so `grade make-examples` twice writes the same zips and a test can
tell when the committed ones drifted from what the sources give.
"""

from __future__ import annotations

import io
import tomllib
from dataclasses import dataclass
from pathlib import Path

import matplotlib.style
import nbformat
import numpy as np
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from gankit.catalogue import load_catalogue
from gankit.data import load_dataset
from gankit.plots import FASHION_MNIST_CLASSES
from grader.authoring.make_template import PROJECT_DIR, REFERENCE_DIR, TEMPLATE_DIR
from grader.authoring.notebook import ANSWER_TAG, METADATA_KEY
from grader.authoring.pack import write_zip

EXAMPLES_DIR = PROJECT_DIR / "examples"
# The written answers as data (Markdown with LaTeX), each with the points and rubric items a TA should give it.
ANSWERS_FILE = Path(__file__).resolve().parent / "example_answers.toml"
REPORT_NAME = "report.pdf"
# Fixed PDF metadata: no creation date, and no matplotlib version in the bytes.
PDF_METADATA = {"CreationDate": None, "Creator": "grade make-examples", "Producer": "matplotlib"}
GRID = 8  # the report's sample grid: GRID classes (rows) × GRID images
# The typical mistake: cdcgan's generator minimises the saturating log(1 − D(G(z))) (= −BCE against 0)
# where the non-saturating −log D(G(z)) is asked. Values look plausible; the gradient vanishes early on.
MISTAKE_FILE = "cdcgan.py"
MISTAKE = (
    "    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))\n",
    "    return -F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))\n",
)


def reference_submission() -> dict[str, bytes]:
    """Every task's reference file under its student file name."""
    return {task.student_file: (REFERENCE_DIR / task.student_file).read_bytes() for task in load_catalogue().values()}


@dataclass(frozen=True)
class ExampleAnswer:
    """One written answer of written_answers.zip and what a TA grading it by the task's rubric should give."""

    text: str  # the answer cell's Markdown, "" when left empty
    points: float
    rubric: tuple[int, ...]  # the rubric items it earns, by position (as `grader.gradebook.grade_question` takes)


def example_answers(path: Path = ANSWERS_FILE) -> dict[str, dict[str, ExampleAnswer]]:
    """The written answers of written_answers.zip: {task id: {question id: answer}}, from `path`."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return {
        task_id: {
            question: ExampleAnswer(entry["answer"].strip(), float(entry["points"]), tuple(entry["rubric"]))
            for question, entry in questions.items()
        }
        for task_id, questions in data.items()
    }


def answered_notebook(task_id: str, answers: dict[str, str], template_dir: Path = TEMPLATE_DIR) -> bytes:
    """The student template's notebook of `task_id` with its answer cells filled in from {question id: text}.
    ValueError unless the answers are exactly the notebook's questions: a question added to or removed from
    questions.md must be answered (or deliberately left "") in the answers file, not silently skipped."""
    notebook = nbformat.read(template_dir / f"{task_id}.ipynb", as_version=4)
    cells = {
        cell.metadata[METADATA_KEY]["question"]: cell
        for cell in notebook.cells
        if ANSWER_TAG in cell.metadata.get("tags", [])
    }
    if set(cells) != set(answers):
        raise ValueError(
            f"{ANSWERS_FILE.name} answers {sorted(answers)} for {task_id}, its notebook asks {sorted(cells)}"
        )
    for question, cell in cells.items():
        cell.source = answers[question]
    return nbformat.writes(notebook).encode("utf-8")


def _fashion_grid() -> np.ndarray:
    """The first GRID test images of each of the first GRID classes, one class per row, as one uint8 image."""
    images, labels = load_dataset("fashion-mnist", "test")
    # Back to the file's bytes, so the PDF does not depend on float rounding.
    pixels = ((images[:, 0] + 1) * 127.5).round().clamp(0, 255).byte().numpy()
    side = pixels.shape[-1]
    grid = np.zeros((GRID * side, GRID * side), dtype=np.uint8)
    for row in range(GRID):
        for column, image in enumerate(pixels[labels.numpy() == row][:GRID]):
            grid[row * side : (row + 1) * side, column * side : (column + 1) * side] = image
    return grid


def _made_up_losses() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Plausible cDCGAN loss curves (iteration, D loss, G loss) from fixed formulas: no random generator whose
    stream could change between library versions. D's loss has a bump around iteration 8,400, as the answers say."""
    iteration = np.arange(0, 30 * 469 + 1, 100, dtype=float)  # 30 epochs of 469 batches of 128
    k = np.arange(len(iteration), dtype=float)
    wobble = 0.06 * np.sin(0.9 * k) + 0.04 * np.sin(2.3 * k + 1.0)
    d_loss = 0.75 + 0.64 * np.exp(-iteration / 600) + 0.25 * np.exp(-(((iteration - 8400) / 500) ** 2)) + wobble
    g_loss = 1.55 - 0.85 * np.exp(-iteration / 900) + 0.10 * np.sin(0.6 * k + 0.5) + 0.05 * np.sin(3.1 * k)
    return iteration, d_loss, g_loss


def _samples_page() -> Figure:
    grid = _fashion_grid()
    side = grid.shape[0] // GRID
    page = Figure(figsize=(7.0, 8.0))
    axes = page.add_axes((0.22, 0.14, 0.72, 0.72))
    axes.imshow(grid, cmap="gray", vmin=0, vmax=255, interpolation="none")
    axes.set_xticks([])
    axes.set_yticks([(row + 0.5) * side for row in range(GRID)], FASHION_MNIST_CLASSES[:GRID])
    page.suptitle("Figure 1: cDCGAN samples after 30 epochs", fontsize=14)
    page.text(
        0.5,
        0.06,
        "One class per row (the label y), a fixed z per column.\n"
        "(In this example submission, real Fashion-MNIST test images stand in for the samples.)",
        ha="center",
        fontsize=9,
    )
    return page


def _losses_page() -> Figure:
    iteration, d_loss, g_loss = _made_up_losses()
    page = Figure(figsize=(7.0, 5.0))
    axes = page.add_axes((0.12, 0.25, 0.84, 0.65))
    axes.plot(iteration, d_loss, label="discriminator loss")
    axes.plot(iteration, g_loss, label="generator loss (non-saturating)")
    axes.axhline(np.log(4), color="gray", linestyle=":", label="log 4 (D's loss at the equilibrium)")
    axes.set_xlabel("iteration")
    axes.set_ylabel("BCE loss (mean over 100 iterations)")
    axes.legend()
    page.text(
        0.5,
        0.05,
        "Figure 2: losses while training the cDCGAN for 30 epochs. The bump in D's loss around\n"
        "iteration 8,400 (epoch 18) is when the sandals got worse for a few epochs (see Q1).",
        ha="center",
        fontsize=9,
    )
    return page


def report_pdf() -> bytes:
    """A student's two-page report: a titled grid of samples (real Fashion-MNIST test images stand in for a
    trained generator's) and a page of loss curves with labelled axes and a caption. The same bytes on every
    run: fixed data, fixed metadata, matplotlib's default style whatever the local matplotlibrc says."""
    buffer = io.BytesIO()
    with matplotlib.style.context("default"), PdfPages(buffer, metadata=PDF_METADATA) as pdf:
        pdf.savefig(_samples_page())
        pdf.savefig(_losses_page())
    return buffer.getvalue()


def written_answers_submission(perfect: dict[str, bytes]) -> dict[str, bytes]:
    """The reference code, the notebooks of the tasks in the answers file with their answers, and report.pdf.
    The notebooks' code cells stay the template's stubs: a task's .py wins for the code."""
    notebooks = {
        f"{task_id}.ipynb": answered_notebook(task_id, {question: a.text for question, a in answers.items()})
        for task_id, answers in example_answers().items()
    }
    return {**perfect, **notebooks, REPORT_NAME: report_pdf()}


def build_examples(out: Path = EXAMPLES_DIR) -> list[Path]:
    """Write perfect.zip, saturating_generator_loss.zip and written_answers.zip into `out`."""
    perfect = reference_submission()
    source = perfect[MISTAKE_FILE].decode()
    if source.count(MISTAKE[0]) != 1:
        raise ValueError(f"reference/{MISTAKE_FILE} changed: the line the mistake example edits is not there once")
    mistaken = {**perfect, MISTAKE_FILE: source.replace(MISTAKE[0], MISTAKE[1]).encode()}
    paths = [out / "perfect.zip", out / "saturating_generator_loss.zip", out / "written_answers.zip"]
    for path, files in zip(paths, (perfect, mistaken, written_answers_submission(perfect)), strict=True):
        write_zip(files, path)
    return paths
