"""A Gradescope run on this machine: build the bundle, unpack it into a folder standing in for /autograder, run
`setup.sh --dry-run`, then `run_autograder` on a submission once without and once with the training stages,
and print the wall time, each task's time per phase and the peak memory of the whole process tree (the grader,
the worker, bubblewrap; proportional set size), sampled from /proc every 0.5 s. `--write` records the figures in
grader/measured.toml, which `grade gradescope-bundle` budgets with.

    python bench/gradescope_run.py                          # examples/perfect.zip, every task, both phases
    python bench/gradescope_run.py --no-train --tasks optimal_d,adversarial
    python bench/gradescope_run.py --write                  # and record the figures
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

from gankit.catalogue import load_catalogue
from grader.checks import load_all
from grader.gradescope.autograder import CONFIG_NAME, ROOT_VARIABLE
from grader.gradescope.budget import Machine
from grader.gradescope.bundle import BundleSettings, build_bundle
from grader.gradescope.results import Visibility
from grader.measured import MEASURED_PATH, Measured

PROJECT = Path(__file__).resolve().parent.parent


def tree_memory_mb(root_pid: int) -> float:
    """The memory of `root_pid` and every process below it, in MB, as proportional set size: a page shared
    by several processes (torch's libraries in the grader and the worker) counts once, as a memory limit
    (Gradescope's container, a cgroup) counts it."""
    parents = {}
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            ppid = next(line for line in status.read_text().splitlines() if line.startswith("PPid:"))
        except (OSError, StopIteration):
            continue
        parents[int(status.parent.name)] = int(ppid.split()[1])
    inside, grew = {root_pid}, True
    while grew:
        grew = False
        for pid, parent in parents.items():
            if parent in inside and pid not in inside:
                inside.add(pid)
                grew = True
    total_kb = 0
    for pid in inside:
        try:
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:
            continue  # ended meanwhile
        total_kb += next((int(line.split()[1]) for line in rollup.splitlines() if line.startswith("Pss:")), 0)
    return total_kb / 1024


def run_measured(command: list[str], environment: dict[str, str]) -> tuple[float, float, str]:
    """(wall seconds, peak memory of its process tree in MB, output) of `command`."""
    started = time.perf_counter()
    process = subprocess.Popen(command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    peak = 0.0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.wait(0.5):
            peak = max(peak, tree_memory_mb(process.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output = process.communicate()[0].decode(errors="replace")
    stop.set()
    sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"{command[-1]} failed (exit {process.returncode}):\n{output}")
    return time.perf_counter() - started, peak, output


def phase_seconds(results: dict, trains: bool) -> dict[str, float]:
    kinds = load_all()
    seconds: dict[str, float] = {}
    for test in results["tests"]:
        extra = test["extra_data"]
        if "seconds" in extra and kinds[test["tags"][0]].trains == trains:
            seconds[extra["task"]] = seconds.get(extra["task"], 0.0) + extra["seconds"]
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--submission", type=Path, default=PROJECT / "examples" / "perfect.zip")
    parser.add_argument("--tasks", default="", help="comma-separated task ids (default: all)")
    parser.add_argument("--no-train", action="store_true", help="only the run without the training stages")
    parser.add_argument("--write", action="store_true", help=f"record the figures in {MEASURED_PATH.name}")
    args = parser.parse_args()
    catalogue = load_catalogue()
    tasks = tuple(t for t in args.tasks.split(",") if t) or tuple(catalogue)
    with tempfile.TemporaryDirectory(prefix="gan-gradescope-") as scratch:
        root = Path(scratch) / "autograder"
        settings = BundleSettings(tasks, True, Visibility(), Machine())
        started = time.perf_counter()
        unbudgeted = Measured("none", 0.0, dict.fromkeys(tasks, 0.0), {}, {"static": 0.0, "training": 0.0})
        bundle = build_bundle(Path(scratch) / "autograder.zip", settings, catalogue, unbudgeted)
        print(f"bundle: {bundle.path.stat().st_size / 1024**2:.1f} MB in {time.perf_counter() - started:.1f} s")
        with zipfile.ZipFile(bundle.path) as archive:
            archive.extractall(root / "source")
        shutil.copy(root / "source" / "run_autograder", root / "run_autograder")
        environment = {**os.environ, ROOT_VARIABLE: str(root), "GAN_PYTHON": sys.executable}
        seconds, _, _ = run_measured(["bash", str(root / "source" / "setup.sh"), "--dry-run"], environment)
        print(f"setup.sh --dry-run: {seconds:.1f} s")
        figures = {}
        for train in (False,) if args.no_train else (False, True):
            config_path = root / "source" / CONFIG_NAME
            config = json.loads(config_path.read_text())
            config_path.write_text(json.dumps({**config, "train": train}))
            shutil.rmtree(root / "submission", ignore_errors=True)
            with zipfile.ZipFile(args.submission) as archive:
                archive.extractall(root / "submission")
            wall, peak, output = run_measured(["bash", str(root / "run_autograder")], environment)
            results = json.loads((root / "results" / "results.json").read_text())
            phase = "training" if train else "static"
            figures[phase] = {"wall": wall, "peak": peak, "results": results}
            print(f"{phase}: {wall:.1f} s wall, peak memory {peak:.0f} MB; {output.strip().splitlines()[-1]}")
        static = phase_seconds(figures["static"]["results"], trains=False)
        training = phase_seconds(figures["training"]["results"], trains=True) if "training" in figures else {}
        start = figures["static"]["wall"] - sum(static.values())
        print(f"\n{'task':14s} {'static s':>9s} {'training s':>11s}")
        for task in tasks:
            print(f"{task:14s} {static.get(task, 0.0):9.1f} {training.get(task, 0.0):11.1f}")
        print(f"{'start':14s} {start:9.1f}")
        if args.write:
            if "training" not in figures or set(tasks) != set(catalogue):
                raise SystemExit("--write needs both phases and every task")
            write_measured(start, static, training, {phase: f["peak"] for phase, f in figures.items()})


def write_measured(start: float, static: dict, training: dict, peaks: dict) -> None:
    cores = os.cpu_count()
    lines = [
        "# Written by `python bench/gradescope_run.py --write`: one grade of examples/perfect.zip by the bundle's",
        "# run_autograder (seconds per task and phase; peak memory, PSS, of the whole process tree). Budgeted with by",
        "# grader/gradescope/budget.py.",
        f'machine = "{platform.machine()}, {cores} cores, {time.strftime("%Y-%m-%d")}"',
        f"start_seconds = {start:.1f}",
        "",
        "[peak_memory_mb]",
        *(f"{phase} = {mb:.0f}" for phase, mb in peaks.items()),
        "",
    ]
    for task, seconds in static.items():
        lines += [f"[tasks.{task}]", f"static_seconds = {seconds:.1f}"]
        if task in training:
            lines.append(f"training_seconds = {training[task]:.1f}")
        lines.append("")
    MEASURED_PATH.write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {MEASURED_PATH}")


if __name__ == "__main__":
    main()
