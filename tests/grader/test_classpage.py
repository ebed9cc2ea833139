"""The class page OUT/index.html: the headline, the plots inline, the checks that fail most first, the manual
grading progress, report links that resolve, escaped names, the training section only when there are figures,
atomic rewrites beside other writers, and `grade_batch` writing it (a failed page never fails a grade)."""

from __future__ import annotations

import threading
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import pytest

from gankit.catalogue import Check, load_catalogue
from grader import grade
from grader.authoring.examples import EXAMPLES_DIR
from grader.classpage import write_class_page
from grader.grade import grade_batch
from grader.gradebook import GRADEBOOK_NAME, grade_question, record
from grader.report import write_outputs
from grader.results import CheckResult, GradeOptions, GradeReport

INTERFACE = Check("interface", "interface", 1.0, "the names")
LOSS = Check("d_loss", "loss_formula", 2.0, "the loss")
STEP = Check("step", "train_step", 4.0, "the step")
TRAINING = Check("training_quality", "training_quality", 6.0, "the training")
PNG = "data:image/png;base64,"


class Page(HTMLParser):
    """The parts of the page the tests read: each table's rows of cell texts (by the table's id), every link,
    every image source, and the ids of the sections."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.links: list[str] = []
        self.images: list[str] = []
        self.sections: list[str] = []
        self._table: str | None = None
        self._cell: list[str] | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "table":
            self._table = found.get("id") or ""
            self.tables[self._table] = []
        elif tag == "tr" and self._table is not None:
            self.tables[self._table].append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "a":
            self.links.append(found["href"] or "")
        elif tag == "img":
            self.images.append(found["src"] or "")
        elif tag == "section":
            self.sections.append(found.get("id") or "")
        elif tag == "br" and self._cell is not None:
            self._cell.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._table is not None:
            self.tables[self._table][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def graded(name: str, loss: float, step: float, quality: float | None = 0.5, interface: float = 1.0) -> GradeReport:
    """A complete grade of one submission; `quality` None: a --no-train run (the training check not graded)."""
    report = GradeReport(name=name, options=GradeOptions(), complete=True)
    report.results = [
        CheckResult("gan", INTERFACE, "passed" if interface == 1 else "failed", interface, "names"),
        CheckResult("gan", LOSS, "passed" if loss == 2 else "partial", loss, "a sentence"),
        CheckResult("gan", STEP, "passed" if step == 4 else "failed", step, "another"),
    ]
    if quality is None:
        report.not_graded = [{"task": "gan", "check": "training_quality", "points": 6.0, "why": "--no-train"}]
    else:
        figures = {"conditional_accuracy": quality, "fid_ratio": 200 * (1 - quality)}
        report.results.append(CheckResult("gan", TRAINING, "partial", 6 * quality, "trained", details=figures))
    report.manual = [{"task": "gan", "check": "written", "points": 5.0, "questions": [
        {"id": "Q1", "points": 2.0, "answer": "because"},
        {"id": "Q2", "points": 3.0, "answer": ""},
    ]}]  # fmt: skip
    return report


def add(out: Path, submission: str, report: GradeReport) -> None:
    """What `grade` leaves for one submission of a batch: its folder's results.json and report.html, and its
    rows in the gradebook."""
    write_outputs(report, out / submission)
    record(out / GRADEBOOK_NAME, submission, report)


def a_class(out: Path, train: bool = True) -> None:
    """Three submissions: ann and bob graded (the step is the check that fails most), cat refused."""
    add(out, "ann", graded("ann.zip", loss=2.0, step=2.0, quality=0.8 if train else None))
    add(out, "bob", graded("bob.zip", loss=1.0, step=0.0, quality=0.3 if train else None, interface=0.0))
    refused = GradeReport(name="cat.zip", options=GradeOptions(), refused="not a zip file", complete=True)
    add(out, "cat", refused)
    grade_question(out / GRADEBOOK_NAME, "ann", "gan", "Q1", 2.0, "good", version=0)


def test_the_page_shows_the_class_worst_checks_first(tmp_path: Path) -> None:
    a_class(tmp_path)
    page = Page(write_class_page(tmp_path).read_text(encoding="utf-8"))
    assert page.sections == ["distribution", "checks", "training", "progress", "submissions"]
    # histogram, check bars, and one strip plot per training figure, all inline
    assert len(page.images) == 4 and all(src.startswith(PNG) and len(src) > 1000 for src in page.images)

    header, *checks = page.tables["checks-table"]
    assert header[0] == "check"
    # step: ann 2 and bob 0 of 4; interface: 1 and 0 of 1; training: 4.8 and 1.8 of 6; d_loss: 2 and 1 of 2
    assert [row[0] for row in checks] == ["gan/step", "gan/interface", "gan/training_quality", "gan/d_loss"]
    assert checks[0] == ["gan/step", "4", "25%", "0%", "1"]
    assert checks[-1] == ["gan/d_loss", "2", "75%", "50%", "1"]  # the refused submission was not graded on it

    progress = {row[0]: row[2] for row in page.tables["progress-table"][1:]}
    assert progress == {"gan/Q1": "1 / 2 graded", "gan/Q2": "0 / 2 graded"}

    _, *rows = page.tables["submissions-table"]
    assert [(row[0], row[4]) for row in rows] == [
        ("ann.zip", "complete"),
        ("bob.zip", "complete"),
        ("cat.zip", "refused not a zip file"),
    ]
    assert [row[3] for row in rows] == ["11.8", "2.8", "0"]  # ann: 1 + 2 + 2 + 4.8 automatic, 2 for Q1
    assert len(page.links) == 3
    for link in page.links:
        assert (tmp_path / unquote(link)).is_file()


def test_the_check_that_always_fails_comes_first_whatever_its_place(tmp_path: Path) -> None:
    for number in range(3):
        add(tmp_path, f"s{number}", graded(f"s{number}.zip", loss=0.0, step=4.0))  # everyone fails d_loss
    checks = Page(write_class_page(tmp_path).read_text(encoding="utf-8")).tables["checks-table"][1:]
    assert checks[0] == ["gan/d_loss", "2", "0%", "0%", "0"]


def test_names_are_text_and_odd_folder_names_still_link(tmp_path: Path) -> None:
    odd = "<img src=x onerror=alert(1)> #1 %41"  # a folder name: no slash, but markup, a fragment and a percent
    add(tmp_path, odd, graded("<script>x</script>.zip", loss=2.0, step=4.0))
    add(tmp_path, "ann", graded("ann.zip", loss=2.0, step=4.0))
    html = write_class_page(tmp_path).read_text(encoding="utf-8")
    assert "<script>x</script>" not in html and "<img src=x" not in html
    assert "&lt;script&gt;x&lt;/script&gt;.zip" in html
    page = Page(html)
    assert [row[0] for row in page.tables["submissions-table"][1:]] == ["<script>x</script>.zip", "ann.zip"]
    assert all((tmp_path / unquote(link)).is_file() for link in page.links) and len(page.links) == 2
    assert (tmp_path / unquote(page.links[0])).parent.name == odd


def test_no_training_section_without_figures_and_one_submission_links_its_own_report(tmp_path: Path) -> None:
    report = graded("alone.zip", loss=2.0, step=0.0, quality=None)
    write_outputs(report, tmp_path)  # graded alone: its folder is OUT itself
    record(tmp_path / GRADEBOOK_NAME, "alone", report)
    page = Page(write_class_page(tmp_path).read_text(encoding="utf-8"))
    assert "training" not in page.sections and len(page.images) == 2
    assert page.links == ["report.html"]
    training = [row for row in page.tables["checks-table"] if row[0] == "gan/training_quality"]
    assert training == [["gan/training_quality", "6", "—", "—", "1"]]


def test_rewrites_beside_each_other_never_leave_a_torn_page(tmp_path: Path) -> None:
    a_class(tmp_path)
    write_class_page(tmp_path)
    torn: list[int] = []
    errors: list[BaseException] = []
    writing = True

    def write() -> None:
        try:
            write_class_page(tmp_path)
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    def read() -> None:
        while writing:
            text = (tmp_path / "index.html").read_text(encoding="utf-8")
            if not (text.startswith("<!doctype html>") and text.rstrip().endswith("</html>")):
                torn.append(len(text))
            time.sleep(0.001)  # often enough to catch a half-written file, without starving the writers

    reader = threading.Thread(target=read)
    reader.start()
    writers = [threading.Thread(target=write) for _ in range(3)]
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join()
    writing = False
    reader.join()
    assert not errors and not torn
    assert not [path.name for path in tmp_path.iterdir() if path.name.endswith(".tmp")]


def test_grade_batch_writes_the_page_and_a_failed_page_fails_no_grade(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    zips = [EXAMPLES_DIR / "perfect.zip", EXAMPLES_DIR / "saturating_generator_loss.zip"]
    options = GradeOptions(tasks=("optimal_d",), train=False)

    def broken(out: Path) -> Path:
        raise OSError("disk full\nsecond line")

    monkeypatch.setattr(grade, "write_class_page", broken)
    reports = grade_batch(zips, load_catalogue(), options, tmp_path, jobs=2)
    assert all(report.complete and report.score > 0 for report in reports)
    warnings = [line for line in capsys.readouterr().err.splitlines() if "class page" in line]
    # one page after each graded submission (none more at the end: the last one's is that)
    assert len(warnings) == 2 and all("OSError: disk full second line" in line for line in warnings)
    assert not (tmp_path / "index.html").exists()

    monkeypatch.undo()
    grade_batch(zips, load_catalogue(), options, tmp_path, jobs=2)  # every submission resumed: the page still comes
    page = Page((tmp_path / "index.html").read_text(encoding="utf-8"))
    rows = page.tables["submissions-table"][1:]
    assert [row[0] for row in rows] == ["perfect.zip", "saturating_generator_loss.zip"]
    scores = {report.name: f"{report.score:g}" for report in reports}
    assert all(row[1] == scores[row[0]] for row in rows)
    assert page.links == ["perfect/report.html", "saturating_generator_loss/report.html"]
    assert all((tmp_path / link).is_file() for link in page.links)
    assert "training" not in page.sections
