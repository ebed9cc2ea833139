"""Where each worker of a batch runs: which GPU it sees and how many CPU threads it computes on.

A node's GPUs are shared out round robin over the batch's worker slots (`--jobs`), each worker seeing only its
own GPU through `CUDA_VISIBLE_DEVICES`; the networks are small, so `--jobs-per-gpu K` lets one GPU train K at once.
A CPU worker computes on one thread whatever the cores (`WORKER_THREADS`: the figures a grade is scored on must not
depend on the machine); a GPU worker trains on its GPU, so its CPU threads (data handling, static checks with
tolerances far above a reduction's rounding) follow the cores left per worker.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from grader.sandbox import WORKER_THREADS


@dataclass(frozen=True)
class Placement:
    gpu: str | None  # the CUDA device the worker sees as its only one; None: the worker's CUDA_VISIBLE_DEVICES is unset
    threads: int


CPU_PLACEMENT = Placement(gpu=None, threads=WORKER_THREADS)


def visible_gpus(environ: Mapping[str, str] = os.environ, count: int | None = None) -> list[str]:
    """The GPUs this process may use, as `CUDA_VISIBLE_DEVICES` names them (SLURM sets it for a job's GPUs);
    without it set, devices 0 .. count-1, `count` defaulting to what torch finds."""
    listed = environ.get("CUDA_VISIBLE_DEVICES")
    if listed is not None:
        names = [name.strip() for name in listed.split(",") if name.strip()]
        # CUDA stops at the first invalid entry; "-1" is the usual way of hiding every GPU
        return [] if not names or names[0] == "-1" else names
    if count is None:
        import torch  # only here: a grade on the CPU never waits for CUDA to initialise

        count = torch.cuda.device_count()
    return [str(index) for index in range(count)]


def cores() -> int:
    """The cores this process may use: those it may run on (SLURM and taskset narrow them), fewer where a cgroup
    CPU quota caps them (a Docker container's --cpus, Gradescope's 0.5 to 2 vCPU), at least one."""
    available = len(os.sched_getaffinity(0))
    quota = _cgroup_cpu_quota()
    return max(1, min(available, int(quota))) if quota is not None else available


def _cgroup_cpu_quota(root: Path = Path("/sys/fs/cgroup")) -> float | None:
    """CPUs' worth of time the cgroup grants (quota / period), from cgroup v2's cpu.max or v1's cfs files; None
    where there is no quota."""
    try:
        quota, period = (root / "cpu.max").read_text().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        pass
    for folder in (root / "cpu", root / "cpu,cpuacct"):
        try:
            quota_us = int((folder / "cpu.cfs_quota_us").read_text())
            period_us = int((folder / "cpu.cfs_period_us").read_text())
        except (OSError, ValueError):
            continue
        return None if quota_us <= 0 else quota_us / period_us
    return None


def batch_jobs(jobs: int | None, device: str, gpus: list[str], jobs_per_gpu: int) -> int:
    """How many submissions a batch grades at once: `jobs` when given, else every GPU's `jobs_per_gpu` on a GPU
    batch, else one. ValueError when the GPUs cannot take `jobs`."""
    on_gpu = device.startswith("cuda")
    if jobs_per_gpu < 1:
        raise ValueError("--jobs-per-gpu must be at least 1")
    if on_gpu and not gpus:
        raise ValueError("--device cuda, but no GPU is visible (CUDA_VISIBLE_DEVICES hides them all)")
    if jobs is None:
        return len(gpus) * jobs_per_gpu if on_gpu else 1
    if jobs < 1:
        raise ValueError("--jobs must be at least 1")
    if on_gpu and jobs > len(gpus) * jobs_per_gpu:
        raise ValueError(
            f"--jobs {jobs} is more than {len(gpus)} GPU(s) x --jobs-per-gpu {jobs_per_gpu}: raise --jobs-per-gpu "
            "if one GPU should train more at once"
        )
    return jobs


def place(slot: int, jobs: int, device: str, gpus: list[str], available_cores: int) -> Placement:
    """The placement of worker slot `slot` of `jobs`: GPU `slot mod len(gpus)` on a GPU batch, so every GPU gets
    work before any gets a second worker."""
    if not device.startswith("cuda"):
        return CPU_PLACEMENT
    return Placement(gpu=gpus[slot % len(gpus)], threads=max(1, available_cores // jobs))
