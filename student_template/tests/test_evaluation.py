"""Public sanity tests for evaluation.py: the classifier's shapes, one tiny training run, features, t-SNE and
the accuracy on generated images with a hand-made generator and classifier.

Run them with `pytest tests/test_evaluation.py`. Passing them means your code has the right shape; the grader
then trains your classifier on real data and checks the accuracy against generators it knows.
"""

import evaluation as student
import numpy as np
import torch
from public_checks import changed, parameters, random_images

from gankit.common import NUM_CLASSES


class PixelCodeGenerator(torch.nn.Module):
    """A fake conditional G: black images whose first 10 pixels hold the label vector (scaled to [-1, 1])."""

    def __init__(self, ignore_label: bool = False) -> None:
        super().__init__()
        self.anchor = torch.nn.Parameter(torch.zeros(1))  # so that next(G.parameters()) gives the device
        self.ignore_label = ignore_label

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        assert z.shape == (len(y), 100), "G must be called with z from sample_latent(n, device, rng), shape (n, 100)"
        assert y.shape == (len(z), NUM_CLASSES), "G must be called with float one-hot labels (n, 10)"
        if self.ignore_label:
            y = torch.zeros_like(y)
            y[:, 0] = 1.0
        images = torch.full((len(z), 1, 28, 28), -1.0) + 0 * self.anchor
        images[:, 0, 0, :NUM_CLASSES] = 2 * y - 1
        return images


class PixelCodeClassifier(torch.nn.Module):
    """A fake classifier that reads the class from the first 10 pixels: it recognises PixelCodeGenerator's images."""

    def __init__(self) -> None:
        super().__init__()
        self.anchor = torch.nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(1)[:, :NUM_CLASSES] + 0 * self.anchor


def test_classifier_logits_for_28_and_32_pixel_images() -> None:
    torch.manual_seed(0)
    model = student.Classifier()
    for size in (28, 32):
        logits = model(random_images(4, size))
        assert logits.shape == (4, 10), (
            f"Classifier must return logits (B, 10) for {size}×{size} input, got {tuple(logits.shape)}"
        )
        assert logits.dtype == torch.float32, f"Classifier must return float32 logits, got {logits.dtype}"


def test_train_classifier_trains_in_place_and_returns_the_model() -> None:
    torch.manual_seed(0)
    model = student.Classifier()
    images = random_images(16, 32)
    labels = torch.randint(0, 10, (16,))
    before = parameters(model)
    returned = student.train_classifier(
        model, images, labels, epochs=1, batch_size=8, rng=torch.Generator().manual_seed(0)
    )
    assert returned is model, "train_classifier must return the model it was given (train it in place)"
    assert not model.training, "train_classifier must return the model in eval mode (call model.eval())"
    assert changed(before, model), "train_classifier must update the model's parameters"


def test_extract_features_shape_detached_and_mode_restored() -> None:
    torch.manual_seed(0)
    model = student.Classifier()
    model.train()
    f28 = student.extract_features(model, random_images(3, 28))
    f32 = student.extract_features(model, random_images(3, 32))
    assert isinstance(f28, torch.Tensor), f"extract_features must return a tensor, got {type(f28).__name__}"
    assert f28.dim() == 2 and f28.shape[0] == 3, f"extract_features must return (B, F), got {tuple(f28.shape)}"
    assert f28.shape == f32.shape, (
        "the feature size must not depend on the image size: "
        f"{tuple(f28.shape)} for 28×28, {tuple(f32.shape)} for 32×32"
    )
    assert f28.dtype == torch.float32, f"features must be float32, got {f28.dtype}"
    assert not f28.requires_grad, "features must be detached: compute them without autograd (with evaluating(model))"
    assert model.training, "extract_features must restore the model's mode (it was in train mode before)"


def test_tsne_embedding_shape_and_reproducibility() -> None:
    torch.manual_seed(0)
    features = torch.randn(20, 16)
    first = student.tsne_embedding(features, seed=0)
    assert isinstance(first, np.ndarray), f"tsne_embedding must return a numpy array, got {type(first).__name__}"
    assert first.shape == (20, 2), (
        f"tsne_embedding must return (N, 2), got {first.shape}; lower the perplexity for small N"
    )
    assert np.issubdtype(first.dtype, np.floating), f"tsne_embedding must return floats, got {first.dtype}"
    assert np.isfinite(first).all(), "tsne_embedding returned non-finite values"
    again = student.tsne_embedding(features.numpy(), seed=0)
    assert np.allclose(first, again, atol=1e-4), (
        "the same features and seed must give the same embedding (tensor or array input): pass random_state=seed"
    )


def test_generated_accuracy_of_a_faithful_generator_is_one() -> None:
    accuracy = student.generated_accuracy(PixelCodeClassifier(), PixelCodeGenerator(), n_per_class=3)
    assert isinstance(accuracy, float), f"generated_accuracy must return a Python float, got {type(accuracy).__name__}"
    assert abs(accuracy - 1.0) < 1e-6, (
        f"a generator whose every image is recognised as the requested class must score 1.0, got {accuracy}"
    )


def test_generated_accuracy_of_a_label_ignoring_generator_is_a_tenth() -> None:
    accuracy = student.generated_accuracy(
        PixelCodeClassifier(),
        PixelCodeGenerator(ignore_label=True),
        n_per_class=4,
        rng=torch.Generator().manual_seed(0),
    )
    assert abs(accuracy - 0.1) < 1e-6, (
        f"a generator that always makes class 0 must score 0.1 over the 10 classes, got {accuracy}"
    )
