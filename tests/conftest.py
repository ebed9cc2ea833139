"""Fixtures shared by the whole suite."""

import os
import stat
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from gankit.data import DataSources
from grader.sandbox import GRADER_SECRETS, python_roots
from tests.slurm_cluster import ClusterUnavailable, SlurmCluster, one_node_cluster


@pytest.fixture
def bare_sources(tmp_path: Path) -> DataSources:
    """Every data source pointed at an empty folder and downloads off: a machine with no data at all."""
    empty = tmp_path / "empty"
    empty.mkdir()
    return DataSources(data_dir=empty, debian_dir=empty, npm_dir=empty, cache=tmp_path / "cache", download=False)


@pytest.fixture(scope="session")
def without_bubblewrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The sandbox a worker gets where bubblewrap cannot run: "uid" when the suite runs as root, else "none".
    The unprivileged uid must pass through the folders on the way to Python (this machine's /root is 0700, with
    pyenv inside) and to the tests' temporary folders, so `o+x` is added where it is missing, and the checkout's
    `tasks/` and `reference/` are closed to other users; all is put back when the session ends. A test's own
    folder is `passable_tmp`."""
    if os.geteuid() != 0:
        yield "none"
        return
    changed: dict[Path, int] = {}
    temporary = [Path(tempfile.gettempdir()).resolve(), tmp_path_factory.getbasetemp() / "x"]
    for path in [Path(sys.executable).resolve(), *python_roots(), *temporary]:
        for folder in reversed(path.parents):
            mode = folder.stat().st_mode
            if not mode & 0o001:
                changed.setdefault(folder, mode)
                folder.chmod(stat.S_IMODE(mode) | 0o001)
    for secret in GRADER_SECRETS:  # and the checkout's secrets closed to them, as uid_problem demands
        if secret.exists():
            changed.setdefault(secret, secret.stat().st_mode)
            secret.chmod(stat.S_IMODE(secret.stat().st_mode) & ~0o007)
    try:
        yield "uid"
    finally:
        for folder, mode in changed.items():
            folder.chmod(stat.S_IMODE(mode))


@pytest.fixture
def passable_tmp(tmp_path: Path) -> Path:
    """`tmp_path`, passable (not listable) by other users, as grade.py makes its own scratch folder."""
    tmp_path.chmod(0o711)
    return tmp_path


@pytest.fixture(scope="session")
def slurm_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SlurmCluster]:
    """A one-node SLURM cluster on localhost for the whole session (tests/slurm_cluster.py), stopped at its end;
    skipped where SLURM or munge is missing or the suite does not run as root. A test points its clients at it
    with `monkeypatch.setenv` of each of `slurm_cluster.env`."""
    try:
        with one_node_cluster(tmp_path_factory.mktemp("slurm")) as cluster:
            yield cluster
    except ClusterUnavailable as reason:
        pytest.skip(str(reason))
