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

from tqdm import tqdm

from gankit.catalogue import QUESTION_HEADING, Check, Task
from grader.checks import Kind, load_all
from grader.classpage import write_class_page
from grader.gradebook import GRADEBOOK_NAME, connect, record
from grader.report import write_outputs
from grader.results import CheckResult, GradeOptions, GradeReport
from grader.run_checks import TaskRunner
from grader.sandbox import Limits, Worker
from grader.submission import DOCUMENTS_DIR, RefusedSubmission, Submission, document_names, load_submission


def _stage(submission: Submission, tasks: dict[str, Task], worker: Worker) -> dict[str, Path]:
    """Stage each task's source under its student file name; {task id: its path on the host}."""
    paths = worker.stage({tasks[task_id].student_file: source for task_id, source in submission.sources.items()})
    return {task_id: paths[tasks[task_id].student_file] for task_id in submission.sources}


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
) -> GradeReport:
    """Grade one submission into `out_dir` (results.json, report.html) and, with `gradebook` = (its file, this
    submission's id there), into the class's gradebook; never raises for a bad submission."""
    started = time.monotonic()
    report = GradeReport(name=path.name, options=options, out_dir=out_dir)
    tasks = {task_id: catalogue[task_id] for task_id in (options.tasks or catalogue)}

    def save() -> None:
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
        ) as worker:
            staged = _stage(submission, tasks, worker)
            report.isolation = worker.isolation
            _run_tasks(report, tasks, submission, staged, worker, inputs, options, started, save)
            report.output_tail = worker.output_tail()
    finally:
        shutil.rmtree(private, ignore_errors=True)
    report.complete = True
    save()
    return report


def _run_tasks(
    report: GradeReport,
    tasks: dict[str, Task],
    submission: Submission,
    staged: dict[str, Path],
    worker: Worker,
    inputs: Path,
    options: GradeOptions,
    started: float,
    save: Callable[[], None],
) -> None:
    checks = load_all()
    for task in tasks.values():
        runner = TaskRunner(task, worker, staged.get(task.id), inputs, seed=options.seed, device=options.device)
        for check in task.checks:
            if check.kind == "manual":
                report.manual.append(_manual_entry(task, check, submission))
                continue
            reason = _skip_reason(check, options, checks)
            if reason:
                report.not_graded.append({"task": task.id, "check": check.id, "points": check.points, "why": reason})
                continue
            left = options.submission_seconds - (time.monotonic() - started)
            if left <= 1:
                result = CheckResult(task.id, check, "failed", 0.0, "time budget of the submission exhausted")
            else:
                limit = runner.time_limit(check, options.check_seconds)
                result = runner.run(check, seconds=min(limit, left))
            report.results.append(result)
            save()


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
) -> list[GradeReport]:
    """Grade `paths` with up to `jobs` at a time; one folder each under `out_dir` when there are several.
    With `resume`, a submission whose folder already holds a complete grade is not graded again. Every
    submission is recorded in `out_dir/gradebook.sqlite`; a file there this grader cannot use raises
    `GradebookError` before anything is graded. The class page `out_dir/index.html` is rewritten after every
    submission and at the end; a page that cannot be written is a warning, never a failed grade."""
    folders = output_folders(paths, out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with connect(out_dir / GRADEBOOK_NAME):  # a foreign or older gradebook stops the batch before it grades
        pass
    slots: Queue[int] = Queue()
    for slot in range(jobs):
        slots.put(slot)
    total_checks = len(paths) * sum(
        check.kind != "manual" for task_id in (options.tasks or catalogue) for check in catalogue[task_id].checks
    )
    bar = tqdm(total=total_checks, unit="check", desc="grading", disable=not progress, leave=False)
    lock = threading.Lock()
    page_lock = threading.Lock()  # its own: the bar's lock is never held for the second a class page takes

    def class_page() -> None:
        with page_lock:
            try:
                write_class_page(out_dir)
            except Exception as error:  # noqa: BLE001 - the class page never fails or changes a grade
                reason = " ".join(f"{type(error).__name__}: {error}".split())  # one line, beside the bar
                tqdm.write(f"warning: class page {out_dir / 'index.html'} not written: {reason}", file=sys.stderr)

    def one(path: Path) -> GradeReport:
        previous = previous_results(folders[path]) if resume else None
        if previous is not None:
            with lock:
                bar.update(total_checks // len(paths))
            return GradeReport(name=path.name, options=options, out_dir=folders[path], previous=previous, complete=True)
        done = 0

        def advance(report: GradeReport) -> None:
            nonlocal done
            with lock:
                bar.update(len(report.results) + len(report.not_graded) - done)
            done = len(report.results) + len(report.not_graded)

        slot = slots.get()
        book = (out_dir / GRADEBOOK_NAME, folders[path].name if len(paths) > 1 else submission_name(path))
        try:
            report = grade_submission(
                path, catalogue, options, folders[path], slot=slot, on_result=advance, gradebook=book
            )
        finally:
            slots.put(slot)
        class_page()
        return report

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        reports = list(pool.map(one, paths))
    class_page()  # also when every submission was resumed
    bar.close()
    return reports


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
