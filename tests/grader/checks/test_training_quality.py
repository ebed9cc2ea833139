"""Kind `training_quality`: the scoring on real images (the trusted side), and brief training end to end on a
reduced CPU budget, where the reference passes and the label-ignoring and mode-collapse variants fail."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from gankit.catalogue import Budget, Task
from gankit.classifier import load_frozen_classifier
from gankit.common import NUM_CLASSES
from gankit.data import load_dataset
from grader.checks.training_quality import (
    NEAR_CHANCE_ACCURACY,
    PER_CLASS,
    quality_message,
    real_statistics,
    sample_scores,
    threshold_fraction,
)
from tests.grader.checks.conftest import CATALOGUE, SharedWorkers, with_bug
from tests.grader.variants import TrainingVariant, training_variant_source, training_variants


@pytest.fixture(scope="module")
def real_samples() -> np.ndarray:
    """100 real Fashion-MNIST test images per class, class-major, (1000, 32, 32) in [-1, 1]: a perfect GAN."""
    images, labels = load_dataset("fashion-mnist", "test", size=32)
    chosen = torch.cat([torch.nonzero(labels == c)[-PER_CLASS:, 0] for c in range(NUM_CLASSES)])
    return images[chosen, 0].numpy()


def test_real_images_score_like_real_data(real_samples: np.ndarray) -> None:
    stats = real_statistics("fashion-mnist", 32)
    scores = sample_scores(real_samples, conditional=True, stats=stats)
    _, card = load_frozen_classifier("fashion-mnist", "cpu")
    assert scores["conditional_accuracy"] == pytest.approx(card.test_accuracy, abs=0.04)
    assert scores["fid_ratio"] < 2.0, "real images are as close to the test split as real training images"
    assert scores["diversity"] == pytest.approx(1.0, abs=0.15)
    assert scores["class_coverage"] == 1.0


def test_labels_ignored_and_one_image_per_class_score_as_such(real_samples: np.ndarray) -> None:
    stats = real_statistics("fashion-mnist", 32)
    shuffled = real_samples[np.random.default_rng(0).permutation(len(real_samples))]
    assert sample_scores(shuffled, conditional=True, stats=stats)["conditional_accuracy"] < 0.2
    collapsed = np.repeat(real_samples[::PER_CLASS], PER_CLASS, axis=0)
    scores = sample_scores(collapsed, conditional=True, stats=stats)
    assert scores["diversity"] < 0.01 and scores["conditional_accuracy"] > 0.8


def test_threshold_fraction_is_linear_between_zero_and_full_either_way() -> None:
    assert threshold_fraction(0.4, zero=0.2, full=0.6) == pytest.approx(0.5)
    assert threshold_fraction(0.9, zero=0.2, full=0.6) == 1.0 and threshold_fraction(0.1, zero=0.2, full=0.6) == 0.0
    assert threshold_fraction(100.0, zero=200.0, full=50.0) == pytest.approx(2 / 3)
    assert threshold_fraction(300.0, zero=200.0, full=50.0) == 0.0


# Budgets that train in about 35 s each on one core of this 2-core machine, and thresholds measured for them with
# these variants (see the README). Steps, not seconds, end the run: the outcome does not depend on the machine.
REDUCED = {
    "cdcgan": Budget(steps=1500, batch_size=16, cpu_seconds=600, width=16),
    "cwgan_gp": Budget(steps=800, batch_size=16, cpu_seconds=600, width=16),
}
REDUCED_QUALITY = {
    "conditional_accuracy": {"zero": 0.15, "full": 0.3},
    "fid_ratio": {"zero": 400.0, "full": 200.0},
    "diversity": {"zero": 0.1, "full": 0.4},
}


def reduced(task_id: str, budget: Budget | None = None) -> Task:
    budget = budget or REDUCED[task_id]
    return dataclasses.replace(CATALOGUE[task_id], budgets={"cpu": budget, "cuda": budget}, quality=REDUCED_QUALITY)


# Every variant of the two conditional tasks but `own width`, whose networks take several times longer (the
# calibration bench trains it at the full budget).
BRIEF_TRAINING_CASES = [
    pytest.param(task_id, variant, id=f"{task_id}-{variant.name.replace(' ', '-')}")
    for task_id in REDUCED
    for variant in training_variants(CATALOGUE[task_id])
    if not variant.own_width
]


@pytest.mark.slow
@pytest.mark.parametrize(("task_id", "variant"), BRIEF_TRAINING_CASES)
def test_brief_training_on_a_reduced_budget(
    shared_workers: SharedWorkers, task_id: str, variant: TrainingVariant
) -> None:
    task = reduced(task_id)
    check = next(c for c in task.checks if c.kind == "training_quality")
    source = training_variant_source(task, variant)
    result = shared_workers.results(task_id, [check], source, task=task)["training_quality"]
    details = result.details
    assert details["steps"] == task.budget("cpu").steps, result.message
    if not variant.breaks:
        assert result.points == result.max_points, result.message
        pictures = {"samples, one class per row", "losses", "interpolation", "accuracy per class"}
        # A critic's scores have no accuracy; its losses stand in.
        if task.playing("discriminator", "critic").role != "critic":
            pictures.add("D accuracy")
        assert set(result.images) >= pictures
    elif "conditional_accuracy" in variant.breaks:
        assert result.points == 0 and details["conditional_accuracy"] <= NEAR_CHANCE_ACCURACY, result.message
        assert "feed the one-hot label to both networks" in result.message
    else:
        assert details["diversity"] < 0.05 and 0 < result.points < result.max_points, result.message
        assert "diversity: samples of a class look alike" in result.message


@pytest.mark.slow
def test_the_safety_net_ends_a_slow_train_step_with_its_own_message(shared_workers: SharedWorkers) -> None:
    """A budget of more steps than 3 CPU seconds allow reaches the net: no points, and the message gives the time
    and the steps done, not a figure."""
    task = reduced("cdcgan", Budget(steps=100_000, batch_size=16, cpu_seconds=3, width=16))
    check = next(c for c in task.checks if c.kind == "training_quality")
    result = shared_workers.results("cdcgan", [check], task=task)["training_quality"]
    steps = result.details["steps"]
    assert result.points == 0 and 0 < steps < 100_000
    assert f"your train_step took 3 s for {steps} of 100000 steps, past the stage's limit of 3 CPU seconds" in (
        result.message
    )
    # One endless call is stopped inside it: the net counts CPU time wherever the worker spends it.
    endless = with_bug("cdcgan", ") -> dict[str, float]:\n", ") -> dict[str, float]:\n    while True:\n        pass\n")
    result = shared_workers.results("cdcgan", [check], endless, task=task)["training_quality"]
    assert result.points == 0 and "your train_step took 3 s for 0 of 100000 steps" in result.message


def test_the_label_is_blamed_only_when_accuracy_is_near_chance() -> None:
    quality = REDUCED_QUALITY
    scores = {"conditional_accuracy": 0.25, "fid_ratio": 150.0, "diversity": 0.5}
    fractions = {name: threshold_fraction(scores[name], **quality[name]) for name in quality}
    message = quality_message(scores, fractions, quality, "after 1500 steps")
    assert message.startswith("after 1500 steps: conditional_accuracy 0.25 (full at 0.3), fid_ratio 150")
    assert "conditional_accuracy: the label is followed only part of the time" in message
    assert "one-hot" not in message and "fid_ratio:" not in message and "diversity:" not in message
    scores["conditional_accuracy"] = 0.11
    fractions["conditional_accuracy"] = 0.0
    assert "feed the one-hot label to both networks" in quality_message(scores, fractions, quality, "after 1500 steps")
