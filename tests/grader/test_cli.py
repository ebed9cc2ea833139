import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gankit import classifier
from gankit.catalogue import load_catalogue
from gankit.data import DATASETS
from grader.authoring.make_template import REFERENCE_DIR
from grader.cli import check_classifiers, main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_help_explains_the_command():
    # The console script sits beside the interpreter that installed it (a venv's bin/, pyenv's version bin/).
    grade = Path(sys.executable).parent / "grade"
    result = subprocess.run([str(grade), "--help"], capture_output=True, text=True, check=True)
    for words in ("SUBMISSION", "--public", "--no-train", "--jobs", "results.json", "sandbox", "classifiers"):
        assert words in result.stdout


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


def test_pack_command_reports_what_it_packed(tmp_path, capsys):
    (tmp_path / "wgan.py").write_text("x = 1\n")
    with pytest.raises(SystemExit) as exit_info:
        main(["pack", str(tmp_path), "-o", str(tmp_path / "out.zip")])
    assert exit_info.value.code == 0
    assert "packed 1 files" in capsys.readouterr().out and (tmp_path / "out.zip").is_file()


def test_pack_command_on_an_empty_folder_exits_2(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["pack", str(tmp_path)])
    assert exit_info.value.code == 2 and "no task files" in capsys.readouterr().err


def test_make_template_command_writes_the_folder(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["make-template", "--out", str(tmp_path / "t")])
    assert exit_info.value.code == 0 and "wrote" in capsys.readouterr().out
    assert (tmp_path / "t" / "cdcgan.ipynb").is_file()


def run(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as stop:
        main(argv)
    return int(stop.value.code or 0)


def test_grading_exits_0_whatever_the_score_and_prints_a_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "optimal_d.py"
    broken.write_text("raise SystemExit(3)\n")
    refused = tmp_path / "evil.zip"
    refused.write_bytes(b"not a zip at all")
    out = tmp_path / "out"
    assert run([str(broken), str(refused), "--tasks", "optimal_d", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "optimal_d.py" in printed and "refused" in printed
    results = json.loads((out / "optimal_d" / "results.json").read_text())
    assert results["score"] == 0 and results["tests"]


def test_an_unknown_task_is_an_error_of_the_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "optimal_d.py"
    path.write_text((REFERENCE_DIR / "optimal_d.py").read_text())
    assert run([str(path), "--tasks", "no_such_task", "--out", str(tmp_path / "out")]) == 2
    assert "unknown task" in capsys.readouterr().err


@pytest.mark.slow
def test_two_grade_processes_with_their_own_tmpdir_leave_each_other_whole(tmp_path: Path) -> None:
    """The issue's reproduction: a full static grade beside three short ones, each with another $TMPDIR (as
    SLURM gives each job), once killed each other's workers through uid locks kept under $TMPDIR."""
    grade = str(Path(sys.executable).parent / "grade")
    example = str(EXAMPLES / "perfect.zip")
    (tmp_path / "ta").mkdir()
    (tmp_path / "tb").mkdir()

    def command(tmpdir: str, out: str, *extra: str) -> tuple[list[str], dict[str, str]]:
        return [grade, example, "--no-train", "--out", str(tmp_path / out), *extra], {
            **os.environ,
            "TMPDIR": str(tmp_path / tmpdir),
        }

    argv, env = command("tb", "b")
    full = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for i in range(3):
        argv, env = command("ta", f"a{i}", "--tasks", "optimal_d")
        subprocess.run(argv, env=env, check=True, capture_output=True)
    assert full.wait(timeout=600) == 0
    results = json.loads((tmp_path / "b" / "results.json").read_text(encoding="utf-8"))
    short = {t["name"]: t["output"] for t in results["tests"] if t["score"] < t["max_score"]}
    # the example hands in no checkpoints: only its trained_model checks may fall short, as "not submitted"
    unsubmitted = {name for name, output in short.items() if output.startswith("not submitted")}
    graded_checkpoints = [task for task in load_catalogue().values() if task.checkpoint_file]
    assert results["tests"] and set(short) == unsubmitted and len(unsubmitted) == len(graded_checkpoints), short
