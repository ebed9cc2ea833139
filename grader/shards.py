"""Grading a batch as shards on an executor: submitit's SLURM executor on a cluster, its local executor as
processes on this machine (the same path, testable anywhere).

The batch is split into shards submitted as one job array. Each shard grades its submissions into the shared
`--out` folder exactly as a local batch does (one folder each, a complete grade kept), and writes nothing else
there: the gradebook is SQLite, which is not safe across the nodes of a network file system, so this process,
the driver, is its only writer. The driver follows the jobs by the folders they fill: it records every finished
grade in the gradebook, rewrites the class page, moves the progress bar, and resubmits a shard that failed or
was preempted for the submissions it had not finished. A shard that keeps failing is the machine's fault, never
the students': its submissions are reported as not graded, not given zero.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import submitit
from tqdm import tqdm

from gankit.catalogue import Task
from grader.grade import (
    check_gradebook,
    checks_per_submission,
    grade_into,
    gradebook_id,
    output_folders,
    previous_results,
    rewrite_class_page,
)
from grader.gradebook import GRADEBOOK_NAME, record
from grader.placement import batch_jobs, cores, visible_gpus
from grader.report import DATA_NAME
from grader.results import GradeOptions, GradeReport

EXECUTORS = ("inline", "local", "slurm")  # inline: this process grades the batch itself (`grade_batch`)
SUBMITIT_DIR = ".submitit"  # under --out: the jobs' pickles and logs, where a failed shard's log is read
POLL_SECONDS = 2.0  # how often the driver looks at the folders and the jobs; it decides no point


@dataclass(frozen=True)
class ClusterOptions:
    """How a batch is cut into shards and what each shard's job asks of the cluster."""

    executor: str = "local"
    shards: int | None = None  # default: one per submission, at most `array_parallelism`
    jobs: int | None = None  # submissions a shard grades at once; default: its CPUs, or its GPUs x jobs_per_gpu
    jobs_per_gpu: int = 1
    partition: str | None = None
    cpus_per_task: int = 1
    gpus_per_task: int = 0
    mem: str | None = None  # as sbatch takes it: "16G"
    time_minutes: int = 120
    array_parallelism: int = 16
    retries: int = 2  # resubmissions of a shard that failed, after the first try


@dataclass
class ShardedBatch:
    reports: list[GradeReport]  # the graded submissions, in the order given
    ungraded: list[Path] = field(default_factory=list)  # shards that failed every try: the machine's fault
    failures: list[str] = field(default_factory=list)  # one line per failed try, with its log


class GradeShard(submitit.helpers.Checkpointable):
    """One shard's job: grade {submission: folder} into the folders. Checkpointable, so a job that SLURM
    preempts or times out is requeued with the same arguments, and resuming skips what is complete."""

    def __call__(
        self, folders: dict[Path, Path], catalogue: dict[str, Task], options: GradeOptions, cluster: ClusterOptions
    ) -> int:
        on_gpu = options.device.startswith("cuda")
        gpus = visible_gpus() if on_gpu else []  # the job's own: SLURM and the local executor set them
        jobs = cluster.jobs if cluster.jobs is not None or on_gpu else cluster.cpus_per_task
        jobs = batch_jobs(jobs, options.device, gpus, cluster.jobs_per_gpu)
        # the CPUs the job asked for: a local shard sees every core of the machine, beside the other shards
        available = min(cores(), cluster.cpus_per_task)
        grade_into(folders, catalogue, options, jobs=jobs, resume=True, gpus=gpus, available_cores=available)
        return len(folders)


def split(paths: list[Path], shards: int) -> list[list[Path]]:
    """`paths` dealt round robin into `shards` non-empty shards, so neighbours (often alike) spread out."""
    count = max(1, min(shards, len(paths)))
    return [paths[index::count] for index in range(count)]


def make_executor(cluster: ClusterOptions, folder: Path) -> submitit.Executor:
    """submitit's executor for `cluster.executor`, its parameters set from `cluster`."""
    executor = submitit.AutoExecutor(folder=folder, cluster=cluster.executor)
    parameters: dict[str, Any] = {
        "name": "gan-grade",
        "timeout_min": cluster.time_minutes,
        "cpus_per_task": cluster.cpus_per_task,
        "slurm_array_parallelism": cluster.array_parallelism,
    }
    if cluster.executor == "local":
        parameters["gpus_per_node"] = cluster.gpus_per_task
    else:
        parameters.update(
            {
                name: value
                for name, value in {
                    "slurm_partition": cluster.partition,
                    "slurm_gpus_per_task": cluster.gpus_per_task or None,
                    "slurm_mem": cluster.mem,
                }.items()
                if value is not None
            }
        )
    executor.update_parameters(**parameters)
    return executor


def finished_report(folder: Path) -> GradeReport | None:
    """The complete grade a shard left in `folder`, read from its sidecar; None while it is not complete."""
    if previous_results(folder) is None:
        return None
    try:
        return GradeReport.from_plain(json.loads((folder / DATA_NAME).read_text(encoding="utf-8")), folder)
    except (OSError, ValueError):
        return None


def checks_done(folder: Path) -> int:
    """How many checks the grade in `folder` has so far (the sidecar is replaced atomically after each)."""
    try:
        data = json.loads((folder / DATA_NAME).read_text(encoding="utf-8"))
        return len(data["results"]) + len(data["not_graded"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0


def _why(job: submitit.Job) -> str:
    """The first line of what a failed job left, and where its whole log is."""
    try:
        error = job.exception()
    except Exception as reading:  # noqa: BLE001 - a job that left nothing readable still needs a line
        error = reading
    first = next((line for line in str(error).splitlines() if line.strip()), type(error).__name__)
    return f"{first.strip()[:200]} (log: {job.paths.stderr})"


def grade_sharded(
    paths: list[Path],
    catalogue: dict[str, Task],
    options: GradeOptions,
    out_dir: Path,
    cluster: ClusterOptions,
    resume: bool = True,
    progress: bool = False,
) -> ShardedBatch:
    """Grade `paths` into `out_dir` as shards on `cluster.executor`; the folders, gradebook and class page are
    those `grade_batch` would write. With `resume`, complete grades in `out_dir` are kept and not graded again."""
    folders = output_folders(paths, out_dir)
    check_gradebook(out_dir)
    if not resume:  # a shard always resumes (a requeued one must); so an old grade must not look finished
        for folder in folders.values():
            (folder / "results.json").unlink(missing_ok=True)
    kept = {path for path in paths if previous_results(folders[path]) is not None}
    pending = [path for path in paths if path not in kept]
    executor = make_executor(cluster, out_dir / SUBMITIT_DIR)
    shards = split(pending, cluster.shards or min(len(pending), cluster.array_parallelism)) if pending else []

    def submit(shard: list[Path]) -> submitit.Job:
        return executor.submit(GradeShard(), {path: folders[path] for path in shard}, catalogue, options, cluster)

    with executor.batch():  # one job array
        jobs = [submit(shard) for shard in shards]
    tries = [1] * len(jobs)
    running = dict(enumerate(jobs))
    batch = ShardedBatch(reports=[])
    per_submission = checks_per_submission(catalogue, options)
    bar = tqdm(total=len(paths) * per_submission, unit="check", desc="grading", disable=not progress, leave=False)
    bar.update(len(kept) * per_submission)
    recorded = set(kept)

    def record_finished() -> None:
        newly = {path: finished_report(folders[path]) for path in pending if path not in recorded}
        newly = {path: report for path, report in newly.items() if report is not None}
        for path, report in newly.items():
            record(out_dir / GRADEBOOK_NAME, gradebook_id(path, folders), report)
            recorded.add(path)
        if newly:
            rewrite_class_page(out_dir)

    while True:
        record_finished()
        bar.n = len(recorded) * per_submission + sum(
            checks_done(folders[path]) for path in pending if path not in recorded
        )
        bar.set_postfix_str(f"{len(running)} job(s) running", refresh=False)
        bar.refresh()
        for index, job in list(running.items()):
            if not job.done():
                continue
            del running[index]
            left = [path for path in shards[index] if finished_report(folders[path]) is None]
            if not left:
                continue
            failure = f"shard {index + 1} (job {job.job_id}, try {tries[index]}) ended with {len(left)} ungraded"
            batch.failures.append(f"{failure}: {_why(job)}")
            tqdm.write(f"warning: {batch.failures[-1]}", file=sys.stderr)
            if tries[index] <= cluster.retries:
                tries[index] += 1
                shards[index] = left
                running[index] = executor.submit(
                    GradeShard(), {p: folders[p] for p in left}, catalogue, options, cluster
                )
            else:
                batch.ungraded += left
        if not running:
            break
        time.sleep(POLL_SECONDS)
    record_finished()  # what the last jobs finished after the last look
    bar.close()
    rewrite_class_page(out_dir)  # also when every submission was kept
    for path in paths:
        if path in kept:
            batch.reports.append(
                GradeReport(
                    name=path.name,
                    options=options,
                    out_dir=folders[path],
                    previous=previous_results(folders[path]),
                    complete=True,
                )
            )
        elif path not in batch.ungraded:
            report = finished_report(folders[path])
            if report is not None:
                batch.reports.append(report)
    return batch
