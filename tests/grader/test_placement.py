"""Where a batch's workers run: the GPUs dealt round robin (a fake device list stands in for a GPU node), the
thread count per worker, the cores a cgroup quota leaves, and `--jobs` checked against the GPUs."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

import grader.grade
from gankit.catalogue import load_catalogue
from grader.grade import grade_batch
from grader.placement import CPU_PLACEMENT, _cgroup_cpu_quota, batch_jobs, place, visible_gpus
from grader.results import GradeOptions, GradeReport
from grader.sandbox import WORKER_THREADS


@pytest.mark.parametrize(
    ("listed", "expected"),
    [("0,1,3", ["0", "1", "3"]), ("GPU-5c1a,GPU-77e0", ["GPU-5c1a", "GPU-77e0"]), ("", []), ("-1", []), (" 2 ", ["2"])],
)
def test_visible_gpus_are_the_ones_cuda_visible_devices_names(listed: str, expected: list[str]) -> None:
    assert visible_gpus({"CUDA_VISIBLE_DEVICES": listed}) == expected


def test_without_cuda_visible_devices_every_device_is_visible() -> None:
    assert visible_gpus({}, count=4) == ["0", "1", "2", "3"]
    assert visible_gpus({}, count=0) == []


def test_the_jobs_default_to_every_gpus_share_and_cannot_exceed_it() -> None:
    assert batch_jobs(None, "cpu", [], 1) == 1
    assert batch_jobs(None, "cuda", ["0", "1", "2", "3"], 2) == 8
    assert batch_jobs(3, "cpu", [], 1) == 3
    with pytest.raises(ValueError, match="more than 2 GPU"):
        batch_jobs(5, "cuda", ["0", "1"], 2)
    with pytest.raises(ValueError, match="no GPU is visible"):
        batch_jobs(None, "cuda", [], 1)
    with pytest.raises(ValueError, match="--jobs must be"):
        batch_jobs(0, "cpu", [], 1)


def test_every_gpu_gets_a_worker_before_any_gets_a_second() -> None:
    gpus = ["0", "1", "2"]
    placed = [place(slot, 6, "cuda", gpus, available_cores=12) for slot in range(6)]
    assert [p.gpu for p in placed] == ["0", "1", "2", "0", "1", "2"]
    assert {p.threads for p in placed} == {2}  # 12 cores over 6 workers
    assert place(0, 8, "cuda", gpus, available_cores=4).threads == 1


def test_a_cpu_worker_computes_on_one_thread_whatever_the_cores() -> None:
    assert place(0, 1, "cpu", [], available_cores=64) == CPU_PLACEMENT
    assert CPU_PLACEMENT.gpu is None and CPU_PLACEMENT.threads == WORKER_THREADS == 1


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"cpu.max": "150000 100000\n"}, 1.5),
        ({"cpu.max": "max 100000\n"}, None),
        ({"cpu/cpu.cfs_quota_us": "50000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 0.5),
        ({"cpu,cpuacct/cpu.cfs_quota_us": "-1\n", "cpu,cpuacct/cpu.cfs_period_us": "100000\n"}, None),
        ({}, None),
    ],
)
def test_a_cgroup_cpu_quota_is_read_from_v2_or_v1(tmp_path: Path, files: dict[str, str], expected: float) -> None:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert _cgroup_cpu_quota(tmp_path) == expected


def test_a_gpu_batch_spreads_its_submissions_over_the_gpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The batch's own assignment, with the grading itself replaced: four submissions, two fake GPUs, two
    workers each: every GPU grades two."""
    seen = []

    def fake_grade(path: Path, catalogue, options, out_dir, *, placement, **_: object) -> GradeReport:
        seen.append(placement)
        return GradeReport(name=path.name, options=options, out_dir=out_dir, complete=True)

    monkeypatch.setattr(grader.grade, "grade_submission", fake_grade)
    monkeypatch.setattr(grader.grade, "cores", lambda: 8)
    paths = [tmp_path / f"s{index}.py" for index in range(4)]
    for path in paths:
        path.write_text("")
    options = GradeOptions(tasks=("optimal_d",), train=False, device="cuda")
    grade_batch(paths, load_catalogue(), options, tmp_path / "out", jobs=4, gpus=["0", "1"])
    assert Counter(p.gpu for p in seen) == {"0": 2, "1": 2}
    assert {p.threads for p in seen} == {2}
