"""What students see on Gradescope: public checks visible, the others hidden as chosen and named in the top-level
output, every output escaped Markdown, the leaderboard from conditional tasks' training figures, and a
results.json that follows Gradescope's specification (the JSON Schema) with the score the sum of the tests."""

from __future__ import annotations

import copy

import jsonschema
import pytest

from gankit.catalogue import load_catalogue
from grader.gradescope.results import Visibility, escape_markdown, for_gradescope, leaderboard, validate
from grader.report import results_json
from grader.results import CheckResult, GradeOptions, GradeReport

CATALOGUE = load_catalogue()
CDCGAN = CATALOGUE["cdcgan"]
PUBLIC = next(check for check in CDCGAN.checks if check.public and check.kind != "manual")
HIDDEN = next(check for check in CDCGAN.checks if not check.public and check.kind not in ("manual", "training_quality"))
TRAINING = next(check for check in CDCGAN.checks if check.kind == "training_quality")


def graded(message: str = "fine") -> dict:
    report = GradeReport(name="ann.zip", options=GradeOptions(tasks=("cdcgan",)), complete=True)
    report.results = [
        CheckResult("cdcgan", PUBLIC, "passed", PUBLIC.points, message),
        CheckResult("cdcgan", HIDDEN, "failed", 0.0, "a fault"),
        CheckResult(
            "cdcgan",
            TRAINING,
            "partial",
            TRAINING.points / 2,
            "trained",
            details={"conditional_accuracy": 0.61234567, "fid_ratio": 1.8, "steps": 3000},
        ),
    ]
    return results_json(report)


def test_public_checks_are_visible_and_the_others_hidden_as_chosen() -> None:
    for hidden in ("after_due_date", "hidden"):
        shown = for_gradescope(graded(), CATALOGUE, Visibility(hidden=hidden))
        visibility = {test["extra_data"]["check"]: test["visibility"] for test in shown["tests"]}
        assert visibility == {PUBLIC.id: "visible", HIDDEN.id: hidden, TRAINING.id: hidden}
        assert f"2 hidden checks worth {HIDDEN.points + TRAINING.points:g} points" in shown["output"]
        assert f"cdcgan: {HIDDEN.id}".replace("_", "\\_") in shown["output"]
        assert shown["stdout_visibility"] == "hidden" and shown["visibility"] == "visible"
        assert {test["output_format"] for test in shown["tests"]} == {"md"}
        validate(shown)


def test_scores_and_extra_data_are_the_graders_own() -> None:
    plain = graded()
    shown = for_gradescope(plain, CATALOGUE, Visibility())
    assert shown["score"] == plain["score"] == PUBLIC.points + TRAINING.points / 2
    assert [test["score"] for test in shown["tests"]] == [test["score"] for test in plain["tests"]]
    assert shown["extra_data"] == plain["extra_data"] and [t["number"] for t in shown["tests"]] == ["1", "2", "3"]


def test_student_text_cannot_format_link_or_embed() -> None:
    hostile = "# big\n[click](javascript:alert(1)) <img src=x onerror=alert(1)> **bold** ![i](http://x/y.png)"
    shown = for_gradescope(graded(hostile), CATALOGUE, Visibility())["tests"][0]["output"]
    assert "\n" not in shown and shown.startswith("\\#")
    unescaped = [i for i, char in enumerate(shown) if char in "[]<>*!`_" and shown[i - 1 : i] != "\\"]
    assert not unescaped, [shown[i - 5 : i + 5] for i in unescaped]
    assert escape_markdown("1. a list") == "1\\. a list" and escape_markdown("- item") == "\\- item"


def test_the_leaderboard_ranks_accuracy_down_and_fid_ratio_up_only_when_asked() -> None:
    assert "leaderboard" not in for_gradescope(graded(), CATALOGUE, Visibility())
    shown = for_gradescope(graded(), CATALOGUE, Visibility(leaderboard=True))
    assert shown["leaderboard"] == [
        {"name": "cdcgan conditional accuracy", "value": 0.6123, "order": "desc"},
        {"name": "cdcgan fid_ratio", "value": 1.8, "order": "asc"},
    ]
    validate(shown)
    untrained = graded()
    untrained["tests"] = untrained["tests"][:2]
    assert leaderboard(untrained) == []


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("tests", 0, "status"), "partial"),
        (("tests", 0, "visibility"), "students"),
        (("tests", 0, "output_format"), "markdown"),
        (("tests", 0, "score"), "1"),
        (("stdout_visibility",), "shown"),
        (("tests", 0, "grade"), 1.0),
    ],
    ids=lambda part: str(part),
)
def test_the_schema_refuses_what_gradescope_does_not_take(path: tuple, value: object) -> None:
    shown = copy.deepcopy(for_gradescope(graded(), CATALOGUE, Visibility()))
    target = shown
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(jsonschema.ValidationError):
        validate(shown)


def test_a_score_that_is_not_the_sum_of_the_tests_is_refused() -> None:
    shown = for_gradescope(graded(), CATALOGUE, Visibility())
    shown["score"] += 1
    with pytest.raises(ValueError, match="not the sum"):
        validate(shown)
    del shown["score"]
    for test in shown["tests"]:
        del test["score"]
    with pytest.raises(jsonschema.ValidationError):
        validate(shown)  # neither a top-level score nor one on every test


def test_an_unknown_hidden_visibility_is_refused() -> None:
    with pytest.raises(ValueError, match="after_due_date"):
        Visibility(hidden="later")
