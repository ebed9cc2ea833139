"""Helpers every task's student file may use as given (they are not TODOs)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np
import torch

LATENT_DIM = 100
NUM_CLASSES = 10


def one_hot(labels: torch.Tensor | int, num_classes: int = NUM_CLASSES) -> torch.Tensor:
    """Float one-hot vectors (B, num_classes) for integer labels (B,); an int gives (1, num_classes)."""
    labels = torch.as_tensor(labels).long().reshape(-1)
    return torch.nn.functional.one_hot(labels, num_classes).float()


def sample_latent(n: int, device: torch.device | str = "cpu", rng: torch.Generator | None = None) -> torch.Tensor:
    """z ~ N(0, I) of shape (n, LATENT_DIM); pass `rng` to make the draw replayable."""
    return torch.randn(n, LATENT_DIM, device=device, generator=rng)


def to_unit_numpy(images: torch.Tensor) -> np.ndarray:
    """Images (n, 1, H, W) in [-1, 1] → numpy float32 (n, H, W) in [0, 1], the `generate` contract."""
    return ((images.detach().float().cpu().squeeze(1) + 1.0) / 2.0).clamp(0.0, 1.0).numpy()


@contextlib.contextmanager
def evaluating(model: torch.nn.Module) -> Iterator[torch.nn.Module]:
    """Eval mode and no autograd inside the block; the model's previous mode is restored after it."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            yield model
    finally:
        model.train(was_training)
