"""The review app through Flask's test client: pages, saves and what it refuses (no browser needed)."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient

from grader.gradebook import GRADEBOOK_NAME, GradebookError, anonymous_ids, answers
from grader.review.app import NAMES_COOKIE, create_app
from tests.grader.review.conftest import CATALOGUE, HOSTILE_ANSWERS


def client(out: Path) -> FlaskClient:
    return create_app(out, CATALOGUE).test_client()


def anonymous(out: Path, submission: str) -> str:
    return anonymous_ids(out / GRADEBOOK_NAME)[submission]


def save(web: FlaskClient, out: Path, submission: str, question: str, **body: object):
    body = {"points": 1.0, "comment": "", "rubric": [], "version": 0} | body
    return web.post(f"/api/grade/optimal_d/{question}/{anonymous(out, submission)}", json=body)


def test_the_index_lists_every_question_with_its_progress(fresh_class: Path) -> None:
    page = client(fresh_class).get("/").get_data(as_text=True)
    assert "0 / 6 answers graded" in page
    assert page.count('class="question-link"') == 3 and "Derive the optimal discriminator" in page
    assert "perfect" not in page and "written_answers" not in page  # names hidden by default


def test_an_answer_page_shows_rubric_answer_report_pdf_and_hides_the_name(fresh_class: Path) -> None:
    web, who = client(fresh_class), anonymous(fresh_class, "written_answers")
    page = web.get(f"/grade/optimal_d/Q1/{who}").get_data(as_text=True)
    assert page.count('class="item"') == 4 and "The correct formula with the steps missing" in page
    assert 'class="math' in page and "written_answers" not in page and who in page
    assert f"/documents/{who}/report.pdf" in page
    pdf = web.get(f"/documents/{who}/report.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF-")
    web.set_cookie(NAMES_COOKIE, "shown")
    assert "written_answers" in web.get(f"/grade/optimal_d/Q1/{who}").get_data(as_text=True)


def test_a_save_is_in_the_gradebook_at_once_and_a_stale_one_is_refused(fresh_class: Path) -> None:
    web = client(fresh_class)
    reply = save(web, fresh_class, "perfect", "Q2", points=2.0, comment="fine", rubric=[0, 1])
    assert reply.status_code == 200 and reply.json == {
        "version": 1, "graded": 1, "total": 2, "all_graded": 1, "all_total": 6
    }  # fmt: skip
    (kept,) = [a for a in answers(fresh_class / GRADEBOOK_NAME) if a.points is not None]
    assert (kept.submission, kept.question, kept.points, kept.comment, kept.rubric) == (
        "perfect", "Q2", 2.0, "fine", (0, 1)
    )  # fmt: skip
    stale = save(web, fresh_class, "perfect", "Q2", points=0.0, version=0)
    assert stale.status_code == 409 and "reload it before saving" in stale.json["error"]
    assert [a.points for a in answers(fresh_class / GRADEBOOK_NAME) if a.points is not None] == [2.0]


@pytest.mark.parametrize("points", [-0.5, 3.5, float("inf"), "2", [1]])
def test_points_out_of_range_or_not_numbers_are_refused_and_nothing_is_written(fresh_class: Path, points) -> None:
    reply = save(client(fresh_class), fresh_class, "perfect", "Q2", points=points)
    assert reply.status_code == 400 and reply.json["error"]
    assert all(a.points is None and a.version == 0 for a in answers(fresh_class / GRADEBOOK_NAME))


def test_requests_the_app_must_not_take(fresh_class: Path) -> None:
    web, who = client(fresh_class), anonymous(fresh_class, "perfect")
    form = web.post(f"/api/grade/optimal_d/Q1/{who}", data={"points": "1", "version": "0"})
    assert form.status_code == 400  # a plain form from another site cannot save
    assert web.get("/", headers={"Host": "evil.example:8000"}).status_code == 403  # DNS rebinding
    assert web.get("/grade/optimal_d/Q1/S-000000").status_code == 404
    assert web.get(f"/documents/{who}/..%2F{GRADEBOOK_NAME}").status_code == 404
    assert web.get(f"/documents/{who}/../../{GRADEBOOK_NAME}").status_code == 404
    names = web.get("/names/shown?back=//evil.example/")
    assert names.status_code == 302 and names.headers["Location"] == "/"
    policy = web.get("/").headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "script-src" not in policy  # scripts: 'self' only, none inline


def test_a_hostile_answer_is_text_on_the_page(hostile_class: Path) -> None:
    web, who = client(hostile_class), anonymous(hostile_class, "<b>mallory</b>")
    page = web.get(f"/grade/optimal_d/Q1/{who}").get_data(as_text=True)
    assert "<script>window.pwned" not in page and "&lt;script&gt;window.pwned = 1&lt;/script&gt;" in page
    assert "<img" not in page and "<strong>bold</strong>" in page
    page = web.get(f"/grade/optimal_d/Q3/{who}").get_data(as_text=True)
    assert 'href="javascript:' not in page and HOSTILE_ANSWERS["Q3"][:8] in page
    web.set_cookie(NAMES_COOKIE, "shown")
    assert "&lt;b&gt;mallory&lt;/b&gt;" in web.get(f"/grade/optimal_d/Q1/{who}").get_data(as_text=True)


def test_a_folder_without_a_gradebook_is_refused_with_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(GradebookError, match="grade the class with"):
        create_app(tmp_path, CATALOGUE)
