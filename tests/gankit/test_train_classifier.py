import itertools
import json

import pytest
import torch

from gankit.classifier import load_frozen_classifier, sha256_of
from gankit.data import load_dataset
from gankit.train_classifier import MAX_SHIFT, augment, main


def shifted_copies(image: torch.Tensor) -> list[torch.Tensor]:
    """Every whole-pixel translation of `image` (1, 32, 32) by up to MAX_SHIFT, filled with background."""
    padded = torch.nn.functional.pad(image, (MAX_SHIFT,) * 4, value=-1.0)
    size = image.shape[-1]
    offsets = range(2 * MAX_SHIFT + 1)
    return [padded[:, dy : dy + size, dx : dx + size] for dy, dx in itertools.product(offsets, offsets)]


@pytest.mark.parametrize("flip", [False, True])
def test_augment_only_translates_and_mirrors(flip):
    images, _ = load_dataset("mnist", "test", size=32)
    batch = images[:32]
    out = augment(batch, flip=flip, generator=torch.Generator().manual_seed(1))
    assert out.shape == batch.shape
    for original, moved in zip(batch, out, strict=True):
        candidates = shifted_copies(original)
        if flip:
            candidates += shifted_copies(original.flip(-1))
        assert any(torch.equal(moved, c) for c in candidates)
    assert not torch.equal(out, batch)


@pytest.mark.slow
def test_training_command_writes_weights_and_a_truthful_sidecar(tmp_path, capsys):
    main(["mnist", "--epochs", "1", "--device", "cpu", "--out", str(tmp_path)])
    card = json.loads((tmp_path / "mnist.json").read_text())
    assert card["sha256"] == sha256_of(tmp_path / "mnist.pt")
    assert card["test_accuracy"] > 0.9 and card["train_images"] == 8004
    assert card["trained_with"] == f"python -m gankit.train_classifier mnist --epochs 1 --device cpu --out {tmp_path}"
    model, loaded = load_frozen_classifier("mnist", weights_dir=tmp_path)
    assert loaded.test_accuracy == card["test_accuracy"]
    assert "test accuracy" in capsys.readouterr().out
