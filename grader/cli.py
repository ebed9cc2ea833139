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
import gc
import json
import shutil
import sys
import time
from pathlib import Path

from gankit.catalogue import TaskSchemaError, load_catalogue
from gankit.data import DATASETS, DataNotFoundError, locate
from gankit.device import DEVICE_CHOICES, describe_device, resolve_device
from gankit.stage import CHECKPOINT_LIMIT_MB
from grader.grade import grade_batch
from grader.gradebook import GRADEBOOK_NAME, GradebookError, write_csv
from grader.gradebook import as_json as gradebook_json
from grader.gradebook import table as gradebook_table
from grader.placement import batch_jobs, visible_gpus
from grader.results import GradeOptions, GradeReport
from grader.sandbox import SANDBOXES, SandboxUnavailable, choose_sandbox
from grader.shards import EXECUTORS, ClusterOptions, grade_sharded

# The instructor's tools import what they need themselves: a grade starts without torchvision's classifier code,
# the template builder or matplotlib's PDF backend (about a second of every grade's start).


def check_classifiers(device_choice: str, weights_dir: Path | None = None) -> int:
    """Print one line per frozen classifier: measured vs recorded test accuracy. Returns the exit code."""
    from gankit.classifier import WEIGHTS_DIR, accuracy_on_test_split, load_frozen_classifier

    weights_dir = WEIGHTS_DIR if weights_dir is None else weights_dir
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
    from grader.authoring.make_template import write_template
    from grader.authoring.template import MarkerError

    try:
        written = write_template(out)
    except MarkerError as error:
        print(f"error: {error}\nnothing was written", file=sys.stderr)
        return 2
    print(f"wrote {len(written)} files to {out}")
    return 0


def make_examples(out: Path) -> int:
    from grader.authoring.examples import build_examples

    for path in build_examples(out):
        print(f"wrote {path}")
    return 0


def pack_folder(folder: Path, out: Path) -> int:
    from grader.authoring.pack import pack

    try:
        names = pack(folder, out)
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"packed {len(names)} files into {out}: {', '.join(names)}")
    for name in names:
        if name.endswith(".pt") and (folder / name).stat().st_size > CHECKPOINT_LIMIT_MB * 1024**2:
            print(
                f"warning: {name} is over the grader's limit of {CHECKPOINT_LIMIT_MB} MB, so its trained_model check "
                "will earn nothing: save the generator's state_dict alone",
                file=sys.stderr,
            )
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
    # What the imports made (torch's hundreds of thousands of objects) lives as long as the process: kept out of
    # every garbage collection, which otherwise walks it all (a quarter second each, and hypothesis asks for one
    # in every new thread).
    gc.freeze()
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in SUBCOMMANDS:
        tools(argv)
    sys.exit(grade_command(argv))


def tools(argv: list[str]) -> None:
    from grader.authoring.examples import EXAMPLES_DIR
    from grader.authoring.make_template import TEMPLATE_DIR

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
mapped to tasks by name (cdcgan.py, cdcgan.ipynb, ...) or by the task id in a notebook's metadata; a trained
generator's state_dict, <task>.pt (cdcgan.pt, ...), is scored by the trained_model check of a task that has one.

Student code runs in a sandboxed worker process (bubblewrap: no network, only the submission visible, an
unprivileged uid, CPU/memory/process limits); the grader scores only values it validated itself.
Writes results.json (Gradescope format) and report.html to --out (one folder per submission when several),
records every graded check in --out/gradebook.sqlite (`grade gradebook OUT --csv FILE` exports it), and
prints a summary. Exit status 0 whenever grading ran, whatever the scores; 1 when a shard of an --executor batch
failed every try (its submissions are not graded: run the command again); 2 when the grader itself cannot run.

other commands: grade classifiers | make-template | make-examples | pack | gradebook | review | release
(each has --help)
"""


def grade_parser() -> argparse.ArgumentParser:
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
        default=None,
        help="submissions graded at the same time (default 1 on the CPU, one core each: every CPU worker trains on "
        "one thread, so the grade is the same whatever N; on GPUs: GPUs x --jobs-per-gpu). In a shard: per shard "
        "(default its --slurm-cpus-per-task on the CPU)",
    )
    parser.add_argument(
        "--jobs-per-gpu",
        type=int,
        default=1,
        metavar="K",
        help="workers one GPU trains at once; each worker sees only its own GPU (CUDA_VISIBLE_DEVICES) (default 1)",
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
    cluster = parser.add_argument_group(
        "shards on an executor (submitit)",
        "--executor slurm submits the batch as one SLURM job array of --shards shards, each\n"
        "grading into the shared --out (a file system every node sees); --executor local runs\n"
        "the same shards as processes here. This process follows them, fills the gradebook\n"
        "and the class page, and resubmits a failed shard.",
    )
    cluster.add_argument(
        "--executor",
        choices=EXECUTORS,
        default="inline",
        help="inline (default): this process grades; local: shards as local processes; slurm: a SLURM job array",
    )
    cluster.add_argument(
        "--shards",
        type=int,
        help="jobs the batch is split into (default: one per submission, at most --array-parallelism)",
    )
    cluster.add_argument("--array-parallelism", type=int, default=16, help="shards running at once (default 16)")
    cluster.add_argument("--retries", type=int, default=2, help="resubmissions of a failed shard (default 2)")
    cluster.add_argument("--slurm-partition", help="the partition the jobs run in (default: the cluster's)")
    cluster.add_argument("--slurm-cpus-per-task", type=int, default=1, help="CPUs of each shard (default 1)")
    cluster.add_argument(
        "--slurm-gpus-per-task", type=int, default=0, help="GPUs of each shard; > 0 grades on them (default 0)"
    )
    cluster.add_argument("--slurm-mem", help="memory of each shard, as sbatch takes it: 16G (default: the cluster's)")
    cluster.add_argument(
        "--slurm-time",
        type=int,
        default=120,
        metavar="MINUTES",
        help="time limit of each shard (default 120; a shard out of time is requeued and resumes)",
    )
    return parser


def grade_command(argv: list[str]) -> int:
    args = grade_parser().parse_args(argv)
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
    problem = _cluster_problem(args)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    try:
        sandbox = choose_sandbox(args.sandbox)
    except SandboxUnavailable as error:
        print(f"error: {error}; nothing was graded", file=sys.stderr)
        return 2
    options = GradeOptions(
        tasks=tasks,
        train=not args.no_train,
        public_only=args.public,
        device=_grade_device(args),
        seed=args.seed,
        check_seconds=args.check_seconds,
        sandbox=sandbox,
    )
    if args.executor == "inline":
        try:
            gpus = visible_gpus() if options.device == "cuda" else []
            jobs = batch_jobs(args.jobs, options.device, gpus, args.jobs_per_gpu)
        except ValueError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
    try:
        args.out.mkdir(parents=True, exist_ok=True)
        if sandbox == "uid":  # the worker's uid sees the file system as any user does: keep the grades from it
            args.out.chmod(args.out.stat().st_mode & ~0o007)
    except OSError as error:
        print(f"error: cannot write to {args.out}: {error}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    ungraded: list[Path] = []
    try:
        if args.executor == "inline":
            reports = grade_batch(
                args.submissions, catalogue, options, args.out, jobs, resume=not args.regrade, progress=True, gpus=gpus
            )
        else:
            batch = grade_sharded(
                args.submissions, catalogue, options, args.out, _cluster(args), resume=not args.regrade, progress=True
            )
            reports, ungraded = batch.reports, batch.ungraded
    except GradebookError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print_summary(reports, time.perf_counter() - started)
    if ungraded:
        names = ", ".join(str(path) for path in ungraded)
        print(
            f"error: not graded, their shard failed every try (the machine's fault, not theirs): {names}; "
            "run the same command again to grade them",
            file=sys.stderr,
        )
        return 1
    return 0


def _grade_device(args: argparse.Namespace) -> str:
    """Where training runs. A shard's device is decided here, where its GPUs are not: a shard with GPUs grades on
    them, one without on the CPU, unless --device says otherwise."""
    if args.executor == "inline":
        return resolve_device(args.device).type
    if args.device == "auto":
        return "cuda" if args.slurm_gpus_per_task > 0 else "cpu"
    return args.device


def _cluster_problem(args: argparse.Namespace) -> str | None:
    """What is wrong with the batch and cluster options, in a sentence; None when nothing is."""
    counts = {
        "--jobs": args.jobs,
        "--jobs-per-gpu": args.jobs_per_gpu,
        "--shards": args.shards,
        "--array-parallelism": args.array_parallelism,
        "--slurm-cpus-per-task": args.slurm_cpus_per_task,
        "--slurm-time": args.slurm_time,
    }
    for flag, value in counts.items():
        if value is not None and value < 1:
            return f"{flag} must be at least 1"
    if args.retries < 0 or args.slurm_gpus_per_task < 0:
        return "--retries and --slurm-gpus-per-task cannot be negative"
    if args.executor != "inline" and args.device == "cuda" and args.slurm_gpus_per_task == 0:
        return "--device cuda in shards needs --slurm-gpus-per-task (at least 1)"
    if args.executor == "slurm" and shutil.which("sbatch") is None:
        return "--executor slurm needs SLURM's sbatch on PATH (run grade on the cluster's login node)"
    return None


def _cluster(args: argparse.Namespace) -> ClusterOptions:
    return ClusterOptions(
        executor=args.executor,
        shards=args.shards,
        jobs=args.jobs,
        jobs_per_gpu=args.jobs_per_gpu,
        partition=args.slurm_partition,
        cpus_per_task=args.slurm_cpus_per_task,
        gpus_per_task=args.slurm_gpus_per_task,
        mem=args.slurm_mem,
        time_minutes=args.slurm_time,
        array_parallelism=args.array_parallelism,
        retries=args.retries,
    )


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
