"""How good the reference conditional GANs get within a wall-clock budget.

    python bench/reference_quality.py                      # cdcgan and cwgan_gp, 120 s each on the GPU, 600 s on CPU
    python bench/reference_quality.py --seconds 60 --tasks cdcgan

For each task it trains the reference from scratch with the task's batch size for the device, then prints
the frozen classifier's accuracy on 1000 conditional samples (100 per class), the worst class, and the
Fréchet distance in classifier-feature space to the test split next to that of real train images.
"""

from __future__ import annotations

import argparse
import importlib
import time

import numpy as np
import torch

from gankit.catalogue import TASKS_DIR, load_task
from gankit.classifier import load_frozen_classifier
from gankit.data import load_dataset
from gankit.device import DEVICE_CHOICES, describe_device, resolve_device
from gankit.metrics import features_and_predictions, frechet_distance, per_class_accuracy
from gankit.training import GanRun, GanSpec


def measure(
    task_id: str, seconds: float, device: torch.device, seed: int, batch_size: int | None, width: int | None
) -> dict[str, float]:
    task = load_task(TASKS_DIR / task_id)
    images, labels = load_dataset(task.dataset, "train", size=task.image_size, device=device)
    module = importlib.import_module(f"reference.{task_id}")
    batch_size = batch_size or task.budget(device.type).batch_size
    run = GanRun(GanSpec.of(task), module, images, labels, batch_size=batch_size, seed=seed, width=width)

    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        run.train_step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    wall = time.perf_counter() - started

    classifier, _ = load_frozen_classifier(task.dataset, device)
    generated, generated_labels = run.samples_per_class(100, seed=seed + 1)  # (1000, 1, H, W)
    generated_features, predictions = features_and_predictions(classifier, generated)
    accuracy = per_class_accuracy(predictions, generated_labels.numpy())
    test_features, _ = features_and_predictions(classifier, load_dataset(task.dataset, "test", size=task.image_size)[0])
    train_features, _ = features_and_predictions(classifier, images[:10_000])
    return {
        "batch_size": batch_size,
        "steps": run.step,
        "epochs": run.epoch,
        "wall_s": wall,
        "accuracy": float(np.mean(accuracy)),
        "min_class": float(accuracy.min()),
        "fd_generated": frechet_distance(generated_features, test_features),
        "fd_real": frechet_distance(train_features, test_features),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", default="cdcgan,cwgan_gp", help="comma-separated task ids")
    parser.add_argument("--seconds", type=float, help="training budget per task (default 120 on a GPU, 600 on CPU)")
    parser.add_argument("--device", choices=DEVICE_CHOICES, default="auto")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch-size", type=int, help="default: the task's budget for the device")
    parser.add_argument("--width", type=int, help="the networks' width argument (default: their own, 64)")
    args = parser.parse_args()
    device = resolve_device(args.device)
    seconds = args.seconds or (120.0 if device.type == "cuda" else 600.0)

    width = f"width {args.width}" if args.width else "default width"
    print(f"device: {describe_device(device)}, torch {torch.__version__}, budget {seconds:.0f} s per task, {width}")
    print(
        f"{'task':10s} {'batch':>5s} {'steps':>6s} {'epochs':>6s} {'wall s':>7s} {'cond acc':>8s} {'min class':>9s} "
        f"{'FD gen→test':>11s} {'FD train→test':>13s}"
    )
    for task_id in args.tasks.split(","):
        m = measure(task_id, seconds, device, args.seed, args.batch_size, args.width)
        print(
            f"{task_id:10s} {m['batch_size']:5d} {m['steps']:6d} {m['epochs']:6.2f} {m['wall_s']:7.1f} "
            f"{m['accuracy']:8.1%} {m['min_class']:9.1%} {m['fd_generated']:11.2f} {m['fd_real']:13.2f}"
        )


if __name__ == "__main__":
    main()
