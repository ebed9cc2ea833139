"""Running one task's checks against a worker: load the student's module, run each check within its time
limit, and turn whatever happens (an exception, a crash, a timeout, an invalid value) into points and a
sentence. Nothing here ever lets a student's failure stop the grade."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gankit.catalogue import Check, Task
from grader.advice import with_advice
from grader.checks import CheckContext, Outcome, load_all
from grader.sandbox import SANDBOX_SUBMISSION, StudentError, Worker, WorkerError, WorkerKilled, WorkerTimeout
from grader.validate import Invalid

DEFAULT_CHECK_SECONDS = 60.0
TRAINING_WALL_FACTOR = 2
TRAINING_WALL_EXTRA = 120.0


@dataclass
class CheckResult:
    task: str
    check: Check
    status: str  # passed | partial | failed | manual | not graded
    points: float
    message: str
    seconds: float = 0.0
    images: dict[str, str] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def max_points(self) -> float:
        return self.check.points


class LoadFailure(RuntimeError):
    """The student's file is missing, or importing it failed; every check that needs it scores 0."""


class TaskRunner:
    """Runs the checks of one task on one worker; reloads the module whenever the worker was restarted."""

    def __init__(
        self,
        task: Task,
        worker: Worker,
        source: Path | None,
        inputs_dir: Path,
        *,
        seed: int = 0,
        device: str = "cpu",
    ) -> None:
        self.task = task
        self.worker = worker
        self.source = source
        self.inputs_dir = inputs_dir
        self.seed = seed
        self.device = device
        self._loaded_in = -1
        self.checks = load_all()

    def prepare(self) -> None:
        """Import the student's file in the current worker process (once per process)."""
        if self.source is None:
            raise LoadFailure(f"{self.task.student_file} is not in the submission")
        self.worker.ensure_started()
        if self._loaded_in == self.worker.starts:
            return
        where = f"{SANDBOX_SUBMISSION}/{self.source.name}" if self.worker.isolated else str(self.source)
        names = [entry["name"] for entry in self.task.names]
        try:
            self.worker.call("load", timeout=60, module=self.task.id, path=where, names=names)
        except StudentError as error:
            raise LoadFailure(f"importing {self.task.student_file} failed with {error}") from None
        except WorkerKilled:
            raise  # the machine's fault until it happens again: run() tries once more
        except WorkerError as error:
            raise LoadFailure(f"importing {self.task.student_file} stopped the worker: {error}") from None
        self._loaded_in = self.worker.starts

    def time_limit(self, check: Check, default: float = DEFAULT_CHECK_SECONDS) -> float:
        """A training check gets twice its CPU-seconds safety net plus two minutes to build and score: the worker
        ends a train_step that spends the net itself, so only waiting code or a machine busy enough to give the
        worker under half a core ends it by the clock; every other check `default`."""
        if check.kind == "training_quality" and self.task.budgets:
            return self.task.budget(self.device).cpu_seconds * TRAINING_WALL_FACTOR + TRAINING_WALL_EXTRA
        return default

    def run(self, check: Check, seconds: float | None = None) -> CheckResult:
        """Run `check` within `seconds` (default: its `time_limit`). A worker killed by a signal that neither
        the grader nor its limits sent is the machine's fault until it happens again: the check is run once more
        on a fresh worker."""
        seconds = self.time_limit(check) if seconds is None else seconds
        started = time.monotonic()
        outcome = self._outcome(check, seconds)
        if isinstance(outcome, WorkerKilled):
            outcome = self._outcome(check, seconds)
            if isinstance(outcome, WorkerKilled):
                outcome = Outcome(0.0, killed_message(outcome, seconds))
        points = round(outcome.fraction * check.points, 4)
        status = "passed" if outcome.fraction >= 1 else "failed" if outcome.fraction <= 0 else "partial"
        return CheckResult(
            task=self.task.id,
            check=check,
            status=status,
            points=points,
            message=outcome.message,
            seconds=time.monotonic() - started,
            images=outcome.images,
            details=outcome.details,
        )

    def _outcome(self, check: Check, seconds: float) -> Outcome | WorkerKilled:
        """The check's outcome, whatever happens; a worker killed from outside comes back as the error."""
        context = CheckContext(
            task=self.task,
            check=check,
            worker=self.worker,
            inputs_dir=self.inputs_dir,
            deadline=time.monotonic() + seconds,
            seed=self.seed,
            device=self.device,
            prepare=self.prepare,
        )
        try:
            return self.checks[check.kind](context)
        except WorkerKilled as error:
            if error.by_limit is not None:
                return Outcome(0.0, killed_message(error, seconds))
            return error
        except LoadFailure as error:
            return Outcome(0.0, str(error))
        except WorkerTimeout:
            return Outcome(0.0, timeout_message(check, seconds))
        except WorkerError as error:
            return Outcome(0.0, f"your code ended the worker process ({error}); did it call exit or crash?")
        except StudentError as error:
            return Outcome(0.0, f"your code raised {error.kind}: {with_advice(str(error).split(': ', 1)[-1])}")
        except Invalid as error:
            return Outcome(0.0, str(error))
        except Exception as error:  # noqa: BLE001 - a fault of the grader itself must not end the grade
            return Outcome(
                0.0,
                f"the grader itself failed on this check ({type(error).__name__}: {error}); "
                "please tell your instructor",
            )


def timeout_message(check: Check, seconds: float) -> str:
    """A check that ran out of wall-clock time. The training stage's own CPU-time net ends a slow train_step
    first, so its clock running out means waiting code or a starved worker, and the message says both."""
    if check.kind == "training_quality":
        return (
            f"the stage's wall-clock limit of {seconds:.0f} s was reached before its CPU-time limit: either your "
            "train_step waits (sleep, input, a lock) or the machine was overloaded; if it does not wait, ask your "
            "instructor to grade again"
        )
    return f"time limit of {seconds:.0f} s reached: look for an endless loop or slow code"


def killed_message(error: WorkerKilled, seconds: float) -> str:
    """What happened to a worker that died of a signal, without blaming the student for the machine."""
    if error.by_limit:
        return f"{error}: your code reached {error.by_limit} of the sandbox; look for an endless loop or huge output"
    return (
        f"{error}, twice, by nothing the grader sent (its time limit of {seconds:.0f} s was not reached): "
        "if your code sends signals or exits that way, stop it; otherwise ask your instructor to grade again"
    )
