"""The sandbox boundary: a worker answers probes, is stopped at its time limit and restarted, keeps the
student's output apart from its answers, and runs (with a warning) where bubblewrap is missing."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from grader.sandbox import Limits, StudentError, Worker, WorkerError, WorkerTimeout, bwrap_available

STUDENT = """
import os, sys, time
import torch
print("printed at import")

def double(x):
    print("printed in a call")
    return 2 * x

def sleepy(seconds):
    time.sleep(seconds)
    return 1.0

def crash():
    os._exit(3)

def environment():
    return sorted(os.environ)

def raises():
    raise ValueError("no good")

def processes(n):
    import subprocess
    children = [subprocess.Popen(["sleep", "30"]) for _ in range(n)]
    return len(children)
"""


@pytest.fixture(params=[True, False] if bwrap_available() else [False], ids=lambda isolated: f"isolated={isolated}")
def worker(request: pytest.FixtureRequest, tmp_path: Path) -> Worker:
    submission = tmp_path / "submission"
    submission.mkdir(mode=0o755)
    os.chmod(submission, 0o755)
    (submission / "student.py").write_text(STUDENT)
    os.chmod(submission / "student.py", 0o644)
    worker = Worker(submission, isolate=request.param, limits=Limits(processes=32))
    where = "/submission/student.py" if request.param else str(submission / "student.py")
    worker.load_student = lambda: worker.call("load", timeout=60, module="student", path=where, names=["double"])
    yield worker
    worker.cleanup()


def call(worker: Worker, function: str, *args: object, timeout: float = 30) -> dict:
    return worker.call("call", timeout=timeout, module="student", function=function, args=list(args))


def test_a_call_returns_data_and_printing_goes_to_the_log(worker: Worker) -> None:
    assert worker.load_student() == {"double": "function"}
    result = call(worker, "double", np.arange(3, dtype=np.float32))
    np.testing.assert_array_equal(result["output"]["array"], [0, 2, 4])
    assert "printed at import" in worker.output_tail() and "printed in a call" in worker.output_tail()
    assert ("NOT isolated" in worker.isolation) == (not worker.isolated)


def test_student_exceptions_come_back_as_student_errors(worker: Worker) -> None:
    worker.load_student()
    with pytest.raises(StudentError, match="no good"):
        call(worker, "raises")


def test_a_timeout_stops_the_worker_and_the_next_call_starts_a_fresh_one(worker: Worker) -> None:
    worker.load_student()
    with pytest.raises(WorkerTimeout):
        call(worker, "sleepy", 30, timeout=2)
    starts = worker.starts
    worker.load_student()
    assert worker.starts == starts + 1
    assert call(worker, "sleepy", 0)["output"]["value"] == 1.0


def test_a_crash_is_a_worker_error(worker: Worker) -> None:
    worker.load_student()
    with pytest.raises(WorkerError, match="exit code 3"):
        call(worker, "crash")


def test_the_environment_is_scrubbed(worker: Worker, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRADER_SECRET", "x")
    worker.load_student()
    names = call(worker, "environment")["output"]
    assert names["kind"] == "object"  # a list is not data the parent reads; the names are in the worker only


@pytest.mark.skipif(not bwrap_available(), reason="process limits need an unprivileged uid (bubblewrap as root)")
def test_the_process_limit_holds_in_the_sandbox(tmp_path: Path) -> None:
    submission = tmp_path / "s"
    submission.mkdir(mode=0o755)
    os.chmod(submission, 0o755)
    (submission / "student.py").write_text(STUDENT)
    with Worker(submission, isolate=True, limits=Limits(processes=40)) as worker:
        worker.call("load", timeout=60, module="student", path="/submission/student.py", names=[])
        with pytest.raises(StudentError, match="Resource temporarily unavailable|BlockingIOError"):
            call(worker, "processes", 200)
