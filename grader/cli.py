"""The `grade` command line.

Submission grading arrives with the grader itself. Today:
  grade classifiers      check the frozen classifiers (sha256, accuracy on this machine's test splits)
  grade make-template    regenerate student_template/ from reference/ and tasks/
  grade make-examples    regenerate the example submissions in examples/
  grade pack FOLDER      zip exactly the task files of a student's folder
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from gankit.classifier import WEIGHTS_DIR, accuracy_on_test_split, load_frozen_classifier
from gankit.data import DATASETS, DataNotFoundError, locate
from gankit.device import DEVICE_CHOICES, describe_device, resolve_device
from grader.examples import EXAMPLES_DIR, build_examples
from grader.make_template import TEMPLATE_DIR, write_template
from grader.pack import pack
from grader.template import MarkerError


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


def make_template(out: Path) -> int:
    try:
        written = write_template(out)
    except MarkerError as error:
        print(f"error: {error}\nnothing was written", file=sys.stderr)
        return 2
    print(f"wrote {len(written)} files to {out}")
    return 0


def make_examples(out: Path) -> int:
    for path in build_examples(out):
        print(f"wrote {path}")
    return 0


def pack_folder(folder: Path, out: Path) -> int:
    try:
        names = pack(folder, out)
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"packed {len(names)} files into {out}: {', '.join(names)}")
    return 0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="grade",
        description="Autograder for GAN assignments: frozen-classifier check, template and example building, packing.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    classifiers = commands.add_parser(
        "classifiers", help="verify the frozen classifiers' sha256 and re-measure their test accuracy"
    )
    classifiers.add_argument("--device", choices=DEVICE_CHOICES, default="auto")
    template = commands.add_parser("make-template", help="regenerate the student template from reference/ and tasks/")
    template.add_argument("--out", type=Path, default=TEMPLATE_DIR, help=f"default {TEMPLATE_DIR}")
    examples = commands.add_parser("make-examples", help="regenerate the example submissions")
    examples.add_argument("--out", type=Path, default=EXAMPLES_DIR, help=f"default {EXAMPLES_DIR}")
    packer = commands.add_parser("pack", help="zip exactly the task files (.py and .ipynb) of a folder")
    packer.add_argument("folder", type=Path, nargs="?", default=Path("."), help="default: the current folder")
    packer.add_argument("-o", "--out", type=Path, default=Path("submission.zip"), help="default submission.zip")
    args = parser.parse_args(argv)
    if args.command == "classifiers":
        sys.exit(check_classifiers(args.device))
    if args.command == "make-template":
        sys.exit(make_template(args.out))
    if args.command == "make-examples":
        sys.exit(make_examples(args.out))
    sys.exit(pack_folder(args.folder, args.out))
