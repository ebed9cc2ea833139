"""bench/gpu_check.sh --dry-run: the GPU check's every step on the CPU with tiny budgets, so the script a GPU
session runs once is known to work before its device time is spent."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "gpu_check.sh"


@pytest.mark.slow
def test_the_gpu_check_runs_every_step_dry_on_the_cpu() -> None:
    done = subprocess.run(["bash", str(SCRIPT), "--dry-run"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    for step in ("1. one grade", "2. the reference", "3. throughput", "4. the data path", "=== done"):
        assert step in out, (step, out[-3000:])
    assert "score of the first copy: 8" in out  # optimal_d's static checks, all passed
    assert out.count("submissions per minute") == 2  # the one grade and K = 2
    assert "cdcgan reference seed 0" in out and "steps/s" in out


def test_the_gpu_check_refuses_an_unknown_option() -> None:
    done = subprocess.run(["bash", str(SCRIPT), "--wet"], capture_output=True, text=True)
    assert done.returncode == 2 and "usage" in done.stderr
