import numpy as np
import pytest
import torch
import torch.nn as nn

from gankit.classifier import load_frozen_classifier, predict
from gankit.data import load_dataset
from reference import evaluation


class ImageBankGenerator(nn.Module):
    """A stand-in for G(z, y): real images of the class y asks for, or of `fixed_class` whatever y asks."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, fixed_class: int | None = None) -> None:
        super().__init__()
        # A parameter (frozen) so that generated_accuracy finds G's device the usual way.
        self.images = nn.Parameter(images, requires_grad=False)
        self.labels = labels
        self.fixed_class = fixed_class

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        # generated_accuracy asks for one class per call, so the first label stands for the batch.
        c = y[0].argmax() if self.fixed_class is None else self.fixed_class
        of_class = self.images[self.labels == c]
        return of_class[torch.arange(len(y)) % len(of_class)]  # (n, 1, 32, 32)


@pytest.fixture(scope="module")
def frozen_and_recognised():
    """The frozen Fashion-MNIST classifier and the 32×32 test images it classifies correctly."""
    classifier, _ = load_frozen_classifier("fashion-mnist")
    images, labels = load_dataset("fashion-mnist", "test", size=32)
    images, labels = images[:2000], labels[:2000]  # about 200 per class, enough for the stand-in generators
    right = predict(classifier, images) == labels
    return classifier, images[right], labels[right]


@pytest.mark.parametrize("size", [28, 32])
def test_classifier_shapes_for_both_image_sizes(size):
    model = evaluation.Classifier().eval()
    x = torch.rand(3, 1, size, size) * 2 - 1
    assert model(x).shape == (3, 10)
    assert model.features(x).shape == (3, evaluation.FEATURE_DIM)


def test_extract_features_is_the_layer_before_the_head_without_grad_and_keeps_the_mode():
    torch.manual_seed(0)
    model = evaluation.Classifier().train()
    x = torch.rand(4, 1, 32, 32) * 2 - 1
    features = evaluation.extract_features(model, x)
    assert model.training
    assert features.shape == (4, evaluation.FEATURE_DIM) and features.dtype == torch.float32
    assert not features.requires_grad
    model.eval()
    assert torch.allclose(model.head(features), model(x))


@pytest.mark.slow
def test_train_classifier_learns_is_replayable_and_returns_the_model_in_eval_mode():
    images, labels = load_dataset("fashion-mnist", "train", size=32)
    test_images, test_labels = load_dataset("fashion-mnist", "test", size=32)
    trained = []
    for _ in range(2):
        torch.manual_seed(0)
        model = evaluation.Classifier()
        rng = torch.Generator().manual_seed(0)
        result = evaluation.train_classifier(model, images[:2000], labels[:2000], rng=rng)
        assert result is model and not model.training
        trained.append(model)
    accuracy = (predict(trained[0], test_images[:1000]) == test_labels[:1000]).float().mean().item()
    assert accuracy > 0.5  # 2,000 images, one epoch: about 0.6, against 0.1 by chance
    first, second = (list(model.parameters()) for model in trained)
    assert all(torch.equal(a, b) for a, b in zip(first, second, strict=True))


def test_tsne_shape_determinism_and_input_types():
    features = torch.randn(40, 16, generator=torch.Generator().manual_seed(0))
    embedding = evaluation.tsne_embedding(features, seed=3)
    assert embedding.shape == (40, 2) and embedding.dtype == np.float32
    assert np.array_equal(embedding, evaluation.tsne_embedding(features.numpy(), seed=3))
    assert evaluation.tsne_embedding(features[:5]).shape == (5, 2)  # perplexity lowered below N


def test_generated_accuracy_is_one_for_a_generator_that_returns_the_requested_class(frozen_and_recognised):
    classifier, images, labels = frozen_and_recognised
    G = ImageBankGenerator(images, labels).train()
    assert evaluation.generated_accuracy(classifier, G, n_per_class=50) == 1.0
    assert G.training  # evaluated in eval mode, mode restored


def test_generated_accuracy_is_a_tenth_for_a_generator_that_ignores_the_label(frozen_and_recognised):
    classifier, images, labels = frozen_and_recognised
    G = ImageBankGenerator(images, labels, fixed_class=3)
    assert evaluation.generated_accuracy(classifier, G, n_per_class=20) == pytest.approx(0.1)
