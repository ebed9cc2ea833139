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
        # BEGIN SOLUTION
        self.body = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1),
            nn.BatchNorm2d(32),
            nn.ReLU(),
            nn.MaxPool2d(2),  # (B, 32, H/2, W/2)
            nn.Conv2d(32, 64, 3, padding=1),
            nn.BatchNorm2d(64),
            nn.ReLU(),
            nn.MaxPool2d(2),  # (B, 64, H/4, W/4): 7×7 or 8×8
            nn.AdaptiveAvgPool2d(4),  # (B, 64, 4, 4) for both input sizes
            nn.Flatten(),
            nn.Linear(64 * 4 * 4, FEATURE_DIM),
            nn.ReLU(),  # (B, 128)
        )
        self.head = nn.Linear(FEATURE_DIM, NUM_CLASSES)
        # END SOLUTION

    def features(self, x: torch.Tensor) -> torch.Tensor:
        # BEGIN SOLUTION
        return self.body(x)  # (B, 128)
        # END SOLUTION

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # BEGIN SOLUTION
        return self.head(self.features(x))  # (B, 10)
        # END SOLUTION


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
    # BEGIN SOLUTION
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(images), generator=rng, device=images.device)
        for start in range(0, len(images), batch_size):
            batch = order[start : start + batch_size]
            loss = F.cross_entropy(model(images[batch]), labels[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return model.eval()
    # END SOLUTION


def extract_features(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The layer before the classification head, (B, F), computed in eval mode without autograd.

    `model` has a `features(x)` method (Classifier above, or the grader's frozen classifier); its training
    mode is restored afterwards.
    """
    # BEGIN SOLUTION
    with evaluating(model):
        return model.features(x)  # (B, F)
    # END SOLUTION


def tsne_embedding(features: torch.Tensor | np.ndarray, seed: int = 0) -> np.ndarray:
    """A 2-D t-SNE embedding (N, 2) float32 of features (N, F), reproducible for a given seed.

    scikit-learn's TSNE with PCA initialisation and random_state=seed; the perplexity is 30, lowered for
    small N because it must stay below the number of points.
    """
    # BEGIN SOLUTION
    if isinstance(features, torch.Tensor):
        features = features.detach().cpu().numpy()
    features = np.asarray(features, dtype=np.float32)
    perplexity = min(30.0, (len(features) - 1) / 3)
    tsne = TSNE(n_components=2, init="pca", perplexity=perplexity, random_state=seed)
    return tsne.fit_transform(features).astype(np.float32)
    # END SOLUTION


def generated_accuracy(
    classifier: nn.Module, G: nn.Module, n_per_class: int = 100, rng: torch.Generator | None = None
) -> float:
    """Fraction of generated images that `classifier` assigns the class G was asked for.

    For each class c in 0..9, n_per_class images G(z, one_hot(c)) are sampled with G in eval mode
    (z ~ N(0, I) drawn with `rng`) and classified; the result is the accuracy over all 10·n_per_class
    images. The codes live on the device of G's parameters, where the classifier must be too.
    """
    # BEGIN SOLUTION
    device = next(G.parameters()).device
    correct = 0
    with evaluating(G), evaluating(classifier):
        for c in range(NUM_CLASSES):
            y = one_hot(torch.full((n_per_class,), c)).to(device)  # (n, 10)
            images = G(sample_latent(n_per_class, device, rng), y)  # (n, 1, H, W)
            correct += (classifier(images).argmax(dim=1) == c).sum().item()
    return correct / (NUM_CLASSES * n_per_class)
    # END SOLUTION
