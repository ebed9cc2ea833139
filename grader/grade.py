"""Grading submissions: read one, stage its files for the sandbox, run every task's checks in one worker, and
write results.json and report.html after every check, so a stopped run keeps what it graded. A batch grades
several submissions side by side, one worker (and one uid) each."""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from queue import Queue

import torch
from tqdm import tqdm

from gankit.catalogue import QUESTION_HEADING, Check, Task
from grader.checks import Kind, load_all
from grader.classpage import write_class_page
from grader.gradebook import GRADEBOOK_NAME, connect, record
from grader.measured import Measured
from grader.placement import CPU_PLACEMENT, Placement, cores, place, visible_gpus
from grader.report import write_outputs
from grader.results import CheckResult, GradeOptions, GradeReport
from grader.run_checks import TaskRunner
from grader.sandbox import ISOLATION, WORKER_THREADS, Limits, Worker, choose_sandbox
from grader.submission import DOCUMENTS_DIR, RefusedSubmission, Submission, document_names, load_submission


def _stage(
    sources: dict[str, str], checkpoints: dict[str, bytes], tasks: dict[str, Task], worker: Worker
) -> tuple[dict[str, Path], dict[str, Path]]:
    """Stage each task's source under its student file name and its checkpoint under its checkpoint name;
    ({task id: its source's path on the host}, {task id: its checkpoint's})."""
    files: dict[str, str | bytes] = {tasks[task_id].student_file: source for task_id, source in sources.items()}
    names = {task_id: tasks[task_id].checkpoint_file for task_id in checkpoints}
    files |= {name: checkpoints[task_id] for task_id, name in names.items() if name}
    paths = worker.stage(files)
    staged = {task_id: paths[tasks[task_id].student_file] for task_id in sources}
    return staged, {task_id: paths[name] for task_id, name in names.items() if name}


def write_documents(documents: dict[str, bytes], out_dir: Path) -> list[str]:
    """Write a submission's report PDFs into `out_dir/documents/` under safe names (`document_names`), where a TA
    opens them beside the written answers; one note per file saying where it went. PDFs an earlier grade left
    there are removed first, so the folder holds exactly this submission's documents."""
    folder = out_dir / DOCUMENTS_DIR
    if folder.is_dir():
        for stale in folder.glob("*.pdf"):
            stale.unlink()
    notes = []
    for origin, name in document_names(list(documents)).items():
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / name
        if target.resolve().parent != folder.resolve():  # document_names never gives such a name; checked anyway
            raise ValueError(f"unsafe document name {name!r}")
        target.write_bytes(documents[origin])
        notes.append(f"{origin} kept for the graders as {DOCUMENTS_DIR}/{name}")
    return notes


def _skip_reason(check: Check, options: GradeOptions, checks: dict[str, Kind]) -> str | None:
    if options.public_only and not check.public:
        return "hidden check: not graded in a --public run"
    if check.kind not in checks:
        return f"this grader has no check of kind {check.kind!r}"
    if not options.train and checks[check.kind].trains:
        return "training stage: not graded in a --no-train run"
    return None


def grade_submission(
    path: Path,
    catalogue: dict[str, Task],
    options: GradeOptions,
    out_dir: Path,
    slot: int = 0,
    on_result: Callable[[GradeReport], None] | None = None,
    gradebook: tuple[Path, str] | None = None,
    placement: Placement = CPU_PLACEMENT,
    workers_at_once: int = 1,
) -> GradeReport:
    """Grade one submission into `out_dir` (results.json, report.html) and, with `gradebook` = (its file, this
    submission's id there), into the class's gradebook; never raises for a bad submission. Its tasks are graded in
    `worker_groups`, one fresh worker each (placed by `placement`), up to `workers_at_once` of them at a time."""
    started = time.monotonic()
    # The grader's own figures (the frozen classifier's predictions) on one thread, as the workers': the same on
    # any machine, and no third thread fighting the two workers of a submission for two cores.
    torch.set_num_threads(WORKER_THREADS)
    report = GradeReport(name=path.name, options=options, out_dir=out_dir)
    tasks = {task_id: catalogue[task_id] for task_id in (options.tasks or catalogue)}
    position = {(task.id, check.id): i for i, (task, check) in enumerate(_checks_of(tasks))}
    lock = threading.Lock()  # the groups' threads add results and save

    def save() -> None:
        with lock:
            report.results.sort(key=lambda result: position[result.task, result.check.id])  # catalogue order
            report.seconds = time.monotonic() - started
            write_outputs(report, out_dir)
            if gradebook is not None:
                record(*gradebook, report)
            if on_result:
                on_result(report)

    try:
        submission = load_submission(path, tasks)
    except RefusedSubmission as error:
        report.refused = str(error)
        report.complete = True
        save()
        return report
    report.notes += submission.notes
    report.notes += write_documents(submission.documents, out_dir)
    checks = load_all()
    graded: dict[str, list[Check]] = {}
    for task, check in _checks_of(tasks):
        reason = _skip_reason(check, options, checks)
        if check.kind == "manual":
            report.manual.append(_manual_entry(task, check, submission))
        elif reason:
            report.not_graded.append({"task": task.id, "check": check.id, "points": check.points, "why": reason})
        else:
            graded.setdefault(task.id, []).append(check)

    def add(result: CheckResult) -> None:
        with lock:
            report.results.append(result)
        save()

    def run_group(index: int, group: list[str]) -> str:
        work = {task_id: graded.get(task_id, []) for task_id in group}
        return _grade_group(work, tasks, submission, options, slot * WORKER_GROUPS + index, placement, started, add)

    report.isolation = ISOLATION[choose_sandbox(options.sandbox)]  # every group's worker gets this one
    groups = worker_groups(tasks, options)
    with ThreadPoolExecutor(max_workers=max(1, min(workers_at_once, len(groups)))) as pool:
        report.output_tail = "".join(pool.map(run_group, range(len(groups)), groups))
    report.complete = True
    save()
    return report


def _checks_of(tasks: dict[str, Task]) -> list[tuple[Task, Check]]:
    return [(task, check) for task in tasks.values() for check in task.checks]


# Tasks are graded in this many groups, each in a fresh worker of its own, whatever the machine: which tasks share
# a worker (and could touch each other's state) must not depend on the cores. Groups run side by side where a
# submission has the cores (one alone on this 2-core machine), one after the other where it has not.
WORKER_GROUPS = 2


def worker_groups(tasks: dict[str, Task], options: GradeOptions) -> list[list[str]]:
    """`tasks` dealt into at most `WORKER_GROUPS` groups of about equal measured cost (`grader/measured.toml`,
    the training stages counted when they run): the costliest task first into the cheapest group. Each group
    keeps catalogue order; a task without figures counts one second."""
    measured = Measured.load()
    cost = {
        task_id: measured.static_seconds.get(task_id, 1.0)
        + (measured.training_seconds.get(task_id, 0.0) if options.train else 0.0)
        for task_id in tasks
    }
    groups: list[list[str]] = [[] for _ in range(min(WORKER_GROUPS, len(tasks)))]
    totals = [0.0] * len(groups)
    for task_id in sorted(tasks, key=lambda task_id: (-cost[task_id], task_id)):
        cheapest = totals.index(min(totals))
        groups[cheapest].append(task_id)
        totals[cheapest] += cost[task_id]
    order = list(tasks)
    return [sorted(group, key=order.index) for group in groups if group]


def _grade_group(
    work: dict[str, list[Check]],
    tasks: dict[str, Task],
    submission: Submission,
    options: GradeOptions,
    slot: int,
    placement: Placement,
    started: float,
    add: Callable[[CheckResult], None],
) -> str:
    """Run `work` ({task id: its checks to grade}) in one fresh worker; the worker's output tail."""
    private = Path(tempfile.mkdtemp(prefix="gan-grade-"))
    os.chmod(private, 0o711)  # a worker under its own uid (no bubblewrap) passes through to submission/, inputs/
    try:
        inputs = private / "inputs"
        inputs.mkdir(mode=0o755)
        os.chmod(inputs, 0o755)
        limits = Limits(cpu_seconds=int(options.submission_seconds) + 60)
        with Worker(
            private / "submission",
            inputs,
            slot=slot,
            limits=limits,
            device=options.device,
            sandbox=options.sandbox,
            gpu=placement.gpu,
            threads=placement.threads,
        ) as worker:
            own = {task_id: source for task_id, source in submission.sources.items() if task_id in work}
            weights = {task_id: data for task_id, data in submission.checkpoints.items() if task_id in work}
            staged, checkpoints = _stage(own, weights, tasks, worker)
            for task_id, checks in work.items():
                task = tasks[task_id]
                runner = TaskRunner(
                    task,
                    worker,
                    staged.get(task_id),
                    inputs,
                    seed=options.seed,
                    device=options.device,
                    checkpoint=checkpoints.get(task_id),
                )
                for check in checks:
                    left = options.submission_seconds - (time.monotonic() - started)
                    if left <= 1:
                        add(CheckResult(task_id, check, "failed", 0.0, "time budget of the submission exhausted"))
                        continue
                    add(runner.run(check, seconds=min(runner.time_limit(check, options.check_seconds), left)))
            return worker.output_tail()
    finally:
        shutil.rmtree(private, ignore_errors=True)


def _manual_entry(task: Task, check: Check, submission: Submission) -> dict[str, object]:
    answers = submission.answers.get(task.id, {})
    questions = QUESTION_HEADING.findall(task.questions or "")  # the headings carry each question's points
    return {
        "task": task.id,
        "check": check.id,
        "points": check.points,
        "questions": [
            {"id": qid, "points": float(points), "answer": answers.get(qid, "")} for qid, points in questions
        ],
    }


def previous_results(folder: Path) -> dict[str, object] | None:
    """The results.json of a complete earlier grade in `folder`, if there is one."""
    try:
        results = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    complete = isinstance(results, dict) and results.get("extra_data", {}).get("complete") is True
    return results if complete else None


def grade_batch(
    paths: list[Path],
    catalogue: dict[str, Task],
    options: GradeOptions,
    out_dir: Path,
    jobs: int = 1,
    resume: bool = True,
    progress: bool = False,
    gpus: list[str] | None = None,
) -> list[GradeReport]:
    """Grade `paths` with up to `jobs` at a time; one folder each under `out_dir` when there are several.
    With `resume`, a submission whose folder already holds a complete grade is not graded again. Every
    submission is recorded in `out_dir/gradebook.sqlite`; a file there this grader cannot use raises
    `GradebookError` before anything is graded. The class page `out_dir/index.html` is rewritten after every
    submission and at the end; a page that cannot be written is a warning, never a failed grade. On a GPU batch
    the workers are spread over `gpus` (default: the visible ones), see `grader.placement`."""
    folders = output_folders(paths, out_dir)
    check_gradebook(out_dir)
    return grade_into(folders, catalogue, options, jobs, resume, progress, gpus, class_out=out_dir)


def check_gradebook(out_dir: Path) -> None:
    """Make `out_dir` and open its gradebook once: a foreign or older file stops a batch before it grades."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with connect(out_dir / GRADEBOOK_NAME):
        pass


def grade_into(
    folders: dict[Path, Path],
    catalogue: dict[str, Task],
    options: GradeOptions,
    jobs: int = 1,
    resume: bool = True,
    progress: bool = False,
    gpus: list[str] | None = None,
    class_out: Path | None = None,
    available_cores: int | None = None,
) -> list[GradeReport]:
    """Grade each submission of {path: its folder} into its folder, `jobs` at a time, on `available_cores`
    (default: this process's). With `class_out`, also into that folder's gradebook and class page; without, the
    folders alone (a shard of a cluster batch, whose driver records what it finds there)."""
    paths = list(folders)
    slots: Queue[int] = Queue()
    for slot in range(jobs):
        slots.put(slot)
    on_gpu = options.device.startswith("cuda")
    gpus = (gpus if gpus is not None else visible_gpus()) if on_gpu else []
    available_cores = available_cores or cores()
    per_submission = checks_per_submission(catalogue, options)
    bar = tqdm(total=len(paths) * per_submission, unit="check", desc="grading", disable=not progress, leave=False)
    lock = threading.Lock()
    page_lock = threading.Lock()  # its own: the bar's lock is never held for the second a class page takes

    def class_page() -> None:
        if class_out is None:
            return
        with page_lock:
            rewrite_class_page(class_out)

    def one(path: Path) -> GradeReport:
        previous = previous_results(folders[path]) if resume else None
        if previous is not None:
            with lock:
                bar.update(per_submission)
            return GradeReport(name=path.name, options=options, out_dir=folders[path], previous=previous, complete=True)
        done = 0

        def advance(report: GradeReport) -> None:
            nonlocal done
            with lock:
                bar.update(len(report.results) + len(report.not_graded) - done)
            done = len(report.results) + len(report.not_graded)

        slot = slots.get()
        book = None if class_out is None else (class_out / GRADEBOOK_NAME, gradebook_id(path, folders))
        try:
            report = grade_submission(
                path,
                catalogue,
                options,
                folders[path],
                slot=slot,
                on_result=advance,
                gradebook=book,
                placement=place(slot, jobs, options.device, gpus, available_cores),
                workers_at_once=max(1, available_cores // jobs),
            )
        finally:
            slots.put(slot)
        class_page()
        return report

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        reports = list(pool.map(one, paths))
    if all(report.previous is not None for report in reports):
        class_page()  # written after every graded submission; here only when each was resumed
    bar.close()
    return reports


def checks_per_submission(catalogue: dict[str, Task], options: GradeOptions) -> int:
    """The automatic checks one submission has: what a progress bar counts."""
    tasks = [catalogue[task_id] for task_id in (options.tasks or catalogue)]
    return sum(check.kind != "manual" for task in tasks for check in task.checks)


def rewrite_class_page(out_dir: Path) -> None:
    """Write `out_dir/index.html` again; a page that cannot be written is a warning, never a failed grade."""
    try:
        write_class_page(out_dir)
    except Exception as error:  # noqa: BLE001 - the class page never fails or changes a grade
        reason = " ".join(f"{type(error).__name__}: {error}".split())  # one line, beside the bar
        tqdm.write(f"warning: class page {out_dir / 'index.html'} not written: {reason}", file=sys.stderr)


def gradebook_id(path: Path, folders: dict[Path, Path]) -> str:
    """A submission's id in the gradebook: its folder's name in a batch, its own name when graded alone."""
    return folders[path].name if len(folders) > 1 else submission_name(path)


def submission_name(path: Path) -> str:
    """A submission's name in the output folder and the gradebook: a file's stem, a folder's name."""
    return path.stem if path.is_file() else path.name


def output_folders(paths: list[Path], out_dir: Path) -> dict[Path, Path]:
    """`out_dir` itself for one submission; `out_dir/<name>` for several, made unique when names repeat."""
    if len(paths) == 1:
        return {paths[0]: out_dir}
    folders: dict[Path, Path] = {}
    used: set[str] = set()
    for path in paths:
        stem = submission_name(path)
        name, number = stem, 1
        while name in used:
            number += 1
            name = f"{stem}-{number}"
        used.add(name)
        folders[path] = out_dir / name
    return folders
