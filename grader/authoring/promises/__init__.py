"""What the statements promise, and which criterion of which check kind keeps each promise.

Each task's `statement.md` ends with "## How it is graded": bullets that tell a student what the grader
verifies. Every clause of those bullets must be a promise some check of that task keeps. `PROMISES` lists, per
check kind, the clauses its criteria verify, as regular expressions, each tagged with the name in that kind's
module (`KIND_MODULES`) of the function, criterion or constant that verifies it (`verified_by`), and limited
by `requires` to the checks whose parameters (or task) make the criterion run at all: the interpolation
endpoints only with `endpoints`, the labels of a train step only for a conditional task, and so on.

How a bullet is read (`graded_bullets`, `clauses`): the bold heading is dropped; the rest is cut into clauses at
"; ", ": " and sentence ends, and each clause into parts at ", ", all at top level (outside parentheses,
brackets, backticks and `$…$` math). A clause is covered when its parts, in order, can be grouped into runs of
neighbouring parts (joined again by ", ") that each match one promise in full, a leading "and" or "or" aside,
so a promise may span a list whose items are separated by commas. `uncovered` names what no promise covers.

A promise's pattern may say `{dataset}` (the task's data set as a student reads it, "Fashion-MNIST") and
`{size}` (its image size); patterns match without regard to case, on text whose whitespace is collapsed.
"""

from grader.authoring.promises.coverage import Bullet, Gap, clauses, graded_bullets, keepers, uncovered
from grader.authoring.promises.kinds import PROMISES, Promise, module_files, module_path

__all__ = [
    "PROMISES",
    "Bullet",
    "Gap",
    "Promise",
    "clauses",
    "graded_bullets",
    "keepers",
    "module_files",
    "module_path",
    "uncovered",
]
