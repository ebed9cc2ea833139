"""A task's written questions as data, read from its `questions.md`: each `## Qn (p points) Title` section's
prompt (what the student notebook shows) and its rubric (what only graders see).

A rubric is the `**Rubric**` list of the section. A bullet that starts with `N point(s):` is an item a grader
ticks, worth N; any other bullet is a note on how to apply the items (a cap, a partial-credit rule).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gankit.catalogue import QUESTION_HEADING

RUBRIC_MARK = "**Rubric**"
ITEM = re.compile(r"^(?P<points>\d+(?:\.\d+)?)\s+points?:\s*(?P<text>.*)$", re.DOTALL)


@dataclass(frozen=True)
class RubricItem:
    points: float
    text: str  # Markdown with $...$ math


@dataclass(frozen=True)
class Question:
    id: str  # "Q1"
    points: float
    title: str  # the heading's text after the points: "Samples over the course of training"
    prompt: str  # the section's Markdown up to the rubric, its heading included
    items: tuple[RubricItem, ...] = ()
    notes: tuple[str, ...] = ()


def read_questions(markdown: str) -> list[Question]:
    """Every `## Qn` section of a questions.md, in order."""
    matches = list(QUESTION_HEADING.finditer(markdown))
    found = []
    for match, following in zip(matches, [*matches[1:], None], strict=True):
        section = markdown[match.start() : following.start() if following else len(markdown)]
        prompt, _, rubric = section.partition(RUBRIC_MARK)
        title = section.splitlines()[0].split(")", 1)[1].strip()
        items, notes = [], []
        for bullet in _bullets(rubric):
            item = ITEM.match(bullet)
            if item:
                items.append(RubricItem(float(item["points"]), item["text"]))
            else:
                notes.append(bullet)
        found.append(Question(match[1], float(match[2]), title, prompt.strip(), tuple(items), tuple(notes)))
    return found


def _bullets(markdown: str) -> list[str]:
    """The top-level `- ` bullets of a list, each with its indented continuation lines joined."""
    bullets: list[str] = []
    for line in markdown.splitlines():
        if line.startswith("- "):
            bullets.append(line[2:].strip())
        elif bullets and line.startswith(" ") and line.strip():
            bullets[-1] += " " + line.strip()
    return bullets
