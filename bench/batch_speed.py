"""Throughput of a class batch: K copies of one submission through the `grade` command, as a course runs it.

    python bench/batch_speed.py --no-train --copies 4 --jobs 2            # static checks, this process's batch
    python bench/batch_speed.py --no-train --copies 4 --executor local --shards 2
    python bench/batch_speed.py --copies 2 --jobs 2                       # with the brief training stages
    python bench/batch_speed.py --copies 8 --executor slurm --grade-args "--slurm-partition gpu --slurm-gpus-per-task 1"

First grades one copy alone (one at a time is the baseline), then the K copies as one batch with the executor and
`--jobs` given, both through the real command (its own start included), and prints: the wall clock of each,
submissions per minute, the speed-up over grading them one at a time (K × the single grade's wall clock / the
batch's), the time per phase of a submission (the command's start, static checks, training stages) and what that
projects for a class. `--grade-args` go to `grade` as they are.
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from grader.authoring.examples import EXAMPLES_DIR
from grader.checks import load_all
from grader.report import DATA_NAME
from grader.shards import EXECUTORS

GRADE = str(Path(sys.executable).parent / "grade")


def run_grade(arguments: list[str]) -> float:
    """Wall-clock seconds of one `grade` command; stops the bench with its output when it fails."""
    started = time.perf_counter()
    done = subprocess.run([GRADE, *arguments], capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"grade failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return seconds


def command_start() -> float:
    """The command's own start: Python and the grader's imports, before anything is graded."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import grader.cli"], check=True)
    return time.perf_counter() - started


def phases(folders: list[Path]) -> dict[str, float]:
    """Mean seconds per submission of the static checks and of the training stages (the checks' own clocks,
    which groups running side by side overlap), from each folder's report data."""
    trains = {kind: registered.trains for kind, registered in load_all().items()}
    totals = {"static checks": [], "training stages": [], "whole grade": []}
    for folder in folders:
        data = json.loads((folder / DATA_NAME).read_text(encoding="utf-8"))
        results = data["results"]
        totals["training stages"].append(sum(r["seconds"] for r in results if trains.get(r["check"]["kind"])))
        totals["static checks"].append(sum(r["seconds"] for r in results if not trains.get(r["check"]["kind"])))
        totals["whole grade"].append(data["seconds"])
    return {phase: statistics.mean(values) for phase, values in totals.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("submission", nargs="?", type=Path, default=EXAMPLES_DIR / "perfect.zip")
    parser.add_argument("--copies", type=int, default=4, help="K: copies graded as one batch (default 4)")
    parser.add_argument("--executor", choices=EXECUTORS, default="inline")
    parser.add_argument("--jobs", type=int, help="grade's --jobs (default: grade's own)")
    parser.add_argument("--shards", type=int, help="grade's --shards, with --executor local or slurm")
    parser.add_argument("--no-train", action="store_true", help="static checks only")
    parser.add_argument("--tasks", default="", help="comma-separated task ids (default: all)")
    parser.add_argument("--class-size", type=int, default=500, help="the class the figures project to (default 500)")
    parser.add_argument("--no-alone", action="store_true", help="only the batch: no single grade, no speed-up")
    parser.add_argument("--grade-args", default="", help="more arguments for grade, as one string (both runs)")
    args = parser.parse_args()
    if args.copies < 1:
        parser.error("--copies must be at least 1")

    common = [*(["--no-train"] if args.no_train else []), *(["--tasks", args.tasks] if args.tasks else [])]
    common += shlex.split(args.grade_args)
    batch_flags = ["--executor", args.executor]
    for flag, value in (("--jobs", args.jobs), ("--shards", args.shards)):
        batch_flags += [flag, str(value)] if value else []
    what = "static checks only" if args.no_train else "training included"
    print(f"{args.copies} copies of {args.submission.name}, {what}; batch: grade {' '.join(batch_flags)}")
    start = command_start()
    with tempfile.TemporaryDirectory(prefix="batch-speed-") as folder:
        copies = []
        for index in range(args.copies):
            copy = Path(folder) / f"copy{index}{args.submission.suffix}"
            shutil.copy(args.submission, copy)
            copies.append(copy)
        alone = None if args.no_alone else run_grade([str(copies[0]), "--out", f"{folder}/alone", *common])
        batch = run_grade([*map(str, copies), "--out", f"{folder}/batch", *common, *batch_flags])
        out = Path(folder) / "batch"
        graded = [out / copy.stem for copy in copies] if len(copies) > 1 else [out]
        per_phase = phases(graded)
        first = json.loads((graded[0] / "results.json").read_text(encoding="utf-8"))
    rate = 60 * args.copies / batch
    if alone is not None:
        print(f"one alone            {alone:8.1f} s wall clock")
    print(f"{args.copies} as one batch       {batch:8.1f} s wall clock: {rate:.2f} submissions per minute")
    if alone is not None:
        print(f"speed-up over one at a time: {args.copies * alone / batch:.2f}x")
    print("per submission in the batch (mean):")
    print(f"  command start        {start:8.1f} s (once per batch)")
    for phase, seconds in per_phase.items():
        print(f"  {phase:20s} {seconds:8.1f} s")
    print(f"score of the first copy: {first['score']:g}; isolation: {first['extra_data'].get('isolation', '?')}")
    print(f"a class of {args.class_size} at this rate: {args.class_size / rate / 60:.1f} hours")


if __name__ == "__main__":
    main()
