"""The `grade` command line.

Submission grading arrives with the grader itself; today `grade classifiers` checks the frozen classifiers
that will score generated images: their sha256 and their accuracy on this machine's test splits.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from gankit.classifier import WEIGHTS_DIR, accuracy_on_test_split, load_frozen_classifier
from gankit.data import DATASETS, DataNotFoundError, locate
from gankit.device import DEVICE_CHOICES, describe_device, resolve_device


def check_classifiers(device_choice: str, weights_dir: Path = WEIGHTS_DIR) -> int:
    """Print one line per frozen classifier: measured vs recorded test accuracy. Returns the exit code."""
    device = resolve_device(device_choice)
    print(f"frozen classifiers on {describe_device(device)}")
    failures = 0
    for dataset in DATASETS:
        try:
            model, card = load_frozen_classifier(dataset, device, weights_dir)
            started = time.perf_counter()
            accuracy = accuracy_on_test_split(model, dataset, device=device)
            seconds = time.perf_counter() - started
        except (DataNotFoundError, RuntimeError, FileNotFoundError) as error:
            print(f"  {dataset:14s} FAILED: {error}")
            failures += 1
            continue
        agrees = abs(accuracy - card.test_accuracy) <= 0.005
        failures += not agrees
        print(
            f"  {dataset:14s} test accuracy {accuracy:7.2%} (sidecar {card.test_accuracy:.2%}, "
            f"{'agrees' if agrees else 'DIFFERS'}) in {seconds:.1f}s; data: {locate(dataset).description}"
        )
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="grade",
        description="Autograder for GAN assignments. `grade classifiers` checks the frozen classifiers.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    classifiers = commands.add_parser(
        "classifiers", help="verify the frozen classifiers' sha256 and re-measure their test accuracy"
    )
    classifiers.add_argument("--device", choices=DEVICE_CHOICES, default="auto")
    args = parser.parse_args(argv)
    sys.exit(check_classifiers(args.device))
