"""The bundle's budget: the training stages run only where they fit Gradescope's machine with margin, the
expected time follows the vCPUs below one, and a grade that cannot fit is refused with what to change."""

from __future__ import annotations

import pytest

from gankit.catalogue import load_catalogue
from grader.gradescope.budget import TIME_MARGIN, BudgetError, Machine, plan
from grader.measured import Measured

MEASURED = Measured(
    machine="test",
    start_seconds=10.0,
    static_seconds={"a": 20.0, "b": 30.0},
    training_seconds={"a": 240.0},
    peak_memory_mb={"static": 900.0, "training": 1200.0},
)


def test_training_runs_where_it_fits_and_the_estimate_adds_up() -> None:
    chosen = plan(["a", "b"], None, Machine(vcpus=1, memory_gb=3, timeout_minutes=10), MEASURED)
    assert chosen.train and chosen.expected_seconds == 10 + 20 + 30 + 240 and chosen.peak_memory_mb == 1200
    assert "training stages on; expected run time 5.0 min of the 10 min timeout" in chosen.describe()


def test_half_a_vcpu_takes_twice_as_long_and_more_than_one_no_less() -> None:
    half = plan(["a"], False, Machine(vcpus=0.5, timeout_minutes=40), MEASURED)
    two = plan(["a"], False, Machine(vcpus=2, timeout_minutes=40), MEASURED)
    assert half.expected_seconds == 2 * two.expected_seconds == 2 * (10 + 20)


def test_without_a_choice_training_is_left_out_when_it_does_not_fit() -> None:
    tight = Machine(vcpus=1, memory_gb=3, timeout_minutes=300 / 60 / TIME_MARGIN - 0.1)  # 300 s just past margin
    chosen = plan(["a", "b"], None, tight, MEASURED)
    assert chosen.train is False and "left out because with training: about 5.0 min" in chosen.describe()


def test_asking_for_training_that_does_not_fit_says_what_to_change() -> None:
    with pytest.raises(BudgetError, match="with training: about 5.0 min.*longer timeout.*--no-train"):
        plan(["a", "b"], True, Machine(timeout_minutes=5), MEASURED)


def test_too_little_memory_is_refused_even_without_training() -> None:
    with pytest.raises(BudgetError, match="without training: .* 900 MB") as refused:
        plan(["a"], False, Machine(memory_gb=0.75), MEASURED)
    assert "--no-train" not in str(refused.value)


def test_an_unmeasured_task_or_an_impossible_machine_is_refused() -> None:
    with pytest.raises(BudgetError, match="no measured run time for c"):
        plan(["c"], None, Machine(), MEASURED)
    with pytest.raises(BudgetError, match="impossible machine"):
        Machine(vcpus=0)


def test_the_recorded_figures_cover_every_task_of_the_catalogue() -> None:
    measured = Measured.load()
    assert set(measured.static_seconds) == set(load_catalogue())
    assert all(seconds > 0 for seconds in measured.static_seconds.values())
    assert set(measured.peak_memory_mb) == {"static", "training"}
