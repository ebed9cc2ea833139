"""The batch on a real SLURM cluster: a one-node cluster on localhost (`tests/slurm_cluster.py`: munged,
slurmctld and slurmd from Debian's slurm-wlm and munge), the two examples graded through `--executor slurm` as a
job array of two shards, with the same scores and gradebook as a plain grade. Skipped, with the reason, where
SLURM is not installed."""

from __future__ import annotations

import os
from pathlib import Path

from grader.gradebook import GRADEBOOK_NAME, table
from tests.grader.test_shards import finished, grade, scores
from tests.slurm_cluster import SlurmCluster


def test_a_slurm_job_array_grades_like_a_plain_grade(tmp_path: Path, slurm_cluster: SlurmCluster) -> None:
    env = {**os.environ, **slurm_cluster.env}
    sharded = tmp_path / "sharded"
    flags = ["--executor", "slurm", "--shards", "2", "--slurm-partition", slurm_cluster.partition]
    code, out, err = finished(grade("--out", sharded, *flags, "--slurm-mem", "2G", "--slurm-time", "10", env=env))
    assert code == 0, (out, err)
    assert len(list((sharded / ".submitit").glob("*_0_log.out"))) == 2, "not one job per shard"
    code, _, err = finished(grade("--out", tmp_path / "plain", "--jobs", "2"))
    assert code == 0, err
    assert scores(sharded) == scores(tmp_path / "plain") and len(scores(sharded)) == 2
    assert table(sharded / GRADEBOOK_NAME).rows == table(tmp_path / "plain" / GRADEBOOK_NAME).rows
