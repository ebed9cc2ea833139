"""The frozen classifiers that score generated images: one small CNN per data set.

Weights ship in `gankit/weights/<dataset>.pt` next to a JSON sidecar (architecture, data source, test
accuracy, sha256). Loading checks the sha256 before torch reads a byte and uses `weights_only=True`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn as nn

from gankit.common import NUM_CLASSES
from gankit.data import load_dataset, pad_to_32

ARCHITECTURE = "ClassifierCNN-v1"
FEATURE_DIM = 128
WEIGHTS_DIR = Path(__file__).parent / "weights"


class ClassifierIntegrityError(RuntimeError):
    """The weights on disk are not the ones the sidecar describes."""


def _conv_bn_relu(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU())


class ClassifierCNN(nn.Module):
    """Takes (B, 1, 28, 28) or (B, 1, 32, 32) in [-1, 1]; 28×28 input is padded by the data layer's rule."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(
            _conv_bn_relu(1, 32), nn.MaxPool2d(2),  # (B, 32, 16, 16)
            _conv_bn_relu(32, 64), _conv_bn_relu(64, 64), nn.MaxPool2d(2),  # (B, 64, 8, 8)
            _conv_bn_relu(64, 128), nn.MaxPool2d(2),  # (B, 128, 4, 4)
            nn.Flatten(), nn.Dropout(0.3),
            nn.Linear(128 * 4 * 4, FEATURE_DIM), nn.ReLU(),  # (B, 128)
        )  # fmt: skip
        self.head = nn.Sequential(nn.Dropout(0.3), nn.Linear(FEATURE_DIM, NUM_CLASSES))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The layer before the head, (B, 128): what Fréchet distance and t-SNE use."""
        if x.shape[-2:] == (28, 28):
            x = pad_to_32(x)
        if x.shape[1:] != (1, 32, 32):
            raise ValueError(f"expected images (B, 1, 28, 28) or (B, 1, 32, 32), got {tuple(x.shape)}")
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))  # (B, 10) logits


@dataclass(frozen=True)
class ClassifierCard:
    """The JSON sidecar next to a weights file."""

    architecture: str
    dataset: str
    image_size: int
    data_source: str
    train_images: int
    test_accuracy: float
    sha256: str
    trained_with: str
    device: str
    torch_version: str

    @classmethod
    def read(cls, path: Path) -> ClassifierCard:
        try:
            return cls(**json.loads(path.read_text()))
        except (ValueError, TypeError) as error:
            raise ClassifierIntegrityError(f"{path} is not a classifier sidecar: {error}") from error

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(self.__dict__, indent=2) + "\n")


def weights_paths(dataset: str, weights_dir: Path = WEIGHTS_DIR) -> tuple[Path, Path]:
    """(weights file, sidecar) of the frozen classifier for `dataset`."""
    return weights_dir / f"{dataset}.pt", weights_dir / f"{dataset}.json"


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_frozen_classifier(
    dataset: str, device: str | torch.device = "cpu", weights_dir: Path = WEIGHTS_DIR
) -> tuple[ClassifierCNN, ClassifierCard]:
    """The classifier in eval mode with gradients off, and its card; refuses weights whose sha256 differs."""
    weights, sidecar = weights_paths(dataset, weights_dir)
    if not weights.is_file() or not sidecar.is_file():
        raise FileNotFoundError(
            f"no frozen classifier for {dataset!r} in {weights_dir} "
            f"(expected {weights.name} and {sidecar.name}); "
            f"train one with `python -m gankit.train_classifier {dataset}`"
        )
    card = ClassifierCard.read(sidecar)
    actual = sha256_of(weights)
    if actual != card.sha256:
        raise ClassifierIntegrityError(
            f"{weights} has sha256 {actual[:16]}…, but {sidecar.name} records {card.sha256[:16]}…: "
            "the weights were changed or corrupted; restore them from the repository or retrain"
        )
    if card.architecture != ARCHITECTURE:
        raise ClassifierIntegrityError(f"{sidecar} describes {card.architecture}, this code builds {ARCHITECTURE}")
    model = ClassifierCNN()
    model.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
    model.to(device).eval().requires_grad_(False)
    return model, card


@torch.no_grad()
def predict(model: nn.Module, images: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """Class predictions (N,) for images (N, 1, H, W), in batches so a large set fits in memory."""
    return torch.cat([model(images[i : i + batch_size]).argmax(1) for i in range(0, len(images), batch_size)])


def accuracy_on_test_split(model: nn.Module, dataset: str, size: int = 32, device: str | torch.device = "cpu") -> float:
    """Fraction of the data set's test split that `model` classifies correctly."""
    images, labels = load_dataset(dataset, "test", size=size, device=device)
    return (predict(model, images) == labels).float().mean().item()
