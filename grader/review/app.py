"""The review app: the written answers of a graded class, question by question, graded by hand in the browser.

Every page is built from the gradebook at request time, so two graders (or two tabs) see each other's saves on
their next page. A save is one `gradebook.grade_question` call: points outside [0, max] are refused, and so is a
save made from a version of the answer another save has replaced (the page says to reload).

Names are hidden unless the grader asks for them: pages and URLs carry the anonymous ids of
`gradebook.anonymous_ids`. The app only answers requests addressed to this machine (a page elsewhere cannot
reach it through DNS rebinding), saves only JSON bodies (a plain HTML form elsewhere cannot post one), and every
page forbids scripts and images from anywhere but the app itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask, Response, abort, redirect, render_template, request, send_from_directory, url_for
from werkzeug.wrappers.response import Response as BaseResponse

from gankit.catalogue import Task
from gankit.data import cache_dir
from gankit.questions import read_questions
from grader.gradebook import (
    GRADEBOOK_NAME,
    Answer,
    GradebookError,
    StaleEdit,
    anonymous_ids,
    answers,
    grade_question,
    submission_folder,
)
from grader.review.render import inline_html, markdown_html

KATEX_VERSION = "0.19.1"  # keep in step with setup.sh KATEX_NPM_VERSION
LOCAL_HOSTS = ("127.0.0.1", "localhost", "[::1]")
NAMES_COOKIE = "review-names"
CONTENT_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; font-src 'self' data:; "
    "object-src 'self'; frame-src 'self'; frame-ancestors 'self'; base-uri 'none'; form-action 'self'"
)


def katex_dir() -> Path:
    """Where setup.sh unpacked KaTeX's browser files."""
    return cache_dir() / "npm" / f"katex-{KATEX_VERSION}" / "package" / "dist"


@dataclass(frozen=True)
class Position:
    """One answer among all answers of the class, ordered question by question."""

    answers: list[Answer]
    index: int

    @property
    def answer(self) -> Answer:
        return self.answers[self.index]

    def of_question(self) -> list[Answer]:
        return [a for a in self.answers if (a.task, a.question) == (self.answer.task, self.answer.question)]

    def next_ungraded(self) -> Answer | None:
        """The first answer after this one, wrapping around the class, that has no points yet."""
        after = self.answers[self.index + 1 :] + self.answers[: self.index + 1]
        return next((a for a in after if a.points is None), None)

    def step(self, by: int) -> Answer:
        """The previous (-1) or next (+1) answer to the same question, wrapping around."""
        same = self.of_question()
        return same[(same.index(self.answer) + by) % len(same)]


def create_app(out: Path, catalogue: dict[str, Task], katex: Path | None = None) -> Flask:
    """The review app for the class graded into `out`; the rubrics come from `catalogue`'s questions.md."""
    book = out / GRADEBOOK_NAME
    if not book.is_file():
        raise GradebookError(f"no gradebook at {book}: grade the class with `grade ... --out {out}` first")
    anonymous_ids(book)  # refuses a foreign or older file now, before the first page is asked for
    katex = katex or katex_dir()
    questions = {(task.id, q.id): q for task in catalogue.values() for q in read_questions(task.questions or "")}
    app = Flask(__name__)

    def ordered() -> list[Answer]:
        """Every answer, question by question; within a question by anonymous id, which says nothing of names."""
        everything, by_name = answers(book), ids()[0]
        first = {key: place for place, key in enumerate(dict.fromkeys((a.task, a.question) for a in everything))}
        return sorted(everything, key=lambda a: (first[(a.task, a.question)], by_name[a.submission]))

    def ids() -> tuple[dict[str, str], dict[str, str]]:
        by_name = anonymous_ids(book)
        return by_name, {anonymous: name for name, anonymous in by_name.items()}

    def shown(submission: str, by_name: dict[str, str]) -> str:
        return submission if request.cookies.get(NAMES_COOKIE) == "shown" else by_name[submission]

    def link(answer: Answer, by_name: dict[str, str]) -> str:
        return url_for("answer_page", task=answer.task, question=answer.question, anonymous=by_name[answer.submission])

    def find(task: str, question: str, anonymous: str) -> Position:
        everything = ordered()
        submission = ids()[1].get(anonymous)
        for index, answer in enumerate(everything):
            if (answer.submission, answer.task, answer.question) == (submission, task, question):
                return Position(everything, index)
        abort(404, f"no answer {task}/{question} of {anonymous} in this gradebook")

    @app.before_request
    def only_this_machine() -> None:
        if request.host.rsplit(":", 1)[0] not in LOCAL_HOSTS:
            abort(403, "the review app answers only requests addressed to 127.0.0.1 or localhost")

    @app.after_request
    def content_policy(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = CONTENT_POLICY
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "no-store"  # a reload always shows what the gradebook holds
        return response

    @app.get("/")
    def index() -> str:
        everything = ordered()
        by_name = ids()[0]
        rows = []
        for key in dict.fromkeys((a.task, a.question) for a in everything):
            same = [a for a in everything if (a.task, a.question) == key]
            first = next((a for a in same if a.points is None), same[0])
            graded = sum(a.points is not None for a in same)
            row = {"task": key[0], "id": key[1], "answers": same, "graded": graded, "href": link(first, by_name)}
            rows.append(row | {"question": questions.get(key)})
        return render_template(
            "index.html",
            rows=rows,
            graded=sum(a.points is not None for a in everything),
            total=len(everything),
            class_page=(out / "index.html").is_file(),
            names_shown=request.cookies.get(NAMES_COOKIE) == "shown",
        )

    @app.get("/grade/<task>/<question>/<anonymous>")
    def answer_page(task: str, question: str, anonymous: str) -> str:
        position = find(task, question, anonymous)
        answer = position.answer
        by_name = ids()[0]
        same = position.of_question()
        folder = submission_folder(out, answer.submission) / "documents"
        following = position.next_ungraded()
        return render_template(
            "answer.html",
            answer=answer,
            anonymous=anonymous,
            shown_as=shown(answer.submission, by_name),
            question=questions.get((task, question)),
            prompt=markdown_html(questions[(task, question)].prompt) if (task, question) in questions else "",
            answer_html=markdown_html(answer.answer) if answer.answer.strip() else None,
            render=inline_html,
            graded=sum(a.points is not None for a in same),
            total=len(same),
            all_graded=sum(a.points is not None for a in position.answers),
            all_total=len(position.answers),
            documents=sorted(p.name for p in folder.glob("*.pdf")) if folder.is_dir() else [],
            previous=link(position.step(-1), by_name),
            next=link(position.step(+1), by_name),
            next_ungraded=url_for("next_ungraded", task=task, question=question, anonymous=anonymous),
            has_next_ungraded=following is not None,
            names_shown=request.cookies.get(NAMES_COOKIE) == "shown",
        )

    @app.get("/next-ungraded/<task>/<question>/<anonymous>")
    def next_ungraded(task: str, question: str, anonymous: str) -> BaseResponse:
        # Decided when the key is pressed, not when the page was drawn: the answer just saved is graded now.
        following = find(task, question, anonymous).next_ungraded()
        return redirect(link(following, ids()[0]) if following else url_for("index", done=1))

    @app.post("/api/grade/<task>/<question>/<anonymous>")
    def save(task: str, question: str, anonymous: str) -> tuple[dict[str, Any], int]:
        body = request.get_json(silent=True) if request.is_json else None
        if not isinstance(body, dict):
            return {"error": "a save is a JSON object {points, comment, rubric, version}"}, 400
        submission = ids()[1].get(anonymous)
        points, comment, rubric, version = (body.get(key) for key in ("points", "comment", "rubric", "version"))
        if (
            submission is None
            or not (points is None or (isinstance(points, int | float) and math.isfinite(points)))
            or not isinstance(comment, str)
            or not (isinstance(rubric, list) and all(isinstance(item, int) for item in rubric))
            or not isinstance(version, int)
        ):
            return {"error": "not a save of this app: points must be a number or empty, version a whole number"}, 400
        try:
            new_version = grade_question(book, submission, task, question, points, comment, version, rubric)
        except StaleEdit as error:
            return {"error": str(error)}, 409
        except GradebookError as error:
            return {"error": str(error)}, 400
        everything = ordered()
        same = [a for a in everything if (a.task, a.question) == (task, question)]
        return {
            "version": new_version,
            "graded": sum(a.points is not None for a in same),
            "total": len(same),
            "all_graded": sum(a.points is not None for a in everything),
            "all_total": len(everything),
        }, 200

    @app.get("/documents/<anonymous>/<name>")
    def document(anonymous: str, name: str) -> Response:
        submission = ids()[1].get(anonymous)
        if submission is None or not name.endswith(".pdf"):
            abort(404)
        folder = submission_folder(out, submission) / "documents"
        return send_from_directory(folder, name, mimetype="application/pdf")  # refuses names leaving the folder

    @app.get("/class")
    def class_page() -> Response:
        return send_from_directory(out, "index.html")

    @app.get("/katex/<path:name>")
    def katex_file(name: str) -> Response:
        return send_from_directory(katex, name)

    @app.get("/names/<choice>")
    def names(choice: str) -> BaseResponse:
        back = request.args.get("back", "/")
        response = redirect(back if back.startswith("/") and not back.startswith(("//", "/\\")) else "/")
        response.set_cookie(NAMES_COOKIE, "shown" if choice == "shown" else "hidden", samesite="Strict")
        return response

    return app
