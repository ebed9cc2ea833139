"""Fixtures shared by the whole suite."""

from pathlib import Path

import pytest

from gankit.data import DataSources


@pytest.fixture
def bare_sources(tmp_path: Path) -> DataSources:
    """Every data source pointed at an empty folder and downloads off: a machine with no data at all."""
    empty = tmp_path / "empty"
    empty.mkdir()
    return DataSources(data_dir=empty, debian_dir=empty, npm_dir=empty, cache=tmp_path / "cache", download=False)
