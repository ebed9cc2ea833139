"""Turn reference solutions into student stubs: every solution region becomes a TODO that raises.

Two marker dialects are accepted, as instructors bring them:
  Otter    `# BEGIN SOLUTION` … `# END SOLUTION`
  nbgrader `### BEGIN SOLUTION` … `### END SOLUTION`
and a single line ending in `# SOLUTION` keeps its left side with `...` on the right (`lr = 1e-4  # SOLUTION`
becomes `lr = ...`). Text after BEGIN SOLUTION (`# BEGIN SOLUTION: stack the layers`) becomes the TODO's
text; without it the TODO names the function or class the region sits in.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

BEGIN = re.compile(r"^(?P<indent>\s*)#{1,3}\s*BEGIN SOLUTION\b:?\s*(?P<hint>.*?)\s*$")
END = re.compile(r"^\s*#{1,3}\s*END SOLUTION\b")
ONE_LINE = re.compile(r"^(?P<left>.*?)\s*#\s*SOLUTION\s*$")
ASSIGNMENT = re.compile(r"^(?P<target>\s*[^=]*?[^=!<>]=)(?!=)")
DEFINITION = re.compile(r"^(?P<indent>\s*)(?:async\s+)?(?:def|class)\s+(?P<name>\w+)")


class MarkerError(ValueError):
    """A solution region that is not closed, nested, empty or closed without being opened."""


@dataclass(frozen=True)
class Region:
    """One solution region: 1-based line numbers of its markers."""

    begin: int
    end: int


def _enclosing_name(lines: list[str], index: int, indent: int) -> str | None:
    """Dotted name of the def/class chain that contains line `index` (e.g. 'Generator.__init__')."""
    names: list[str] = []
    for line in reversed(lines[:index]):
        match = DEFINITION.match(line)
        if match and len(match["indent"]) < indent:
            names.append(match["name"])
            indent = len(match["indent"])
    return ".".join(reversed(names)) or None


def _todo_lines(indent: str, hint: str, where: str | None, filename: str) -> list[str]:
    what = hint or (f"implement {where}" if where else "write this part")
    message = json.dumps(f"TODO in {filename}: {what}", ensure_ascii=False)  # a double-quoted Python literal
    return [f"{indent}# TODO: {what}", f"{indent}raise NotImplementedError({message})"]


def _one_line_stub(line: str, left: str) -> str:
    """`x = value  # SOLUTION` → `x = ...`; a line without an assignment keeps its left side and `...`."""
    match = ASSIGNMENT.match(left)
    if match:
        return f"{match['target']} ..."
    return f"{left.rstrip()} ..." if left.strip() else line


def find_regions(source: str, filename: str) -> list[Region]:
    """The solution regions of `source`, or MarkerError naming the file and line of the first problem."""
    regions: list[Region] = []
    open_at: int | None = None
    for number, line in enumerate(source.splitlines(), start=1):
        if BEGIN.match(line):
            if open_at is not None:
                raise MarkerError(f"{filename}:{number}: BEGIN SOLUTION inside the region opened at line {open_at}")
            open_at = number
        elif END.match(line):
            if open_at is None:
                raise MarkerError(f"{filename}:{number}: END SOLUTION without a BEGIN SOLUTION")
            body = source.splitlines()[open_at : number - 1]
            if not any(part.strip() for part in body):
                raise MarkerError(f"{filename}:{open_at}: empty solution region (closed at line {number})")
            regions.append(Region(open_at, number))
            open_at = None
    if open_at is not None:
        raise MarkerError(f"{filename}:{open_at}: BEGIN SOLUTION is never closed by END SOLUTION")
    return regions


def strip_solutions(source: str, filename: str) -> str:
    """`source` with every solution region replaced by a TODO stub; MarkerError leaves nothing half done."""
    regions = find_regions(source, filename)
    lines = source.splitlines()
    starts = {region.begin: region for region in regions}
    out: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        region = starts.get(index + 1)
        if region is not None:
            match = BEGIN.match(line)
            indent = match["indent"]
            where = _enclosing_name(lines, index, len(indent))
            out += _todo_lines(indent, match["hint"], where, filename)
            index = region.end  # continue after the END marker
            continue
        one_line = ONE_LINE.match(line)
        out.append(_one_line_stub(line, one_line["left"]) if one_line else line)
        index += 1
    return "\n".join(out) + ("\n" if source.endswith("\n") else "")


def solution_text(source: str, filename: str) -> list[str]:
    """The non-blank lines inside solution regions and the right sides of one-line solutions, stripped:
    what must never reach a student."""
    lines = source.splitlines()
    hidden = [
        part.strip() for r in find_regions(source, filename) for part in lines[r.begin : r.end - 1] if part.strip()
    ]
    for line in lines:
        match = ONE_LINE.match(line)
        if match and not BEGIN.match(line) and not END.match(line):
            assignment = ASSIGNMENT.match(match["left"])
            if assignment:
                hidden.append(match["left"][len(assignment["target"]) :].strip())
    return hidden
