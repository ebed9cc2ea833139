"""Evaluating a class-conditional GAN on Fashion-MNIST with a classifier of your own (seed 000's report list).

Train a small CNN on real images, freeze it, and use it twice: its penultimate layer gives features for a
t-SNE embedding of train, test and generated images; its predictions give the classification accuracy on
generated images of each requested class. Images are (B, 1, 28, 28) or (B, 1, 32, 32) in [-1, 1].
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.manifold import TSNE

from gankit.common import NUM_CLASSES, evaluating, one_hot, sample_latent

FEATURE_DIM = 128


class Classifier(nn.Module):
    """A small CNN: images (B, 1, 28, 28) or (B, 1, 32, 32) in [-1, 1] → class logits (B, 10).

    `features(x)` is the layer before the head, (B, FEATURE_DIM); `forward(x) = head(features(x))`.
    """

    def __init__(self) -> None:
        super().__init__()
        # TODO: implement Classifier.__init__
        raise NotImplementedError("TODO in evaluation.py: implement Classifier.__init__")

    def features(self, x: torch.Tensor) -> torch.Tensor:
        # TODO: implement Classifier.features
        raise NotImplementedError("TODO in evaluation.py: implement Classifier.features")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # TODO: implement Classifier.forward
        raise NotImplementedError("TODO in evaluation.py: implement Classifier.forward")


def train_classifier(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    epochs: int = 1,
    batch_size: int = 128,
    lr: float = 1e-3,
    rng: torch.Generator | None = None,
) -> nn.Module:
    """Train `model` with Adam and cross-entropy on images (N, 1, H, W) and integer labels (N,).

    Each epoch visits the images in the order of a random permutation drawn with `rng` (on the images'
    device), in batches taken by indexing, so the data stays where it is. Returns the model in eval mode.
    """
    # TODO: implement train_classifier
    raise NotImplementedError("TODO in evaluation.py: implement train_classifier")


def extract_features(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The layer before the classification head, (B, F), computed in eval mode without autograd.

    `model` has a `features(x)` method (Classifier above, or the grader's frozen classifier); its training
    mode is restored afterwards.
    """
    # TODO: implement extract_features
    raise NotImplementedError("TODO in evaluation.py: implement extract_features")


def tsne_embedding(features: torch.Tensor | np.ndarray, seed: int = 0) -> np.ndarray:
    """A 2-D t-SNE embedding (N, 2) float32 of features (N, F), reproducible for a given seed.

    scikit-learn's TSNE with PCA initialisation and random_state=seed; the perplexity is 30, lowered for
    small N because it must stay below the number of points.
    """
    # TODO: implement tsne_embedding
    raise NotImplementedError("TODO in evaluation.py: implement tsne_embedding")


def generated_accuracy(
    classifier: nn.Module, G: nn.Module, n_per_class: int = 100, rng: torch.Generator | None = None
) -> float:
    """Fraction of generated images that `classifier` assigns the class G was asked for.

    For each class c in 0..9, n_per_class images G(z, one_hot(c)) are sampled with G in eval mode
    (z ~ N(0, I) drawn with `rng`) and classified; the result is the accuracy over all 10·n_per_class
    images. The codes live on the device of G's parameters, where the classifier must be too.
    """
    # TODO: implement generated_accuracy
    raise NotImplementedError("TODO in evaluation.py: implement generated_accuracy")
