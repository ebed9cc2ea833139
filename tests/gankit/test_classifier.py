import shutil

import pytest
import torch

from gankit.classifier import (
    FEATURE_DIM,
    ClassifierIntegrityError,
    accuracy_on_test_split,
    load_frozen_classifier,
    weights_paths,
)
from gankit.data import DATASETS, load_dataset


@pytest.mark.slow
@pytest.mark.parametrize("dataset, floor", [("fashion-mnist", 0.925), ("mnist", 0.98)])
def test_sidecar_accuracy_is_what_the_test_split_gives(dataset, floor):
    model, card = load_frozen_classifier(dataset)
    accuracy = accuracy_on_test_split(model, dataset)
    print(f"{dataset}: measured test accuracy {accuracy:.2%} (sidecar {card.test_accuracy:.2%})")
    assert accuracy == pytest.approx(card.test_accuracy, abs=0.005)
    assert accuracy >= floor


@pytest.mark.parametrize("dataset", DATASETS)
def test_28_pixel_input_is_padded_like_the_data_layer(dataset):
    model, _ = load_frozen_classifier(dataset)
    small, _ = load_dataset(dataset, "test", size=28)
    large, _ = load_dataset(dataset, "test", size=32)
    assert torch.allclose(model(small[:64]), model(large[:64]))
    assert model.features(small[:64]).shape == (64, FEATURE_DIM)


def test_loaded_classifier_is_frozen():
    model, card = load_frozen_classifier("mnist")
    assert not model.training
    assert not any(p.requires_grad for p in model.parameters())
    assert card.dataset == "mnist" and card.image_size == 32


def test_wrong_image_shape_is_a_clear_error():
    model, _ = load_frozen_classifier("mnist")
    with pytest.raises(ValueError, match=r"expected images \(B, 1, 28, 28\) or \(B, 1, 32, 32\)"):
        model(torch.zeros(2, 3, 32, 32))


@pytest.fixture
def copied_weights(tmp_path):
    for path in weights_paths("mnist"):
        shutil.copy(path, tmp_path / path.name)
    return tmp_path


def test_tampered_weights_are_refused(copied_weights):
    weights, _ = weights_paths("mnist", copied_weights)
    payload = bytearray(weights.read_bytes())
    payload[len(payload) // 2] ^= 0xFF
    weights.write_bytes(bytes(payload))
    with pytest.raises(ClassifierIntegrityError, match="sha256"):
        load_frozen_classifier("mnist", weights_dir=copied_weights)


def test_missing_weights_say_how_to_train_them(copied_weights):
    weights_paths("mnist", copied_weights)[0].unlink()
    with pytest.raises(FileNotFoundError, match="python -m gankit.train_classifier mnist"):
        load_frozen_classifier("mnist", weights_dir=copied_weights)


def test_malformed_sidecar_is_refused(copied_weights):
    weights_paths("mnist", copied_weights)[1].write_text('{"architecture": "x"}')
    with pytest.raises(ClassifierIntegrityError, match="not a classifier sidecar"):
        load_frozen_classifier("mnist", weights_dir=copied_weights)
