import numpy as np
import pytest

from gankit.classifier import load_frozen_classifier
from gankit.data import load_dataset
from gankit.metrics import (
    class_coverage,
    features_and_predictions,
    frechet_distance,
    mean_pairwise_distance,
    per_class_accuracy,
)


def test_frechet_distance_of_gaussians_matches_the_closed_form():
    rng = np.random.default_rng(0)
    a = rng.normal(0.0, 1.0, size=(20000, 3))
    b = rng.normal(2.0, 2.0, size=(20000, 3))
    # Means differ by 2 in each of 3 dims (12); Tr(I + 4I − 2·2I) = 3.
    assert frechet_distance(a, b) == pytest.approx(15.0, rel=0.03)
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)


def test_per_class_accuracy():
    labels = np.array([0, 0, 1, 1, 1])
    predictions = np.array([0, 1, 1, 1, 0])
    accuracy = per_class_accuracy(predictions, labels)
    assert accuracy[0] == 0.5 and accuracy[1] == pytest.approx(2 / 3) and np.isnan(accuracy[2])


def test_real_test_images_score_like_the_classifier_and_sit_close_to_the_train_split():
    classifier, card = load_frozen_classifier("mnist")
    test_images, test_labels = load_dataset("mnist", "test")
    test_features, predictions = features_and_predictions(classifier, test_images)
    assert np.nanmean(per_class_accuracy(predictions, test_labels.numpy())) == pytest.approx(
        card.test_accuracy, abs=0.01
    )
    train_features, _ = features_and_predictions(classifier, load_dataset("mnist", "train")[0][:2000])
    clothes_features, _ = features_and_predictions(classifier, load_dataset("fashion-mnist", "test")[0][:2000])
    same_distribution = frechet_distance(test_features, train_features)
    assert same_distribution < 0.1 * frechet_distance(test_features, clothes_features)
    assert frechet_distance(test_features, test_features) == pytest.approx(0.0, abs=1e-3)


def test_mean_pairwise_distance_is_zero_for_copies_and_known_for_two_points():
    assert mean_pairwise_distance(np.ones((5, 3))) == pytest.approx(0.0, abs=1e-6)
    assert mean_pairwise_distance(np.array([[0.0, 0.0], [3.0, 4.0]])) == pytest.approx(5.0)
    assert mean_pairwise_distance(np.zeros((1, 3))) == 0.0


def test_class_coverage_counts_classes_with_a_fair_share():
    predictions = np.array([0] * 50 + [1] * 45 + [2] * 5)
    assert class_coverage(predictions) == pytest.approx(0.3)
    assert class_coverage(predictions, minimum_share=0.1) == pytest.approx(0.2)
