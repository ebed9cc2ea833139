"""Running a check when the machine, not the student, ends the worker: a kill from outside is retried once on a
fresh worker, and a second one is reported as what it was."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

from gankit.catalogue import load_catalogue
from grader.run_checks import TaskRunner, killed_message
from grader.sandbox import Worker, WorkerKilled, killed_by
from tests.grader.checks.conftest import with_bug

TASK = "dcgan"
CHECK = "discriminator_loss"
# The first call of the loss in each worker process prints a line and sleeps: the moment a neighbour's kill lands.
SLEEPY = with_bug(
    TASK,
    "    real_term = F.binary_cross_entropy_with_logits(",
    "    global _slept\n"
    "    if not globals().get('_slept'):\n"
    "        _slept = True\n"
    "        print('asleep', flush=True)\n"
    "        import time; time.sleep(3)\n"
    "    real_term = F.binary_cross_entropy_with_logits(",
)


def kill_while_asleep(worker: Worker, kills: int) -> threading.Thread:
    """A thread that SIGKILLs the worker each time its log shows a new 'asleep', `kills` times, as an
    out-of-memory killer or an administrator would."""

    def run() -> None:
        done, deadline = 0, time.monotonic() + 120
        while done < kills and time.monotonic() < deadline:
            process = worker._process
            if process is not None and worker.output_tail(100_000).count("asleep") > done:
                os.kill(process.pid, signal.SIGKILL)
                done += 1
            time.sleep(0.05)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def grade_with_kills(tmp_path: Path, kills: int) -> tuple[float, float, str, int]:
    """Points, max points, message and how many worker processes the check took."""
    task = load_catalogue()[TASK]
    check = next(c for c in task.checks if c.id == CHECK)
    submission, inputs = tmp_path / "submission", tmp_path / "inputs"
    submission.mkdir()
    inputs.mkdir()
    source = submission / task.student_file
    source.write_text(SLEEPY, encoding="utf-8")
    with Worker(submission, inputs) as worker:
        killer = kill_while_asleep(worker, kills)
        result = TaskRunner(task, worker, source, inputs).run(check)
        killer.join(timeout=5)
        starts = worker.starts
    return result.points, result.max_points, result.message, starts


def test_a_worker_killed_from_outside_once_is_retried_and_the_check_keeps_its_points(tmp_path: Path) -> None:
    points, max_points, message, starts = grade_with_kills(tmp_path, kills=1)
    assert starts == 2  # the kill landed, and the check ran again on a fresh worker
    assert points == max_points, message


def test_a_second_kill_is_reported_as_the_signal_not_as_the_students_fault(tmp_path: Path) -> None:
    points, _, message, starts = grade_with_kills(tmp_path, kills=2)
    assert starts == 2 and points == 0
    assert "killed by SIGKILL" in message and "twice" in message and "by nothing the grader sent" in message
    assert "did it call exit" not in message


def test_exit_codes_name_the_signal_of_a_child_or_of_bubblewrap() -> None:
    assert killed_by(-9) == killed_by(137) == signal.SIGKILL
    assert killed_by(0) is killed_by(1) is killed_by(None) is None


def test_a_resource_limit_is_named_as_such() -> None:
    error = WorkerKilled("the worker process was killed by SIGXCPU (exit code 152)", signal.SIGXCPU)
    assert "the CPU-time limit" in killed_message(error, 60)


def test_a_training_stage_out_of_clock_time_names_waiting_code_or_the_machine(tmp_path: Path) -> None:
    """A train_step that sleeps uses no CPU, so the stage's CPU-time net never fires and the wall clock ends it:
    the message says so, not "an endless loop"."""
    task = load_catalogue()["cdcgan"]
    check = next(c for c in task.checks if c.kind == "training_quality")
    submission, inputs = tmp_path / "submission", tmp_path / "inputs"
    submission.mkdir()
    inputs.mkdir()
    source = submission / task.student_file
    source.write_text(
        with_bug("cdcgan", ") -> dict[str, float]:\n", ") -> dict[str, float]:\n    time.sleep(100)\n").replace(
            "import torch\n", "import time\n\nimport torch\n", 1
        ),
        encoding="utf-8",
    )
    with Worker(submission, inputs) as worker:
        result = TaskRunner(task, worker, source, inputs).run(check, seconds=20)
    assert result.points == 0
    assert "wall-clock limit of 20 s was reached before its CPU-time limit" in result.message
    assert "your train_step waits" in result.message and "endless loop" not in result.message
