"""The `grade` command line.

grade SUBMISSION... [options]  grade zips, folders, .py or .ipynb files (see `grade --help`)
grade classifiers              check the frozen classifiers (sha256, accuracy on this machine's test splits)
grade make-template            regenerate student_template/ from reference/ and tasks/
grade make-examples            regenerate the example submissions in examples/
grade pack FOLDER              zip exactly the task files and the report PDFs of a student's folder
grade gradebook OUT            the class's grades from OUT/gradebook.sqlite as CSV or JSON
grade review OUT               grade the written answers in the browser (a local web app)
grade release OUT              the students' reports and results.json again, with the manual points
grade gradescope-bundle        the autograder zip for Gradescope (setup.sh, run_autograder, wheel, data)
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from gankit.catalogue import TaskSchemaError, load_catalogue
from gankit.classifier import WEIGHTS_DIR, accuracy_on_test_split, load_frozen_classifier
from gankit.data import DATASETS, DataNotFoundError, locate
from gankit.device import DEVICE_CHOICES, describe_device, resolve_device
from grader.authoring.examples import EXAMPLES_DIR, build_examples
from grader.authoring.make_template import TEMPLATE_DIR, write_template
from grader.authoring.pack import pack
from grader.authoring.template import MarkerError
from grader.grade import grade_batch
from grader.gradebook import GRADEBOOK_NAME, GradebookError, write_csv
from grader.gradebook import as_json as gradebook_json
from grader.gradebook import table as gradebook_table
from grader.results import GradeOptions, GradeReport
from grader.sandbox import SANDBOXES, SandboxUnavailable, choose_sandbox


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


def export_gradebook(out: Path, csv_file: Path | None, as_json_output: bool) -> int:
    try:
        book = gradebook_table(out / GRADEBOOK_NAME)
    except GradebookError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if as_json_output:
        print(json.dumps(gradebook_json(book), indent=2))
    elif csv_file is None:
        write_csv(book, sys.stdout)
    else:
        with csv_file.open("w", encoding="utf-8", newline="") as handle:
            write_csv(book, handle)
        print(f"wrote {len(book.rows)} submission(s) and {len(book.columns)} column(s) to {csv_file}")
    return 0


def review(out: Path, port: int) -> int:
    from grader.review.serve import PortInUse, serve  # Flask and waitress load only for this command

    try:
        serve(out, load_catalogue(), port)
    except (GradebookError, PortInUse) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


def release_feedback(out: Path) -> int:
    from grader.release import release

    try:
        done = release(out)
    except GradebookError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for skipped in done.skipped:
        print(f"skipped {skipped.submission}: {skipped.problem}", file=sys.stderr)
    print(f"released {len(done.rewritten)} submission(s), skipped {len(done.skipped)}")
    return 1 if done.skipped else 0


def gradescope_bundle(args: argparse.Namespace) -> int:
    from grader.gradescope.budget import BudgetError, Machine
    from grader.gradescope.bundle import BundleSettings, build_bundle
    from grader.gradescope.results import Visibility

    catalogue = load_catalogue()
    tasks = tuple(task for task in args.tasks.split(",") if task) or tuple(catalogue)
    unknown = [task for task in tasks if task not in catalogue]
    if unknown:
        print(f"error: unknown task(s) {', '.join(unknown)}; known: {', '.join(catalogue)}", file=sys.stderr)
        return 2
    try:
        machine = Machine(args.vcpus, args.memory_gb, args.timeout_minutes)
        settings = BundleSettings(tasks, args.train, Visibility(args.hidden, args.leaderboard), machine)
        bundle = build_bundle(args.out, settings, catalogue)
    except (BudgetError, DataNotFoundError) as error:
        print(f"error: {error}\nnothing was written", file=sys.stderr)
        return 2
    size = bundle.path.stat().st_size / 1024**2
    print(f"wrote {bundle.path} ({size:.1f} MB, {bundle.files} files) for tasks {', '.join(tasks)}")
    print(f"plan: {bundle.plan.describe()}")
    print(f"set the assignment's autograder points on Gradescope to {bundle.max_score:g}")
    return 0


SUBCOMMANDS = (
    "classifiers",
    "make-template",
    "make-examples",
    "pack",
    "gradebook",
    "review",
    "release",
    "gradescope-bundle",
)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in SUBCOMMANDS:
        tools(argv)
    sys.exit(grade_command(argv))


def tools(argv: list[str]) -> None:
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
    packer = commands.add_parser("pack", help="zip exactly the task files (.py, .ipynb) and top-level PDFs of a folder")
    packer.add_argument("folder", type=Path, nargs="?", default=Path("."), help="default: the current folder")
    packer.add_argument("-o", "--out", type=Path, default=Path("submission.zip"), help="default submission.zip")
    book = commands.add_parser(
        "gradebook",
        help="the class's grades from OUT/gradebook.sqlite: one row per submission, one column per check and per "
        "written question, automatic / manual / total, a first row of maximum points",
    )
    book.add_argument("out", type=Path, metavar="OUT", help="the folder `grade --out OUT` graded into")
    book.add_argument("--csv", type=Path, metavar="FILE", help="write CSV there (default: CSV on standard output)")
    book.add_argument("--json", action="store_true", help="print JSON on standard output instead of CSV")
    reviewer = commands.add_parser(
        "review",
        help="grade the written answers of a graded class in the browser: a local web app on 127.0.0.1 that shows "
        "each question with its rubric and every student's answer (names hidden), and saves each change into "
        "OUT/gradebook.sqlite at once",
    )
    reviewer.add_argument("out", type=Path, metavar="OUT", help="the folder `grade --out OUT` graded into")
    reviewer.add_argument("--port", type=int, default=8000, help="port on 127.0.0.1 (default 8000; 0: any free one)")
    releaser = commands.add_parser(
        "release",
        help="write the written answers' manual points and comments (from OUT/gradebook.sqlite) into every graded "
        "submission's results.json and report.html; exit 1 when a submission had to be skipped",
    )
    releaser.add_argument("out", type=Path, metavar="OUT", help="the folder `grade --out OUT` graded into")
    bundler = commands.add_parser(
        "gradescope-bundle",
        help="build the autograder zip Gradescope takes as it is: setup.sh and run_autograder at its root, this "
        "grader as a wheel, the task catalogue and the data; public checks visible, the others hidden until "
        "the due date (--hidden); training stages only where they fit the machine's limits",
    )
    bundler.add_argument("-o", "--out", type=Path, default=Path("autograder.zip"), help="default autograder.zip")
    bundler.add_argument("--tasks", default="", help="comma-separated task ids to grade (default: all)")
    training = bundler.add_mutually_exclusive_group()
    training.add_argument("--train", dest="train", action="store_true", default=None, help="run the training stages")
    training.add_argument("--no-train", dest="train", action="store_false", help="leave the training stages out")
    bundler.add_argument(
        "--hidden",
        choices=("after_due_date", "hidden"),
        default="after_due_date",
        help="visibility of the checks that are not public (default after_due_date)",
    )
    bundler.add_argument(
        "--leaderboard", action="store_true", help="conditional tasks' training figures as a Gradescope leaderboard"
    )
    bundler.add_argument("--vcpus", type=float, default=1.0, help="the autograder machine's vCPUs (default 1)")
    bundler.add_argument("--memory-gb", type=float, default=3.0, help="its memory in GB (default 3)")
    bundler.add_argument(
        "--timeout-minutes", type=float, default=20.0, help="the assignment's autograder timeout (default 20)"
    )
    args = parser.parse_args(argv)
    if args.command == "gradescope-bundle":
        sys.exit(gradescope_bundle(args))
    if args.command == "release":
        sys.exit(release_feedback(args.out))
    if args.command == "review":
        sys.exit(review(args.out, args.port))
    if args.command == "gradebook":
        sys.exit(export_gradebook(args.out, args.csv, args.json))
    if args.command == "classifiers":
        sys.exit(check_classifiers(args.device))
    if args.command == "make-template":
        sys.exit(make_template(args.out))
    if args.command == "make-examples":
        sys.exit(make_examples(args.out))
    sys.exit(pack_folder(args.folder, args.out))


GRADE_HELP = """\
Grade GAN assignment submissions. Each SUBMISSION is a .zip, a folder, a .py or an .ipynb; the files are
mapped to tasks by name (cdcgan.py, cdcgan.ipynb, ...) or by the task id in a notebook's metadata.

Student code runs in a sandboxed worker process (bubblewrap: no network, only the submission visible, an
unprivileged uid, CPU/memory/process limits); the grader scores only values it validated itself.
Writes results.json (Gradescope format) and report.html to --out (one folder per submission when several),
records every graded check in --out/gradebook.sqlite (`grade gradebook OUT --csv FILE` exports it), and
prints a summary. Exit status 0 whenever grading ran, whatever the scores.

other commands: grade classifiers | make-template | make-examples | pack | gradebook | review | release
(each has --help)
"""


def grade_command(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="grade", description=GRADE_HELP, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("submissions", nargs="+", type=Path, metavar="SUBMISSION")
    parser.add_argument("--out", type=Path, default=Path("grades"), help="output folder (default: grades)")
    parser.add_argument("--tasks", default="", help="comma-separated task ids to grade (default: all)")
    parser.add_argument("--no-train", action="store_true", help="skip the training stages (brief GAN training)")
    parser.add_argument("--public", action="store_true", help="run only the public checks the students also have")
    parser.add_argument("--device", choices=DEVICE_CHOICES, default="auto", help="where training runs")
    parser.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="submissions graded at the same time, one core each: every worker trains on one thread, so the "
        "grade is the same whatever N (default 1)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of every input the grader draws (default 0)")
    parser.add_argument("--regrade", action="store_true", help="grade again submissions already graded in --out")
    parser.add_argument("--check-seconds", type=float, default=60.0, help="wall-clock limit of one check (default 60)")
    parser.add_argument(
        "--sandbox",
        choices=("auto", *SANDBOXES),
        default="auto",
        help="how student code is isolated (default auto: bubblewrap where it can make namespaces, else an "
        "unprivileged uid; a plain child process only when grade is not run as root)",
    )
    args = parser.parse_args(argv)
    try:
        catalogue = load_catalogue()
    except TaskSchemaError as error:
        print(f"error: the task catalogue is invalid:\n{error}", file=sys.stderr)
        return 2
    tasks = tuple(task for task in args.tasks.split(",") if task)
    unknown = [task for task in tasks if task not in catalogue]
    if unknown:
        print(f"error: unknown task(s) {', '.join(unknown)}; known: {', '.join(catalogue)}", file=sys.stderr)
        return 2
    if args.jobs < 1:
        print("error: --jobs must be at least 1", file=sys.stderr)
        return 2
    try:
        sandbox = choose_sandbox(args.sandbox)
    except SandboxUnavailable as error:
        print(f"error: {error}; nothing was graded", file=sys.stderr)
        return 2
    device = resolve_device(args.device)
    options = GradeOptions(
        tasks=tasks,
        train=not args.no_train,
        public_only=args.public,
        device=device.type,
        seed=args.seed,
        check_seconds=args.check_seconds,
        sandbox=sandbox,
    )
    try:
        args.out.mkdir(parents=True, exist_ok=True)
        if sandbox == "uid":  # the worker's uid sees the file system as any user does: keep the grades from it
            args.out.chmod(args.out.stat().st_mode & ~0o007)
    except OSError as error:
        print(f"error: cannot write to {args.out}: {error}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    try:
        reports = grade_batch(
            args.submissions, catalogue, options, args.out, jobs=args.jobs, resume=not args.regrade, progress=True
        )
    except GradebookError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print_summary(reports, time.perf_counter() - started)
    return 0


def print_summary(reports: list[GradeReport], seconds: float) -> None:
    width = max([len(report.name) for report in reports] + [10])
    print(f"\n{'submission':{width}s}  {'score':>13s}  {'time':>7s}  result")
    for report in reports:
        score = f"{report.score:.4g} / {report.max_score:g}"
        if report.previous is not None:
            result = "already graded in this folder (--regrade grades it again)"
        elif report.refused:
            result = f"refused: {report.refused}"
        else:
            counts = {
                status: sum(r.status == status for r in report.results) for status in ("passed", "partial", "failed")
            }
            result = ", ".join(f"{n} {status}" for status, n in counts.items() if n)
            if report.options.public_only:
                result += " (public checks only)"
        print(f"{report.name:{width}s}  {score:>13s}  {report.seconds:6.1f}s  {result}")
        print(f"{'':{width}s}  report: {report.out_dir / 'report.html'}")
    print(f"{len(reports)} submission(s) in {seconds:.1f} s")
