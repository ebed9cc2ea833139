"""Kind `training_quality`: train the student's GAN briefly in the sandbox, then score its samples here with the
frozen classifier of the task's data set.

Figures, each turned into a fraction by the task's `[quality]` thresholds (no points at `zero`, all at `full`,
linear between; a threshold pair with zero > full means lower is better):
- `conditional_accuracy`: the mean over classes of the share of samples asked for class c that the classifier
  calls c;
- `fid_ratio`: Fréchet distance in classifier-feature space of the samples to real test images, over that of
  as many real training images to the same test images (1 = as good as real data);
- `diversity`: mean pairwise feature distance within each class (by requested class, or predicted class for
  unconditional tasks) over the same for real test images; one image per class scores 0;
- `class_coverage`: the share of the 10 classes that get at least 5 % of an unconditional generator's samples.
The check's fraction is the mean of these; for a conditional task it is further multiplied by the accuracy
fraction, so samples that ignore the label earn nothing however realistic they look.
"""

from __future__ import annotations

import base64
import functools
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gankit.catalogue import Budget, Task
from gankit.classifier import load_frozen_classifier
from gankit.common import NUM_CLASSES
from gankit.data import load_dataset
from gankit.metrics import (
    class_coverage,
    features_and_predictions,
    frechet_distance,
    mean_pairwise_distance,
    per_class_accuracy,
)
from gankit.plots import (
    class_names,
    plot_discriminator_accuracy,
    plot_fixed_latent_evolution,
    plot_interpolation_strips,
    plot_losses,
    plot_per_class_accuracy,
    plot_sample_grid,
)
from gankit.stage import PER_CLASS
from gankit.training import GanSpec
from grader import validate
from grader.checks import CheckContext, Outcome, check_kind, threshold_fraction
from grader.results import SAMPLE_GRID

REFERENCE_TEST_IMAGES = 2000
RANGE_TOLERANCE = 1e-3
# The wall-clock limit: twice the stage's CPU-seconds safety net plus two minutes to build and score. The worker
# ends a train_step that spends the net itself, so only waiting code, or a machine busy enough to give the worker
# under half a core, ends it by the clock.
WALL_FACTOR = 2
WALL_EXTRA = 120.0


def wall_limit(task: Task, device: str) -> float:
    return task.budget(device).cpu_seconds * WALL_FACTOR + WALL_EXTRA


def wall_limit_message(seconds: float) -> str:
    """The stage's own CPU-time net ends a slow train_step first, so its clock running out means waiting code or
    a starved worker, and the message says both."""
    return (
        f"the stage's wall-clock limit of {seconds:.0f} s was reached before its CPU-time limit: either your "
        "train_step waits (sleep, input, a lock) or the machine was overloaded; if it does not wait, ask your "
        "instructor to grade again"
    )


@functools.lru_cache(maxsize=4)
def real_statistics(dataset: str, size: int) -> dict[str, Any]:
    """Features of real test images, the real train-vs-test Fréchet distance at the sample count, and the
    within-class feature spread of real images, for scoring against."""
    classifier, _ = load_frozen_classifier(dataset, "cpu")
    generator = torch.Generator().manual_seed(0)
    test_images, test_labels = load_dataset(dataset, "test", size=size)
    chosen = torch.randperm(len(test_images), generator=generator)[:REFERENCE_TEST_IMAGES]
    test_features, _ = features_and_predictions(classifier, test_images[chosen])
    test_labels = test_labels[chosen].numpy()
    train_images, _ = load_dataset(dataset, "train", size=size)
    train_subset = train_images[torch.randperm(len(train_images), generator=generator)[: NUM_CLASSES * PER_CLASS]]
    train_features, _ = features_and_predictions(classifier, train_subset)
    spread = [mean_pairwise_distance(test_features[test_labels == c][:PER_CLASS]) for c in range(NUM_CLASSES)]
    return {
        "classifier": classifier,
        "test_features": test_features,
        "real_fd": frechet_distance(train_features, test_features),
        "class_spread": np.array(spread),
        "overall_spread": mean_pairwise_distance(test_features[: NUM_CLASSES * PER_CLASS]),
    }


def training_data(ctx: CheckContext) -> tuple[str, str]:
    """The task's training split (N, 1, H, W) and labels, written where the worker reads them."""
    images, labels = load_dataset(ctx.task.dataset, "train", size=ctx.task.image_size)
    return ctx.put_images("train_images", images.numpy()), ctx.put_array("train_labels", labels.numpy())


def sample_scores(samples: np.ndarray, conditional: bool, stats: dict[str, Any]) -> dict[str, Any]:
    """Every figure the thresholds may name, from samples (10·PER_CLASS, H, W) in [-1, 1], class-major."""
    images = torch.from_numpy(samples).unsqueeze(1)
    features, predictions = features_and_predictions(stats["classifier"], images)
    requested = np.repeat(np.arange(NUM_CLASSES), PER_CLASS)
    grouping = requested if conditional else predictions
    spreads = [
        mean_pairwise_distance(features[grouping == c]) / stats["class_spread"][c]
        for c in range(NUM_CLASSES)
        if (grouping == c).sum() >= 2
    ]
    accuracy = per_class_accuracy(predictions, requested)
    return {
        "per_class_accuracy": accuracy,
        "conditional_accuracy": float(np.nanmean(accuracy)),
        "fid_ratio": frechet_distance(features, stats["test_features"]) / max(stats["real_fd"], 1e-9),
        "diversity": float(np.mean(spreads)) if spreads else 0.0,
        "overall_diversity": mean_pairwise_distance(features) / stats["overall_spread"],
        "class_coverage": class_coverage(predictions),
    }


def sample_grid(task: Task, unit: np.ndarray, path: Path, title: str) -> Path:
    """The first 10 of each class's samples (10·PER_CLASS, H, W) in [0, 1], class-major, one class per row."""
    grid = unit.reshape(NUM_CLASSES, PER_CLASS, *unit.shape[1:])[:, :10].reshape(-1, *unit.shape[1:])
    row_labels = class_names(task.dataset) if task.conditional else None
    return plot_sample_grid(grid, path, title, 10, row_labels)


def data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def figures(ctx: CheckContext, result: dict[str, Any], samples: np.ndarray, scores: dict[str, Any]) -> dict[str, str]:
    """The report's pictures: samples class by row, losses, D accuracy, a fixed code over training, strips."""
    names = class_names(ctx.task.dataset)
    unit = (np.clip(samples, -1, 1) + 1) / 2
    history = result["history"]
    steps = len(next(iter(history.values()), []))
    rows = [{key: float(values[i]) for key, values in history.items()} | {"step": i + 1} for i in range(steps)]
    critic = ctx.task.playing("discriminator", "critic").role == "critic"
    pictures: dict[str, Path] = {}
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        pictures[SAMPLE_GRID] = sample_grid(ctx.task, unit, out / "grid.png", "Samples")
        if rows and {"loss_D", "loss_G"} <= set(history):
            pictures["losses"] = plot_losses(rows, out / "losses.png", "Losses", critic=critic, x="step")
        if rows and {"d_acc_real", "d_acc_fake"} <= set(history):
            pictures["D accuracy"] = plot_discriminator_accuracy(
                rows, out / "acc.png", "D accuracy on real and fake", x="step"
            )
        snapshots = result["snapshots"]
        if len(snapshots):
            evolution = [
                (float(s), (np.clip(img, -1, 1) + 1) / 2)
                for s, img in zip(result["snapshot_steps"], snapshots, strict=False)
            ]
            pictures["fixed latent code"] = plot_fixed_latent_evolution(
                evolution, out / "fixed.png", "Fixed code by step", x="step"
            )
        if "interpolations" in result:
            strips = (np.clip(result["interpolations"], -1, 1) + 1) / 2
            pictures["interpolation"] = plot_interpolation_strips(strips, out / "interp.png", "Label interpolation")
        if ctx.task.conditional:
            full = ctx.task.quality.get("conditional_accuracy", {}).get("full")
            pictures["accuracy per class"] = plot_per_class_accuracy(
                np.nan_to_num(scores["per_class_accuracy"]), out / "per_class.png", class_names=names, threshold=full
            )
        return {title: data_uri(path) for title, path in pictures.items()}


@check_kind("training_quality", trains=True, time_limit=wall_limit, timeout_message=wall_limit_message)
def training_quality(ctx: CheckContext) -> Outcome:
    budget = ctx.task.budget(ctx.device)
    images, labels = training_data(ctx)
    stats = real_statistics(ctx.task.dataset, ctx.task.image_size)
    result = ctx.call(
        "train_gan",
        module=ctx.module,
        spec=GanSpec.of(ctx.task).to_plain(),
        images=images,
        labels=labels,
        steps=budget.steps,
        batch_size=budget.batch_size,
        width=budget.width,
        cpu_seconds=budget.cpu_seconds,
        seed=ctx.seed,
        per_class=PER_CLASS,
    )
    if not isinstance(result, dict):
        raise validate.Invalid("the training stage returned nothing readable")
    size = ctx.task.image_size
    samples = validate.array(result.get("samples"), "the generated images", (NUM_CLASSES * PER_CLASS, size, size))
    outside = float(np.mean((samples < -1 - RANGE_TOLERANCE) | (samples > 1 + RANGE_TOLERANCE)))
    samples = np.clip(samples, -1, 1).astype(np.float32)
    scores = sample_scores(samples, ctx.task.conditional, stats)
    stopped = str(result.get("stopped", ""))[:400]
    images_out = figures(ctx, result, samples, scores)
    details = {key: round(float(value), 4) for key, value in scores.items() if key in ctx.task.quality}
    details["steps"] = steps = int(result.get("steps_done", 0))
    details["train_seconds"] = seconds = round(float(result.get("train_seconds", 0.0)), 1)
    if stopped:
        return Outcome(0.0, f"training stopped: {stopped}", images_out, details)
    if steps < budget.steps:  # the CPU-seconds safety net, the one other way the stage ends early
        return Outcome(0.0, cut_short_message(seconds, steps, budget), images_out, details)
    fraction, fractions = quality_fraction(scores, ctx.task.quality)
    message = quality_message(scores, fractions, ctx.task.quality, f"after {steps} steps")
    if outside > 0:
        message += f"; {outside:.0%} of pixels were outside [-1, 1]: end the Generator with tanh"
    return Outcome(fraction, message, images_out, details)


def quality_fraction(scores: dict[str, Any], quality: dict[str, dict[str, float]]) -> tuple[float, dict[str, float]]:
    """(the check's fraction, each figure's): the figures' mean, times the accuracy's where it is scored."""
    fractions = {name: threshold_fraction(scores[name], t["zero"], t["full"]) for name, t in quality.items()}
    fraction = float(np.mean(list(fractions.values())))
    if "conditional_accuracy" in fractions:
        fraction *= fractions["conditional_accuracy"]
    return fraction, fractions


def cut_short_message(seconds: float, steps: int, budget: Budget) -> str:
    """The safety net's verdict: the student's code, not the machine, took the time (it counts CPU seconds)."""
    return (
        f"your train_step took {seconds:.0f} s for {steps} of {budget.steps} steps, past the stage's limit of "
        f"{budget.cpu_seconds:.0f} CPU seconds (several times what networks of the statement's size need): make "
        "the networks smaller, or let their constructors take `width`"
    )


# At most this accuracy counts as "near chance" (10 classes: 0.1): the evidence that the label is ignored.
NEAR_CHANCE_ACCURACY = 0.15


def quality_message(
    scores: dict[str, Any], fractions: dict[str, float], quality: dict[str, dict[str, float]], opening: str
) -> str:
    """`opening` ("after 3000 steps"), every figure against its threshold, then the likely cause of each that
    fell short, read from the figures."""
    parts = [f"{name} {scores[name]:.3g} (full at {t['full']:g})" for name, t in quality.items()]
    message = f"{opening}: " + ", ".join(parts)
    short = [name for name in quality if fractions[name] < 1]
    if short:
        message += "; short of full: " + "; ".join(f"{name}: {likely_cause(name, scores)}" for name in short)
    return message


def likely_cause(figure: str, scores: dict[str, Any]) -> str:
    """What to look at when `figure` fell short; the label is blamed only when the accuracy says it is ignored."""
    if figure == "conditional_accuracy":
        if scores["conditional_accuracy"] <= NEAR_CHANCE_ACCURACY:
            return "samples look no more like the class asked for than chance: feed the one-hot label to both networks"
        return (
            "the label is followed only part of the time: check that both networks receive it, and train longer "
            "locally to see whether the class comes sooner"
        )
    return ADVICE[figure]


ADVICE = {
    "fid_ratio": "samples are far from real images: check the losses, the learning rates and the detach",
    "diversity": "samples of a class look alike (mode collapse): check the generator loss and the noise input",
    "class_coverage": "samples cover few classes (mode collapse): check the generator loss and the noise input",
}
