"""Running one task's checks against a worker: load the student's module, run each check within its time
limit, and turn whatever happens (an exception, a crash, a timeout, an invalid value) into points and a
sentence. Nothing here ever lets a student's failure stop the grade."""

from __future__ import annotations

import time
from pathlib import Path

from gankit.catalogue import Check, Task
from grader.advice import with_advice
from grader.checks import CheckContext, Outcome, load_all
from grader.results import CheckResult
from grader.sandbox import StudentError, Worker, WorkerError, WorkerKilled, WorkerTimeout
from grader.validate import Invalid

DEFAULT_CHECK_SECONDS = 60.0


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
        checkpoint: Path | None = None,
    ) -> None:
        self.task = task
        self.worker = worker
        self.source = source
        self.checkpoint = checkpoint  # the submitted `<task>.pt` on the host, if any
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
        where = self.worker.submission_path(self.source)
        names = [entry.name for entry in self.task.names]
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
        """The limit its kind declares for this task and device (a training stage's), else `default`."""
        kind = self.checks.get(check.kind)
        if kind is not None and kind.time_limit is not None:
            return kind.time_limit(self.task, self.device)
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

    def timeout_message(self, check: Check, seconds: float) -> str:
        """What running out of wall-clock time means: the kind's own sentence where it declares one."""
        kind = self.checks.get(check.kind)
        if kind is not None and kind.timeout_message is not None:
            return kind.timeout_message(seconds)
        return f"time limit of {seconds:.0f} s reached: look for an endless loop or slow code"

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
            checkpoint=self.checkpoint,
        )
        try:
            return self.checks[check.kind].run(context)
        except WorkerKilled as error:
            if error.by_limit is not None:
                return Outcome(0.0, killed_message(error, seconds))
            return error
        except LoadFailure as error:
            return Outcome(0.0, str(error))
        except WorkerTimeout:
            return Outcome(0.0, self.timeout_message(check, seconds))
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


def killed_message(error: WorkerKilled, seconds: float) -> str:
    """What happened to a worker that died of a signal, without blaming the student for the machine."""
    if error.by_limit:
        return f"{error}: your code reached {error.by_limit} of the sandbox; look for an endless loop or huge output"
    return (
        f"{error}, twice, by nothing the grader sent (its time limit of {seconds:.0f} s was not reached): "
        "if your code sends signals or exits that way, stop it; otherwise ask your instructor to grade again"
    )
