"""Kind `training_quality`: the scoring on real images (the trusted side), and brief training end to end on a
reduced CPU budget, where the reference passes and the label-ignoring and mode-collapse variants fail."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from gankit.catalogue import Budget
from gankit.classifier import load_frozen_classifier
from gankit.common import NUM_CLASSES
from gankit.data import load_dataset
from grader.checks.training_quality import PER_CLASS, real_statistics, sample_scores, threshold_fraction
from tests.grader.checks.conftest import CATALOGUE, SharedWorkers, with_bug


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


# Budgets that train in about 35 s each on a 2-core CPU, and thresholds measured for them (see the README).
REDUCED = {
    "cdcgan": Budget(steps=1500, batch_size=16, seconds=60, width=16),
    "cwgan_gp": Budget(steps=800, batch_size=16, seconds=60, width=16),
}
REDUCED_QUALITY = {
    "conditional_accuracy": {"zero": 0.15, "full": 0.3},
    "fid_ratio": {"zero": 400.0, "full": 200.0},
    "diversity": {"zero": 0.1, "full": 0.4},
}
# Both references' generators take (z, y) in a method with this header; a variant's first line overrides one input.
GENERATOR_FORWARD = "    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:\n"


def first_line(line: str) -> tuple[str, str]:
    """The edit that makes `line` the first line of the generator's forward."""
    return GENERATOR_FORWARD, f"{GENERATOR_FORWARD}        {line}\n"


# (task, edit of the reference or None, expected outcome), named "task-variant"
BRIEF_TRAINING_CASES = [
    case
    for task_id in ("cdcgan", "cwgan_gp")
    for case in (
        pytest.param(task_id, None, "full", id=f"{task_id}-reference"),
        pytest.param(task_id, first_line("y = torch.zeros_like(y)"), "zero", id=f"{task_id}-label-ignoring"),
        pytest.param(task_id, first_line("z = torch.zeros_like(z)"), "no diversity", id=f"{task_id}-mode-collapse"),
    )
] + [
    # The spec's plain generator, without the reference's label scale, is a correct solution in another style.
    pytest.param(
        "cdcgan", ("torch.cat([z, 5.0 * y], dim=1)", "torch.cat([z, y], dim=1)"), "full", id="cdcgan-label-unscaled"
    ),
]


@pytest.mark.slow
@pytest.mark.parametrize(("task_id", "edit", "expected"), BRIEF_TRAINING_CASES)
def test_brief_training_on_a_reduced_budget(
    shared_workers: SharedWorkers, task_id: str, edit: tuple[str, str] | None, expected: str
) -> None:
    task = CATALOGUE[task_id]
    budget = REDUCED[task_id]
    reduced = dataclasses.replace(task, budgets={"cpu": budget, "cuda": budget}, quality=REDUCED_QUALITY)
    check = next(c for c in reduced.checks if c.kind == "training_quality")
    source = None if edit is None else with_bug(task_id, *edit)
    result = shared_workers.results(task_id, [check], source, task=reduced)["training_quality"]
    details = result.details
    if expected == "full":
        assert result.points == result.max_points, result.message
        pictures = {"samples, one class per row", "losses", "interpolation", "accuracy per class"}
        if task.training["discriminator"] != "Critic":  # a critic's scores have no accuracy; its losses stand in
            pictures.add("D accuracy")
        assert set(result.images) >= pictures
    elif expected == "zero":
        assert result.points == 0 and details["conditional_accuracy"] <= 0.15, result.message
    else:
        assert details["diversity"] < 0.05 and 0 < result.points < result.max_points, result.message
