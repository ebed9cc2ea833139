"""Reading the statements: the bullets of "## How it is graded", their clauses and parts, and which of them no
promise of the task's checks covers."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from grader.authoring.promises.kinds import PROMISES, Promise

SECTION = re.compile(r"^## How it is graded[ \t]*$(?P<body>.*?)(?=^## |\Z)", re.MULTILINE | re.DOTALL)
BULLET = re.compile(r"\*\*(?P<heading>.+?):?\*\*(?:\s*\((?P<aside>[^)]*)\))?:?\s*(?P<body>.*)", re.DOTALL)
OPENERS, CLOSERS = "([", ")]"


@dataclass(frozen=True)
class Bullet:
    heading: str
    body: str


def graded_bullets(statement: str) -> list[Bullet]:
    """The bullets of the statement's "How it is graded" section (lines starting "- ", with their indented
    continuation lines); the paragraphs around them are not bullets."""
    found = SECTION.search(statement)
    if found is None:
        return []
    bullets: list[list[str]] = []
    current: list[str] | None = None
    for line in found.group("body").splitlines():
        if line.startswith("- "):
            current = [line[2:].strip()]
            bullets.append(current)
        elif current is not None and line.startswith(" ") and line.strip():
            current.append(line.strip())
        else:
            current = None
    result = []
    for lines in bullets:
        text = " ".join(lines)
        parsed = BULLET.fullmatch(text)
        heading, body = (parsed.group("heading"), parsed.group("body")) if parsed else ("", text)
        result.append(Bullet(heading.strip(), body.strip()))
    return result


def clauses(body: str) -> list[list[str]]:
    """The clauses of a bullet's body, each as its parts: clauses end at "; ", ": " and ". " before a capital
    letter, parts at ", "; only at top level (outside (…), […], `…` and $…$)."""
    text = " ".join(body.split()).rstrip(".")
    result: list[list[str]] = []
    parts: list[str] = []
    part: list[str] = []
    depth, code, math, i = 0, False, False, 0

    def close_part() -> None:
        piece = "".join(part).strip()
        if piece:
            parts.append(piece)
        part.clear()

    def close_clause() -> None:
        close_part()
        if parts:
            result.append(list(parts))
        parts.clear()

    while i < len(text):
        char = text[i]
        if char == "`" and not math:
            code = not code
        elif char == "$" and not code:
            math = not math
        elif not code and not math and char in OPENERS:
            depth += 1
        elif not code and not math and char in CLOSERS:
            depth = max(0, depth - 1)
        elif not code and not math and depth == 0:
            two = text[i : i + 2]
            if two in ("; ", ": ") or (two == ". " and text[i + 2 : i + 3].isupper()):
                close_clause()
                i += 2
                continue
            if two == ", ":
                close_part()
                i += 2
                continue
        part.append(char)
        i += 1
    close_clause()
    return result


@dataclass(frozen=True)
class Gap:
    """A clause of a statement's "How it is graded" bullet that no check of the task verifies in full: `rest` is
    its first run of parts (to the clause's end) that no promise covers."""

    task: str
    bullet: str
    clause: str
    rest: str

    def __str__(self) -> str:
        return (
            f"{self.task}: bullet {self.bullet!r}, clause {self.clause!r}: no check of the task promises "
            f"{self.rest!r} (grader/authoring/promises/kinds.py lists what each kind verifies)"
        )


def _connective_stripped(text: str) -> str:
    return re.sub(r"^(?:and|or) ", "", text)


def keepers(text: str, task: Mapping[str, Any]) -> list[tuple[Mapping[str, Any], Promise]]:
    """The (check, promise) pairs of `task` that keep the promise made by `text`."""
    text = _connective_stripped(" ".join(text.split()))
    return [
        (check, promise) for check in task.get("checks", []) for promise in PROMISES if promise.keeps(text, check, task)
    ]


def uncovered_parts(parts: list[str], task: Mapping[str, Any]) -> str | None:
    """None when the parts can be grouped into runs that promises cover in full; else the uncovered rest, from
    the furthest part reached."""
    reached = [True] + [False] * len(parts)
    for start in range(len(parts)):
        if not reached[start]:
            continue
        for end in range(start + 1, len(parts) + 1):
            if not reached[end] and keepers(", ".join(parts[start:end]), task):
                reached[end] = True
    if reached[-1]:
        return None
    furthest = max(i for i, done in enumerate(reached) if done)
    return ", ".join(parts[furthest:])


def uncovered(task: Mapping[str, Any], statement: str) -> list[Gap]:
    """Every clause of the statement's "How it is graded" bullets that no check of `task` verifies."""
    gaps = []
    for bullet in graded_bullets(statement):
        for parts in clauses(bullet.body):
            rest = uncovered_parts(parts, task)
            if rest is not None:
                gaps.append(Gap(str(task.get("id", "?")), bullet.heading, ", ".join(parts), rest))
    return gaps
