"""The one-node SLURM cluster of the batch tests (tests/slurm_cluster.py): it runs a job, and it leaves nothing
running behind it."""

import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.slurm_cluster import ClusterUnavailable, SlurmCluster, cluster_processes, find_programs, one_node_cluster


def wait_until(ready: Callable[[], bool], timeout_s: float = 60.0) -> bool:
    """Poll `ready` every 0.2 s until it holds or `timeout_s` passes; whether it held."""
    deadline = time.monotonic() + timeout_s
    while not ready():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def test_runs_a_batch_job(slurm_cluster: SlurmCluster, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    for name, value in slurm_cluster.env.items():
        monkeypatch.setenv(name, value)
    hello = tmp_path / "hello.txt"
    submitted = subprocess.run(
        ["sbatch", "--parsable", f"--output={tmp_path}/slurm-%j.out", "--wrap", f"echo hello > {hello}"],
        capture_output=True,
        text=True,
        timeout=30,
    )  # the job's log in tmp_path: sbatch writes it to the current folder otherwise
    assert submitted.returncode == 0, submitted.stderr
    assert submitted.stdout.strip().split(";")[0].isdigit()
    assert wait_until(lambda: hello.exists() and hello.read_text() == "hello\n"), "the job did not run in 60 s"
    node = subprocess.run(["scontrol", "show", "node"], capture_output=True, text=True, timeout=30)
    assert node.returncode == 0, node.stderr
    assert f"NodeName={os.uname().nodename.split('.')[0]}" in node.stdout
    assert f"Partitions={slurm_cluster.partition}" in node.stdout


def test_stops_every_process_it_started(tmp_path: Path):
    """A job still running when the cluster stops is ended too, with the daemons and every slurmstepd."""
    try:
        find_programs()
    except ClusterUnavailable as reason:
        pytest.skip(str(reason))
    job_pid = tmp_path / "job.pid"
    with one_node_cluster(tmp_path) as cluster:
        env = {**os.environ, **cluster.env}
        subprocess.run(
            ["sbatch", f"--output={tmp_path}/slurm-%j.out", "--wrap", f"echo $$ > {job_pid}; exec sleep 300"],
            env=env,
            check=True,
            capture_output=True,
        )
        assert wait_until(lambda: job_pid.exists() and job_pid.read_text().strip().isdigit()), "the job did not start"
        running = cluster_processes(cluster.conf)
        names = {Path(f"/proc/{pid}/comm").read_text().strip() for pid in running}
    assert {"munged", "slurmctld", "slurmd", "slurmstepd", "sleep"} <= names
    assert int(job_pid.read_text()) in running
    assert [pid for pid in running if Path(f"/proc/{pid}").exists()] == []  # not even a zombie
    assert cluster_processes(cluster.conf) == set()
