"""Written questions read from questions.md: prompts, rubric items with their points, notes."""

from __future__ import annotations

import pytest

from gankit.catalogue import load_catalogue
from gankit.questions import RubricItem, read_questions

MARKDOWN = """# Written questions

## Q1 (3 points) Derive it

Show every step of $D^*$.

**Rubric**
- 1 point: the change of variables
  $\\mathbb{E}_z \\to \\mathbb{E}_{x \\sim p_G}$.
- 2 points: the pointwise maximum.
- The formula alone earns at most 1 point.

## Q2 (0.5 points) A name

What does DC stand for?
"""


def test_prompt_items_and_notes_are_read_apart() -> None:
    first, second = read_questions(MARKDOWN)
    assert (first.id, first.points, first.title) == ("Q1", 3.0, "Derive it")
    assert first.prompt.startswith("## Q1 (3 points) Derive it") and "Rubric" not in first.prompt
    assert first.items == (
        RubricItem(1.0, "the change of variables $\\mathbb{E}_z \\to \\mathbb{E}_{x \\sim p_G}$."),
        RubricItem(2.0, "the pointwise maximum."),
    )
    assert first.notes == ("The formula alone earns at most 1 point.",)
    assert (second.id, second.points, second.items, second.notes) == ("Q2", 0.5, (), ())
    assert second.prompt.endswith("What does DC stand for?")


@pytest.mark.parametrize(
    "task", [task for task in load_catalogue().values() if task.questions], ids=lambda task: task.id
)
def test_every_rubric_adds_up_to_its_question(task) -> None:
    questions = read_questions(task.questions)
    assert questions
    for question in questions:
        assert question.items, f"{task.id} {question.id} has no rubric items"
        assert sum(item.points for item in question.items) == question.points, f"{task.id} {question.id}"
