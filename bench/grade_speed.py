"""How long grading takes, phase by phase.

    python bench/grade_speed.py                         # examples/perfect.zip, static checks only
    python bench/grade_speed.py --train --tasks cdcgan  # include the brief training stage
    python bench/grade_speed.py --jobs 2 --copies 4     # a batch of 4 copies, 2 at a time
    python bench/grade_speed.py --train --tasks cdcgan --jobs 2 --copies 2   # do the copies train alike?

Prints the time to read the submission and start the sandboxed worker, the time of every check grouped by task
and by kind, the training stage's train_step CPU time (inside the worker) beside the check's wall clock,
each copy's training figures and whether they agree, and the wall-clock total. The target for a full eight-task
submission's static checks is ≤ 10 s on a 2-core machine.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from gankit.catalogue import load_catalogue
from gankit.device import DEVICE_CHOICES, describe_device, resolve_device
from grader.authoring.examples import EXAMPLES_DIR
from grader.checks import load_all
from grader.grade import grade_batch
from grader.results import GradeOptions, GradeReport
from grader.submission import load_submission


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("submission", nargs="?", type=Path, default=EXAMPLES_DIR / "perfect.zip")
    parser.add_argument("--tasks", default="", help="comma-separated task ids (default: all)")
    parser.add_argument("--train", action="store_true", help="include the training stages")
    parser.add_argument("--device", choices=DEVICE_CHOICES, default="auto")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--copies", type=int, default=1, help="grade this many copies as one batch")
    args = parser.parse_args()

    catalogue = load_catalogue()
    device = resolve_device(args.device)
    options = GradeOptions(
        tasks=tuple(t for t in args.tasks.split(",") if t),
        train=args.train,
        device=device.type,
    )
    print(f"device: {describe_device(device)}; jobs {args.jobs}; copies {args.copies}")

    started = time.perf_counter()
    load_submission(args.submission, catalogue)
    print(f"read the submission       {time.perf_counter() - started:7.2f} s")

    with tempfile.TemporaryDirectory() as folder:
        copies = []
        for index in range(args.copies):
            copy = Path(folder) / f"copy{index}{args.submission.suffix}"
            shutil.copy(args.submission, copy)
            copies.append(copy)
        started = time.perf_counter()
        reports = grade_batch(copies, catalogue, options, Path(folder) / "out", jobs=args.jobs, resume=False)
        wall = time.perf_counter() - started

    report = reports[0]
    by_task: dict[str, float] = defaultdict(float)
    by_kind: dict[str, float] = defaultdict(float)
    for result in report.results:
        by_task[result.task] += result.seconds
        by_kind[result.check.kind] += result.seconds
    checks_total = sum(by_task.values())
    print(f"worker start and overhead {report.seconds - checks_total:7.2f} s")
    print("checks by task:")
    for task, seconds in by_task.items():
        print(f"  {task:22s}  {seconds:7.2f} s")
    print("checks by kind:")
    for kind, seconds in sorted(by_kind.items(), key=lambda item: -item[1]):
        print(f"  {kind:22s}  {seconds:7.2f} s")
    for result in report.results:
        if result.check.kind == "training_quality":
            trained = float(result.details.get("train_seconds", 0.0))
            print(
                f"  {result.task} training: {trained:.1f} CPU s of train_step in the worker "
                f"({result.details.get('steps')} steps); the check {result.seconds:.1f} s wall clock with data, "
                f"scoring and figures; {result.points:g} / {result.max_points:g}"
            )
            print(f"    {result.message}")
    print_training_figures(reports)
    for result in report.results:
        if result.points < result.max_points:
            print(f"short of full marks: {result.task}/{result.check.id} {result.points:g} / {result.max_points:g}")
    kinds = load_all()
    static = sum(r.seconds for r in report.results if not kinds[r.check.kind].trains)
    print(f"static checks, first submission: {static:.2f} s; its grade {report.score:g} / {report.max_score:g}")
    print(f"wall clock for {len(reports)} submission(s): {wall:.2f} s")


def print_training_figures(reports: list[GradeReport]) -> None:
    """Each copy's training figures, and whether the copies agree: the batch must not change a grade."""
    figures = [
        {r.task: {k: v for k, v in r.details.items() if k != "train_seconds"} for r in report.results if r.details}
        for report in reports
    ]
    if not figures[0]:
        return
    for index, copy in enumerate(figures):
        print(f"training figures, copy {index}: " + "; ".join(f"{task} {values}" for task, values in copy.items()))
    if len(figures) > 1:
        print(f"training figures identical across the {len(figures)} copies: {all(f == figures[0] for f in figures)}")


if __name__ == "__main__":
    main()
