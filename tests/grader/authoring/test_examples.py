"""The example that answers the written questions: its answers file agrees with the rubrics, the zip reads as a
submission with those answers and its report PDF, and grading it keeps the PDF and records the answers."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pytest

from gankit.catalogue import load_catalogue
from gankit.questions import read_questions
from grader.authoring.examples import (
    EXAMPLES_DIR,
    REPORT_NAME,
    answered_notebook,
    example_answers,
    reference_submission,
    report_pdf,
)
from grader.authoring.make_template import REFERENCE_DIR
from grader.grade import grade_batch
from grader.gradebook import GRADEBOOK_NAME, answers
from grader.results import GradeOptions
from grader.submission import DOCUMENTS_DIR, load_submission

CATALOGUE = load_catalogue()
EXAMPLE = EXAMPLES_DIR / "written_answers.zip"
ANSWERS = example_answers()


def test_the_example_answers_three_tasks_with_every_kind_of_answer() -> None:
    assert set(ANSWERS) == {"optimal_d", "cdcgan", "vanilla_gan"}
    scored = [
        (answer.points, _question(task, question).points)
        for task, questions in ANSWERS.items()
        for question, answer in questions.items()
        if answer.text
    ]
    assert any(points == most for points, most in scored), "no answer earns full marks"
    assert any(0 < points < most for points, most in scored), "no partial answer"
    assert any(points == 0 for points, _ in scored), "no poor answer"
    assert [(task, q) for task, qs in ANSWERS.items() for q, a in qs.items() if not a.text] == [("cdcgan", "Q3")]
    texts = [answer.text for questions in ANSWERS.values() for answer in questions.values()]
    assert any("$$" in text for text in texts) and any(re.search(r"(?<!\$)\$[^$]+\$(?!\$)", text) for text in texts)


def _question(task: str, question: str):
    return next(found for found in read_questions(CATALOGUE[task].questions or "") if found.id == question)


@pytest.mark.parametrize(
    ("task", "question"), [(task, question) for task, questions in ANSWERS.items() for question in questions]
)
def test_each_answers_points_are_its_rubric_items(task: str, question: str) -> None:
    expected, rubric = ANSWERS[task][question], _question(task, question)
    assert all(0 <= item < len(rubric.items) for item in expected.rubric), "a rubric position the question lacks"
    assert len(set(expected.rubric)) == len(expected.rubric)
    assert expected.points == sum(rubric.items[item].points for item in expected.rubric) <= rubric.points


def test_the_answers_must_be_exactly_the_notebooks_questions() -> None:
    with pytest.raises(ValueError, match=r"notebook asks \['Q1', 'Q2', 'Q3'\]"):
        answered_notebook("optimal_d", {"Q1": "an answer", "Q2": "another"})


def test_the_example_reads_with_its_answers_its_report_and_the_reference_code() -> None:
    submission = load_submission(EXAMPLE, CATALOGUE)
    assert submission.answers == {
        task: {question: answer.text for question, answer in questions.items()} for task, questions in ANSWERS.items()
    }
    assert submission.answers["cdcgan"]["Q3"] == ""
    assert "$$" in submission.answers["optimal_d"]["Q1"]
    # The .py files win over the notebooks' stubs, so the code graded is the reference.
    assert submission.sources["optimal_d"] == (REFERENCE_DIR / "optimal_d.py").read_text(encoding="utf-8")
    assert set(submission.sources) == set(CATALOGUE)
    assert list(submission.documents) == [REPORT_NAME]
    report = submission.documents[REPORT_NAME]
    assert report.startswith(b"%PDF-") and len(re.findall(rb"/Type /Page\b(?!s)", report)) == 2


def test_the_report_pdf_is_drawn_without_a_date() -> None:
    fresh = report_pdf()
    assert b"CreationDate" not in fresh, "a creation date would change the bytes on every build"
    assert b"Matplotlib v" not in fresh, "a version in the metadata would change the bytes with every matplotlib"
    assert fresh == report_pdf()


def test_the_example_is_the_reference_plus_notebooks_and_the_report() -> None:
    with zipfile.ZipFile(EXAMPLE) as archive:
        extra = sorted(set(archive.namelist()) - set(reference_submission()))
        assert all(archive.read(name) == data for name, data in reference_submission().items())
    assert extra == ["cdcgan.ipynb", "optimal_d.ipynb", REPORT_NAME, "vanilla_gan.ipynb"]


def test_grading_the_example_keeps_the_report_and_records_the_answers(tmp_path: Path) -> None:
    options = GradeOptions(tasks=("optimal_d",), train=False)
    (report,) = grade_batch([EXAMPLE], CATALOGUE, options, tmp_path)
    with zipfile.ZipFile(EXAMPLE) as archive:
        assert (tmp_path / DOCUMENTS_DIR / REPORT_NAME).read_bytes() == archive.read(REPORT_NAME)
    assert [path.name for path in tmp_path.rglob("*.pdf")] == [REPORT_NAME]
    note = f"{REPORT_NAME} kept for the graders as {DOCUMENTS_DIR}/{REPORT_NAME}"
    assert note in report.notes
    assert note in json.loads((tmp_path / "results.json").read_text())["extra_data"]["notes"]
    recorded = {(row.task, row.question): row.answer for row in answers(tmp_path / GRADEBOOK_NAME)}
    assert recorded == {("optimal_d", question): answer.text for question, answer in ANSWERS["optimal_d"].items()}
    assert all(result.status == "passed" for result in report.results)
