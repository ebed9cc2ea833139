"""The sandbox boundary: a worker answers probes, is stopped at its time limit and restarted, keeps the
student's output apart from its answers, and runs (with a warning) where bubblewrap is missing."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np
import pytest

import grader.sandbox
from grader.sandbox import (
    WORKER_THREADS,
    Limits,
    SandboxUnavailable,
    StudentError,
    Worker,
    WorkerError,
    WorkerTimeout,
    bwrap_available,
    choose_sandbox,
    uid_lock_dir,
)

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
    import json
    import numpy as np
    # Only numbers and arrays travel back: the whole environment as the bytes of its JSON text.
    return np.frombuffer(json.dumps(dict(os.environ)).encode(), dtype=np.uint8).copy()

def raises():
    raise ValueError("no good")

def torch_threads():
    import torch
    return float(torch.get_num_threads())

def processes(n):
    import subprocess
    children = [subprocess.Popen(["sleep", "30"]) for _ in range(n)]
    return len(children)
"""


NO_BWRAP = "bubblewrap not installed (or the grader is not root): the worker is not isolated"
needs_bwrap = pytest.mark.skipif(not bwrap_available(), reason=NO_BWRAP)
# What a worker's environment may hold; anything else (a token, a GAN_* setting) leaked from the grader.
ALLOWED_ENVIRONMENT = {
    "PATH",
    "HOME",
    "LANG",
    "PYTHONHASHSEED",
    "PYTHONDONTWRITEBYTECODE",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "PWD",  # bubblewrap's --chdir /tmp sets it
    "TMPDIR",  # the unprivileged uid's own folder, without bubblewrap
    "CUDA_VISIBLE_DEVICES",  # a GPU worker's own GPU (grader.placement)
}


@pytest.fixture(params=["bubblewrap", "without"])
def sandbox(request: pytest.FixtureRequest) -> str:
    """Each test once in bubblewrap and once without it (under the unprivileged uid when the suite is root)."""
    if request.param == "bubblewrap":
        if not bwrap_available():
            pytest.skip(NO_BWRAP)
        return "bubblewrap"
    return request.getfixturevalue("without_bubblewrap")


@pytest.fixture
def worker(sandbox: str, passable_tmp: Path) -> Worker:
    worker = Worker(passable_tmp / "submission", sandbox=sandbox, limits=Limits(processes=32))
    where = worker.submission_path(worker.stage({"student.py": STUDENT})["student.py"])
    worker.load_student = lambda: worker.call("load", timeout=60, module="student", path=where, names=["double"])
    yield worker
    worker.cleanup()


def test_a_worker_stages_files_for_its_uid_and_names_them_as_its_process_sees_them(
    passable_tmp: Path, sandbox: str
) -> None:
    submission, inputs = passable_tmp / "submission", passable_tmp / "inputs"
    with Worker(submission, inputs, sandbox=sandbox) as worker:
        path = worker.stage({"student.py": STUDENT})["student.py"]
        assert path == submission / "student.py" and path.read_text(encoding="utf-8") == STUDENT
        assert (submission.stat().st_mode & 0o777, path.stat().st_mode & 0o777) == (0o755, 0o644)
        seen = (worker.submission_path(path), worker.inputs_path(inputs / "x.npy"))
    inside = sandbox == "bubblewrap"
    assert seen == (("/submission/student.py", "/inputs/x.npy") if inside else (str(path), str(inputs / "x.npy")))


def call(worker: Worker, function: str, *args: object, timeout: float = 30) -> dict:
    return worker.call("call", timeout=timeout, module="student", function=function, args=list(args))


def test_a_call_returns_data_and_printing_goes_to_the_log(worker: Worker) -> None:
    assert worker.load_student() == {"double": "function"}
    result = call(worker, "double", np.arange(3, dtype=np.float32))
    np.testing.assert_array_equal(result["output"]["array"], [0, 2, 4])
    assert "printed at import" in worker.output_tail() and "printed in a call" in worker.output_tail()
    assert ("NOT isolated" in worker.isolation) == (worker.sandbox == "none")


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
    secret = "s3cret-token-value"
    monkeypatch.setenv("GRADER_SECRET", secret)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    monkeypatch.setenv("GAN_DATA_DIR", "/grader/private/data")
    monkeypatch.setenv("GAN_GRADER_CACHE", "/grader/private/cache")
    worker.load_student()
    reply = call(worker, "environment")["output"]
    assert reply["kind"] == "ndarray" and reply["dtype"] == "uint8", reply
    environment = json.loads(reply["array"].tobytes())
    assert set(environment) <= ALLOWED_ENVIRONMENT, sorted(set(environment) - ALLOWED_ENVIRONMENT)
    assert not any(secret in value or "/grader/private" in value for value in environment.values()), environment
    assert environment["HOME"] == ("/tmp" if worker.sandbox != "uid" else environment["TMPDIR"]), environment
    assert "PATH" in environment


def test_torch_computes_on_one_thread_whatever_the_machine(worker: Worker) -> None:
    """Another thread count rounds float sums differently: a batch would then change a training grade."""
    worker.load_student()
    assert call(worker, "torch_threads")["output"]["value"] == WORKER_THREADS == 1


def test_a_placed_worker_sees_its_own_gpu_and_thread_count(passable_tmp: Path, sandbox: str) -> None:
    """What `grader.placement` gives a GPU worker reaches its process: CUDA shows it only its GPU, and torch
    computes on the threads it was given (asked with device cpu: no GPU is needed to see the setting)."""
    placed = Worker(passable_tmp / "submission", sandbox=sandbox, gpu="3", threads=2)
    try:
        where = placed.submission_path(placed.stage({"student.py": STUDENT})["student.py"])
        placed.call("load", timeout=60, module="student", path=where, names=["double"])
        environment = json.loads(call(placed, "environment")["output"]["array"].tobytes())
        assert environment["CUDA_VISIBLE_DEVICES"] == "3"
        assert call(placed, "torch_threads")["output"]["value"] == 2
    finally:
        placed.cleanup()


def test_the_process_limit_holds_under_the_workers_own_uid(passable_tmp: Path, sandbox: str) -> None:
    if sandbox == "none":
        pytest.skip("the process limit needs the worker's own unprivileged uid, which only root can give it")
    with Worker(passable_tmp / "s", sandbox=sandbox, limits=Limits(processes=40)) as worker:
        where = worker.submission_path(worker.stage({"student.py": STUDENT})["student.py"])
        worker.call("load", timeout=60, module="student", path=where, names=[])
        with pytest.raises(StudentError, match="Resource temporarily unavailable|BlockingIOError"):
            call(worker, "processes", 200)


def test_worker_uids_are_claimed_host_wide_whatever_tmpdir_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two grade processes with their own $TMPDIR (SLURM gives one per job) must see each other's claims."""
    before = uid_lock_dir()
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", None)
    assert tempfile.gettempdir() == str(tmp_path)
    assert uid_lock_dir() == before and tmp_path not in uid_lock_dir().parents


def test_student_code_never_runs_as_root_without_a_sandbox() -> None:
    if os.geteuid() != 0:
        pytest.skip("only root can be asked to drop to another uid")
    with pytest.raises(SandboxUnavailable, match="never runs without a sandbox"):
        choose_sandbox("none")


def test_the_uid_sandbox_is_refused_where_other_users_could_read_the_graders_secrets(
    passable_tmp: Path, without_bubblewrap: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without namespaces the worker sees the file system as any user does: hidden parameters open to others
    would be open to it."""
    if without_bubblewrap != "uid":
        pytest.skip("the unprivileged uid needs the grader to run as root")
    secret = passable_tmp / "tasks"
    secret.mkdir()
    secret.chmod(0o755)
    monkeypatch.setattr(grader.sandbox, "GRADER_SECRETS", (secret,))
    with pytest.raises(SandboxUnavailable, match=f"{secret} is readable by other users"):
        choose_sandbox("uid")
    secret.chmod(0o700)
    assert choose_sandbox("uid") == "uid"
