"""Run one check of one task on a student file the test writes: the reference, or the reference with a bug."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pytest

from gankit.catalogue import Check, Task, load_catalogue
from grader.authoring.make_template import REFERENCE_DIR
from grader.results import CheckResult
from grader.run_checks import TaskRunner
from grader.sandbox import Worker
from tests.grader.variants import Fault, assert_only_faults

CATALOGUE = load_catalogue()


def reference_source(task_id: str) -> str:
    return (REFERENCE_DIR / CATALOGUE[task_id].student_file).read_text(encoding="utf-8")


def with_bug(task_id: str, old: str, new: str) -> str:
    """The reference of `task_id` with the one occurrence of `old` replaced by `new`."""
    source = reference_source(task_id)
    assert source.count(old) == 1, f"reference/{task_id}.py no longer contains the edited text once: {old!r}"
    return source.replace(old, new)


def signature_variant(task_id: str, function: str, old: str, new: str, renames: dict[str, str]) -> str:
    """The reference whose `function` has the parameter lines `old` replaced by `new` and, inside that
    function's solution only, each text of `renames` replaced by its value."""
    source = with_bug(task_id, old, new)
    start = source.index(f"def {function}(")
    end = source.index("# END SOLUTION", start)
    body = source[start:end]
    for before, after in renames.items():
        body = body.replace(before, after)
    return source[:start] + body + source[end:]


RunCheck = Callable[..., CheckResult]


@pytest.fixture
def run_check(tmp_path: Path) -> RunCheck:
    """`run_check(task_id, check_id, source=None, seconds=60)`: grade one check on `source` (default: reference)."""

    def run(task_id: str, check_id: str, source: str | None = None, seconds: float = 60.0) -> CheckResult:
        task = CATALOGUE[task_id]
        submission = tmp_path / f"submission-{task_id}-{check_id}"
        inputs = tmp_path / f"inputs-{task_id}-{check_id}"
        submission.mkdir()
        inputs.mkdir()
        path = submission / task.student_file
        path.write_text(reference_source(task_id) if source is None else source, encoding="utf-8")
        check = next(c for c in task.checks if c.id == check_id)
        with Worker(submission, inputs) as worker:
            return TaskRunner(task, worker, path, inputs).run(check, seconds)

    return run


def full(result: CheckResult) -> bool:
    return result.points == result.max_points


def lost_only(result: CheckResult, *phrases: str) -> None:
    """Some points lost, not all, with one failure sentence that contains each phrase."""
    assert 0 < result.points < result.max_points, (result.points, result.message)
    assert "; " not in result.message, result.message
    for phrase in phrases:
        assert phrase in result.message, result.message


class SharedWorkers:
    """One sandboxed worker per task for a whole test module: each source is a new file in the task's submission
    folder, imported afresh by its own TaskRunner. Starting a worker (torch, then torch.optim) costs seconds;
    grading a source in a started one takes milliseconds."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.workers: dict[str, tuple[Worker, Path, Path]] = {}
        self.sources = 0

    def results(
        self,
        task_id: str,
        check_ids: Iterable[str | Check],
        source: str | None = None,
        task: Task | None = None,
        checkpoint: bytes | None = None,
    ) -> dict[str, CheckResult]:
        """{check id: result} of `check_ids` (ids, or Check objects with edited parameters) on `source` (default:
        the reference) and, where given, the task's `checkpoint` file; `task` replaces the catalogue's (edited
        budgets or thresholds)."""
        task = task or CATALOGUE[task_id]
        if task_id not in self.workers:
            submission, inputs = self.root / f"submission-{task_id}", self.root / f"inputs-{task_id}"
            submission.mkdir()
            inputs.mkdir()
            self.workers[task_id] = (Worker(submission, inputs), submission, inputs)
        worker, submission, inputs = self.workers[task_id]
        self.sources += 1
        path = submission / f"{Path(task.student_file).stem}_{self.sources}.py"
        path.write_text(reference_source(task_id) if source is None else source, encoding="utf-8")
        weights = None
        if checkpoint is not None:
            weights = submission / f"{task.id}_{self.sources}.pt"
            weights.write_bytes(checkpoint)
        runner = TaskRunner(task, worker, path, inputs, checkpoint=weights)
        by_id = {check.id: check for check in task.checks}
        chosen = [by_id[check] if isinstance(check, str) else check for check in check_ids]
        return {check.id: runner.run(check) for check in chosen}

    def grade(self, task_id: str, check_id: str, source: str | None = None) -> CheckResult:
        return self.results(task_id, [check_id], source)[check_id]

    def close(self) -> None:
        for worker, _, _ in self.workers.values():
            worker.cleanup()


@pytest.fixture(scope="module")
def shared_workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SharedWorkers]:
    workers = SharedWorkers(tmp_path_factory.mktemp("shared-workers"))
    yield workers
    workers.close()


# Kinds a whole-task control leaves out: training stages take minutes, manual checks score nothing, and a trained
# model's check needs a checkpoint trained for minutes (tests/grader/checks/test_trained_model.py gives it one).
NOT_STATIC = {"training_quality", "classifier_training", "manual", "trained_model"}


def static_checks(task_id: str) -> list[str]:
    """The ids of every check of the task that runs in seconds."""
    return [check.id for check in CATALOGUE[task_id].checks if check.kind not in NOT_STATIC]


def assert_costs_only(results: dict[str, CheckResult], faulty: str, at_least: float) -> CheckResult:
    """The fault costs `faulty` at least the fraction `at_least` of its points (and not all of them when
    `at_least` < 1), and every other check graded stays whole. Returns the faulty check's result."""
    result = results[faulty]
    assert_only_faults(results.values(), result.task, [Fault(faulty, at_least=at_least)])
    assert at_least >= 1 or result.points > 0, result.message
    return result
