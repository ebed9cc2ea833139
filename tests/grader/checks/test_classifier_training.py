"""The `classifier_training` check: the reference's train_classifier reaches the threshold in one epoch and comes
back in eval mode; one that does not train, or returns the model in training mode, loses the matching share."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.grader.checks.conftest import SharedWorkers, full, with_bug


@pytest.fixture(scope="module")
def variants(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SharedWorkers]:
    session = SharedWorkers(tmp_path_factory.mktemp("classifier_training"))
    yield session
    session.close()


@pytest.mark.slow
def test_reference_trains_above_the_threshold(variants: SharedWorkers) -> None:
    result = variants.results("evaluation", ["classifier_training"])["classifier_training"]
    assert full(result), result.message


def test_training_that_does_nothing(variants: SharedWorkers) -> None:
    source = with_bug(
        "evaluation", "    for _ in range(epochs):\n        order", "    for _ in range(0):\n        order"
    )
    result = variants.results("evaluation", ["classifier_training"], source)["classifier_training"]
    assert 0 < result.points < 0.5 * result.max_points  # the eval-mode share only
    assert "below the threshold" in result.message


def test_model_returned_in_training_mode(variants: SharedWorkers) -> None:
    source = with_bug(
        "evaluation", "    for _ in range(epochs):\n        order", "    for _ in range(0):\n        order"
    ).replace("    return model.eval()\n", "    return model\n")
    result = variants.results("evaluation", ["classifier_training"], source)["classifier_training"]
    assert result.points < 0.1 * result.max_points  # at most what an untrained model's chance accuracy earns
    assert "eval mode" in result.message
