"""Sample-quality figures computed with a frozen classifier: accuracy per class and Fréchet distance in
the classifier's feature space (the FID recipe with a small in-domain network instead of Inception)."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn

from gankit.common import NUM_CLASSES


@torch.no_grad()
def features_and_predictions(
    classifier: nn.Module, images: torch.Tensor, batch_size: int = 1000
) -> tuple[np.ndarray, np.ndarray]:
    """Features (N, F) float64 and predicted classes (N,) of images (N, 1, H, W) in [-1, 1]."""
    device = next(classifier.parameters()).device
    features, predictions = [], []
    for start in range(0, len(images), batch_size):
        batch = images[start : start + batch_size].to(device)
        h = classifier.features(batch)  # (b, F)
        features.append(h.double().cpu())
        predictions.append(classifier.head(h).argmax(1).cpu())
    return torch.cat(features).numpy(), torch.cat(predictions).numpy()


def per_class_accuracy(predictions: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """(10,) fraction of each class's images predicted as that class (NaN for a class with no images)."""
    accuracy = np.full(NUM_CLASSES, np.nan)
    for c in range(NUM_CLASSES):
        chosen = labels == c
        if chosen.any():
            accuracy[c] = float((predictions[chosen] == c).mean())
    return accuracy


def _psd_sqrt(matrix: np.ndarray) -> np.ndarray:
    """Square root of a symmetric positive semi-definite matrix; rounding's tiny negative eigenvalues become 0."""
    eigenvalues, eigenvectors = np.linalg.eigh(matrix)
    return (eigenvectors * np.sqrt(np.clip(eigenvalues, 0.0, None))) @ eigenvectors.T


def frechet_distance(features_a: np.ndarray, features_b: np.ndarray) -> float:
    """‖μa − μb‖² + Tr(Σa + Σb − 2 (Σa Σb)^½) between two feature sets (N, F) and (M, F).

    Tr (Σa Σb)^½ is taken as Σ √λ over the eigenvalues λ of the symmetric Σa^½ Σb Σa^½, which has the same
    spectrum and stays well defined when dead features make a covariance singular.
    """
    mu_a, mu_b = features_a.mean(0), features_b.mean(0)
    cov_a, cov_b = np.cov(features_a, rowvar=False), np.cov(features_b, rowvar=False)
    root_a = _psd_sqrt(cov_a)
    eigenvalues = np.linalg.eigvalsh(root_a @ cov_b @ root_a)
    trace_root = float(np.sqrt(np.clip(eigenvalues, 0.0, None)).sum())
    distance = ((mu_a - mu_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2.0 * trace_root
    return max(0.0, float(distance))  # rounding can dip a zero distance just below 0


def mean_pairwise_distance(features: np.ndarray) -> float:
    """Mean Euclidean distance over all pairs of rows of (N, F); 0 for fewer than two rows.

    A generator that draws one image per class (mode collapse) scores near 0 within each class.
    """
    if len(features) < 2:
        return 0.0
    squared = (features**2).sum(1)
    distances = np.sqrt(np.clip(squared[:, None] + squared[None, :] - 2.0 * features @ features.T, 0.0, None))
    n = len(features)
    return float(distances.sum() / (n * (n - 1)))


def class_coverage(predictions: np.ndarray, minimum_share: float = 0.05) -> float:
    """Fraction of the classes that receive at least `minimum_share` of the predictions."""
    counts = np.bincount(predictions, minlength=NUM_CLASSES)[:NUM_CLASSES]
    return float((counts >= minimum_share * len(predictions)).mean())
