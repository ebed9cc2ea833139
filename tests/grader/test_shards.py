"""A batch as shards on submitit's local executor, through the `grade` command: the same scores as a plain grade,
complete grades kept, a killed shard resubmitted for what it had not finished, and a shard that fails every try
reported as not graded (never as zero). The real SLURM cluster is `test_shards_slurm.py`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from grader.authoring.examples import EXAMPLES_DIR
from grader.gradebook import GRADEBOOK_NAME, table
from grader.shards import split

GRADE = str(Path(sys.executable).parent / "grade")
EXAMPLES = [EXAMPLES_DIR / "perfect.zip", EXAMPLES_DIR / "saturating_generator_loss.zip"]
TASKS = "optimal_d,vanilla_gan"  # static checks of two small tasks (two worker groups): seconds per submission


def grade(*args: str | Path, **popen: object) -> subprocess.Popen[str]:
    argv = [GRADE, *map(str, EXAMPLES), "--tasks", TASKS, "--no-train", *map(str, args)]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)


def finished(process: subprocess.Popen[str], timeout: float = 300) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out, err


def scores(out: Path) -> dict[str, dict[str, float]]:
    """{submission: {test name: score}} from the results.json files under `out`."""
    found = {}
    for results in sorted(out.glob("*/results.json")):
        data = json.loads(results.read_text())
        found[results.parent.name] = {test["name"]: test["score"] for test in data["tests"]}
    return found


def complete(folder: Path) -> bool:
    try:
        return json.loads((folder / "results.json").read_text())["extra_data"]["complete"] is True
    except (OSError, ValueError, KeyError):
        return False


def shard_processes(out: Path) -> list[int]:
    """The pids of the shards (submitit's job processes) grading into `out`."""
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if b"submitit.core._submit" in argv and any(str(out).encode() in part for part in argv):
            pids.append(int(cmdline.parent.name))
    return pids


def kill_the_shard_after_its_first_grade(out: Path, process: subprocess.Popen[str]) -> bytes:
    """Wait until the one shard has finished `perfect` and kill it (SIGKILL) while it grades the other; returns
    perfect's results.json as it was then."""
    deadline = time.monotonic() + 240
    while not complete(out / "perfect"):
        assert process.poll() is None and time.monotonic() < deadline, "the shard never finished its first grade"
        time.sleep(0.05)
    kept = (out / "perfect" / "results.json").read_bytes()
    assert not complete(out / "saturating_generator_loss"), "the shard finished both before it could be killed"
    for pid in shard_processes(out):
        os.kill(pid, signal.SIGKILL)
    return kept


def test_shards_are_dealt_round_robin_and_never_empty() -> None:
    paths = [Path(f"s{index}.zip") for index in range(5)]
    assert split(paths, 2) == [paths[0::2], paths[1::2]]
    assert split(paths, 9) == [[path] for path in paths]
    assert split(paths[:1], 0) == [paths[:1]]


def test_local_shards_give_a_plain_grades_scores_gradebook_and_class_page(tmp_path: Path) -> None:
    code, out, err = finished(grade("--out", tmp_path / "sharded", "--executor", "local", "--shards", "2"))
    assert code == 0, err
    assert "2 submission(s)" in out
    code, _, err = finished(grade("--out", tmp_path / "plain", "--jobs", "2"))
    assert code == 0, err
    sharded, plain = scores(tmp_path / "sharded"), scores(tmp_path / "plain")
    assert sharded == plain and set(sharded) == {"perfect", "saturating_generator_loss"}
    book = table(tmp_path / "sharded" / GRADEBOOK_NAME)
    assert [row["submission"] for row in book.rows] == ["perfect", "saturating_generator_loss"]
    assert book.rows == table(tmp_path / "plain" / GRADEBOOK_NAME).rows
    assert (tmp_path / "sharded" / "index.html").is_file()
    # a second run keeps every complete grade and submits nothing
    code, out, err = finished(grade("--out", tmp_path / "sharded", "--executor", "local"))
    assert code == 0 and out.count("already graded") == 2, (out, err)


def test_a_killed_shard_is_resubmitted_for_what_it_had_not_finished(tmp_path: Path) -> None:
    out = tmp_path / "out"
    process = grade("--out", out, "--executor", "local", "--shards", "1")
    kept = kill_the_shard_after_its_first_grade(out, process)
    code, summary, err = finished(process)
    assert code == 0, err
    assert "shard 1" in err and "ended with 1 ungraded" in err, err
    assert (out / "perfect" / "results.json").read_bytes() == kept  # the finished grade was not graded again
    assert complete(out / "saturating_generator_loss")
    assert [row["submission"] for row in table(out / GRADEBOOK_NAME).rows] == ["perfect", "saturating_generator_loss"]


def test_a_shard_that_fails_every_try_is_not_graded_rather_than_zero(tmp_path: Path) -> None:
    out = tmp_path / "out"
    process = grade("--out", out, "--executor", "local", "--shards", "1", "--retries", "0")
    kill_the_shard_after_its_first_grade(out, process)
    code, summary, err = finished(process)
    assert code == 1, (summary, err)
    assert "not graded" in err and "saturating_generator_loss.zip" in err and "the machine's fault" in err, err
    assert [row["submission"] for row in table(out / GRADEBOOK_NAME).rows] == ["perfect"]  # no zero recorded for it
