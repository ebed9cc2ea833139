import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gankit import classifier
from gankit.data import DATASETS
from grader.cli import check_classifiers, main


def test_help_explains_the_command():
    # The console script sits beside the interpreter that installed it (a venv's bin/, pyenv's version bin/).
    grade = Path(sys.executable).parent / "grade"
    result = subprocess.run([str(grade), "--help"], capture_output=True, text=True, check=True)
    assert "classifiers" in result.stdout and "Autograder for GAN assignments" in result.stdout


@pytest.mark.slow
def test_classifiers_command_agrees_with_the_sidecars(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["classifiers", "--device", "cpu"])
    out = capsys.readouterr().out
    assert exit_info.value.code == 0, out
    assert out.count("agrees") == 2


def test_classifiers_command_fails_on_tampered_weights(tmp_path, capsys):
    for path in classifier.WEIGHTS_DIR.iterdir():
        shutil.copy(path, tmp_path / path.name)
    for dataset in DATASETS:
        (tmp_path / f"{dataset}.pt").write_bytes(b"not the weights")
    assert check_classifiers("cpu", weights_dir=tmp_path) == 1
    out = capsys.readouterr().out
    assert "mnist          FAILED" in out and "sha256" in out
