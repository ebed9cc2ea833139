"""How much each known fault costs the check that names it, from the grader's own variant tables.

    python bench/severity.py

Grades every row of the train_step and gradient_penalty bug tables (`tests/grader/checks/test_train_step.py`,
`test_gradient_penalty.py`) on one sandboxed worker per task and prints, per row, the fraction of the faulty
check it lost. The target (SPEC, severity): at least 50 % for a fault in the property the check exists for,
less for a side property; the tests assert those bounds, this prints the figures behind them.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.grader.checks import test_gradient_penalty, test_train_step  # noqa: E402
from tests.grader.checks.conftest import SharedWorkers, with_bug  # noqa: E402


def main() -> None:
    rows = [
        (bug.task, bug.faulty, bug.name, test_train_step.with_bugs(bug.task, bug.old, bug.new))
        for bug in test_train_step.BUGS
    ]
    task = test_gradient_penalty.TASK
    rows += [(task, "gradient_penalty", m.name, with_bug(task, m.old, m.new)) for m in test_gradient_penalty.MISTAKES]
    with tempfile.TemporaryDirectory() as root:
        workers = SharedWorkers(Path(root))
        try:
            print(f"{'task':12} {'check':18} {'lost':>5}  fault")
            for task_id, check, name, source in rows:
                result = workers.grade(task_id, check, source)
                print(f"{task_id:12} {check:18} {1 - result.points / result.max_points:5.0%}  {name}")
        finally:
            workers.close()


if __name__ == "__main__":
    main()
