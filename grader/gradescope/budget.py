"""Does a grade fit Gradescope's machine? Gradescope runs an autograder on the machine the instructor picks
(0.5 to 2 vCPU, 768 MB to 6 GB, a 10 to 40 minute timeout). The training stages have fixed step counts (their
thresholds are calibrated for them), so the budget cannot shrink a stage: it decides whether the training
stages run at all, and says how long and how large the grade is expected to be.

The figures come from `grader/measured.toml`, written by `python bench/gradescope_run.py --write` from a real run of
the bundle's run_autograder; below one vCPU the time is scaled up in proportion (the worker trains on one
thread, so more than one vCPU does not make it faster)."""

from __future__ import annotations

from dataclasses import dataclass

from grader.measured import Measured

TIME_MARGIN = 0.7  # the expected run time may use at most this share of the timeout
MEMORY_MARGIN = 0.8  # and the measured peak memory at most this share of the machine's memory


class BudgetError(ValueError):
    """The chosen grade does not fit the chosen machine; the message says by how much and what to change."""


@dataclass(frozen=True)
class Machine:
    """Gradescope's autograder machine, as chosen in the assignment's settings."""

    vcpus: float = 1.0
    memory_gb: float = 3.0
    timeout_minutes: float = 20.0

    def __post_init__(self) -> None:
        if not (0 < self.vcpus <= 64 and 0 < self.memory_gb <= 512 and 0 < self.timeout_minutes <= 600):
            raise BudgetError(f"an impossible machine: {self}")


@dataclass(frozen=True)
class Plan:
    train: bool
    expected_seconds: float
    peak_memory_mb: float
    machine: Machine
    why_not_trained: str = ""  # when training was left out because it did not fit

    def describe(self) -> str:
        machine = self.machine
        text = (
            f"training stages {'on' if self.train else 'off'}; expected run time {self.expected_seconds / 60:.1f} min "
            f"of the {machine.timeout_minutes:g} min timeout at {machine.vcpus:g} vCPU; peak memory about "
            f"{self.peak_memory_mb:.0f} MB of {machine.memory_gb * 1024:.0f} MB"
        )
        return f"{text} (left out because {self.why_not_trained})" if self.why_not_trained else text


def _estimate(tasks: list[str], train: bool, machine: Machine, measured: Measured) -> tuple[float, float]:
    seconds = measured.start_seconds + sum(measured.static_seconds.get(task, 0.0) for task in tasks)
    if train:
        seconds += sum(measured.training_seconds.get(task, 0.0) for task in tasks)
    seconds /= min(machine.vcpus, 1.0)
    return seconds, measured.peak_memory_mb["training" if train else "static"]


def plan(tasks: list[str], train: bool | None, machine: Machine, measured: Measured | None = None) -> Plan:
    """The plan for grading `tasks` on `machine`: with `train` None, the training stages run when they fit.
    Raises BudgetError when the asked-for grade (or even the static one) does not fit with margin."""
    measured = measured or Measured.load()
    unmeasured = [task for task in tasks if task not in measured.static_seconds]
    if unmeasured:
        raise BudgetError(f"no measured run time for {', '.join(unmeasured)}: run bench/gradescope_run.py --write")
    limit = machine.timeout_minutes * 60 * TIME_MARGIN
    memory_limit = machine.memory_gb * 1024 * MEMORY_MARGIN
    choices = [train] if train is not None else [True, False]
    problems = []
    for choice in choices:
        seconds, memory = _estimate(tasks, choice, machine, measured)
        if seconds <= limit and memory <= memory_limit:
            return Plan(choice, seconds, memory, machine, "; ".join(problems))
        phase = "with training" if choice else "without training"
        problems.append(
            f"{phase}: about {seconds / 60:.1f} min and {memory:.0f} MB, but {TIME_MARGIN:.0%} of the timeout is "
            f"{limit / 60:.1f} min and {MEMORY_MARGIN:.0%} of the memory {memory_limit:.0f} MB"
        )
    advice = "choose a longer timeout, more vCPUs or more memory in Gradescope's settings, or fewer --tasks"
    if train is not False:
        advice += ", or --no-train"
    raise BudgetError(f"the grade does not fit the machine ({'; '.join(problems)}): {advice}")
