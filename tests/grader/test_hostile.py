"""Hostile submissions are contained: they cannot set their score, reach the grader's files, the network or
its environment, stop the grade, or leave processes behind; each costs at most the checks it breaks."""

from __future__ import annotations

import json
import socket
import zipfile
from pathlib import Path

import pytest

from gankit.catalogue import load_catalogue
from grader.grade import GradeOptions, GradeReport, grade_batch, grade_submission
from grader.make_template import PROJECT_DIR, REFERENCE_DIR
from grader.sandbox import FIRST_WORKER_UID, bwrap_available

CATALOGUE = load_catalogue()
OPTIONS = GradeOptions(tasks=("optimal_d",), check_seconds=20.0)
REFERENCE = (REFERENCE_DIR / "optimal_d.py").read_text(encoding="utf-8")
GAN_VALUE_BODY = "    # BEGIN SOLUTION\n    # log1p"
needs_bwrap = pytest.mark.skipif(not bwrap_available(), reason="needs bubblewrap and root")


def hostile(at_import: str = "", in_gan_value: str = "") -> str:
    """The reference optimal_d.py with code run at import and/or at the start of gan_value."""
    source = REFERENCE.replace("import torch\n", "import torch\n" + at_import + "\n", 1)
    indented = "".join(f"    {line}\n" for line in in_gan_value.splitlines())
    assert source.count(GAN_VALUE_BODY) == 1
    return source.replace(GAN_VALUE_BODY, indented + GAN_VALUE_BODY)


def grade_source(
    tmp_path: Path, source: str, options: GradeOptions = OPTIONS, slot: int = 0
) -> tuple[GradeReport, dict]:
    path = tmp_path / "optimal_d.py"
    path.write_text(source, encoding="utf-8")
    out = tmp_path / "out"
    report = grade_submission(path, CATALOGUE, options, out, slot=slot)
    return report, json.loads((out / "results.json").read_text())


def points(report: GradeReport) -> dict[str, float]:
    return {result.check.id: result.points for result in report.results}


@pytest.fixture(scope="module")
def honest(tmp_path_factory: pytest.TempPathFactory) -> dict[str, float]:
    report, _ = grade_source(tmp_path_factory.mktemp("honest"), REFERENCE)
    assert report.score == report.max_score > 0
    return points(report)


def processes_of(uid: int) -> list[int]:
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            line = next(line for line in status.read_text().splitlines() if line.startswith("Uid:"))
        except (OSError, StopIteration):
            continue
        if line.split()[1] == str(uid):
            found.append(int(status.parent.name))
    return found


def test_writing_a_fake_results_file_and_printing_fake_scores_change_nothing(
    tmp_path: Path, honest: dict[str, float]
) -> None:
    fake = json.dumps({"score": 1000, "tests": []})
    code = (
        "import os, pathlib\n"
        f"FAKE = {fake!r}\n"
        "for folder in ['.', '/tmp', os.environ.get('HOME', '.'), '..', '../out', '/submission']:\n"
        "    try:\n"
        "        pathlib.Path(folder, 'results.json').write_text(FAKE)\n"
        "    except OSError:\n"
        "        pass\n"
        "print(FAKE)\n"
        "print('<script>alert(1)</script>')\n"
    )
    report, results = grade_source(tmp_path, hostile(at_import=code))
    assert points(report) == honest
    assert results["score"] == sum(honest.values())
    html = (tmp_path / "out" / "report.html").read_text()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, "what the code printed is shown escaped"


@pytest.mark.parametrize("exit_call", ["import sys; sys.exit(0)", "import os; os._exit(0)"])
def test_exiting_at_import_costs_the_task_and_nothing_else(tmp_path: Path, exit_call: str) -> None:
    report, results = grade_source(tmp_path, hostile(at_import=exit_call))
    assert report.complete and results["score"] == 0
    assert all("import" in result.message for result in report.results), [r.message for r in report.results]


@pytest.mark.parametrize(
    "returned",
    [
        "class Sly:\n    def __eq__(self, other):\n        return True\n    def __float__(self):\n        return -1.0\n"
        "return Sly()",
        "class Sub(torch.Tensor):\n    pass\nreturn torch.tensor(-1.0).as_subclass(Sub)",
    ],
    ids=["always-equal-object", "tensor-subclass"],
)
def test_objects_that_pretend_to_be_tensors_score_nothing_in_their_check(
    tmp_path: Path, honest: dict[str, float], returned: str
) -> None:
    report, _ = grade_source(tmp_path, hostile(in_gan_value=returned))
    got = points(report)
    assert got["gan_value"] == 0
    assert got["optimal_discriminator"] == honest["optimal_discriminator"]


@needs_bwrap
def test_the_grader_files_the_environment_and_the_network_are_out_of_reach(
    tmp_path: Path, honest: dict[str, float], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GAN_GRADER_SECRET_TOKEN", "s3cret-value")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.5)
    port = listener.getsockname()[1]
    secret_files = [PROJECT_DIR / "reference" / "optimal_d.py", PROJECT_DIR / "tasks" / "optimal_d" / "task.toml"]
    code = (
        "import os, socket\n"
        f"for path in {[str(p) for p in secret_files]!r} + ['/etc/shadow', '/root/.bash_history']:\n"
        "    try:\n"
        "        open(path).read()\n"
        "        raise RuntimeError('LEAKED file ' + path)\n"
        "    except OSError:\n"
        "        pass\n"
        "if any('s3cret' in value for value in os.environ.values()):\n"
        "    raise RuntimeError('LEAKED environment')\n"
        f"for address in [('127.0.0.1', {port}), ('pypi.org', 443), ('1.1.1.1', 53)]:\n"
        "    try:\n"
        "        socket.create_connection(address, timeout=2).close()\n"
        "        raise RuntimeError('LEAKED network')\n"
        "    except OSError:\n"
        "        pass\n"
    )
    report, results = grade_source(tmp_path, hostile(at_import=code))
    with pytest.raises(TimeoutError):
        listener.accept()
    listener.close()
    assert "LEAKED" not in json.dumps(results)
    assert points(report) == honest


def test_an_endless_loop_costs_its_check_only(tmp_path: Path, honest: dict[str, float]) -> None:
    options = GradeOptions(tasks=("optimal_d",), check_seconds=4.0)
    report, _ = grade_source(tmp_path, hostile(in_gan_value="while True:\n    pass"), options)
    got = points(report)
    assert got["gan_value"] == 0
    assert "time limit" in next(r.message for r in report.results if r.check.id == "gan_value")
    assert got["optimal_discriminator"] == honest["optimal_discriminator"]
    assert report.seconds < 60


def test_allocating_30_gb_fails_in_the_worker_not_the_grader(tmp_path: Path, honest: dict[str, float]) -> None:
    code = "blob = torch.ones(30 * 2**30, dtype=torch.uint8)\nreturn blob.float().mean()"
    report, _ = grade_source(tmp_path, hostile(in_gan_value=code))
    got = points(report)
    assert got["gan_value"] == 0
    assert got["optimal_discriminator"] == honest["optimal_discriminator"]


@needs_bwrap
def test_a_fork_bomb_is_stopped_and_leaves_no_process(tmp_path: Path, honest: dict[str, float]) -> None:
    code = "import os\nwhile True:\n    os.fork()"
    slot = 3001  # a uid offset no other test asks for, so the uid's processes are this grade's alone
    assert not processes_of(FIRST_WORKER_UID + slot)
    report, _ = grade_source(tmp_path, hostile(in_gan_value=code), slot=slot)
    got = points(report)
    assert got["gan_value"] == 0
    assert got["optimal_discriminator"] == honest["optimal_discriminator"]
    assert not processes_of(FIRST_WORKER_UID + slot), "the grade left processes behind"


def test_bad_archives_are_refused_and_the_batch_goes_on(tmp_path: Path) -> None:
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as archive:
        archive.writestr("../optimal_d.py", REFERENCE)
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("optimal_d.py", b"#" * (40 * 1024**2))
    notebook = tmp_path / "optimal_d.ipynb"
    notebook.write_text("not json at all")
    good = tmp_path / "good.py"
    good.write_text(REFERENCE)
    good = good.rename(tmp_path / "optimal_d.py")
    reports = grade_batch([evil, bomb, notebook, good], CATALOGUE, OPTIONS, tmp_path / "out", jobs=2)
    by_name = {report.name: report for report in reports}
    assert "outside the archive" in (by_name["evil.zip"].refused or "")
    assert "zip bomb" in (by_name["bomb.zip"].refused or "")
    assert "notebook" in (by_name["optimal_d.ipynb"].refused or "")
    assert by_name["optimal_d.py"].refused is None and by_name["optimal_d.py"].score > 0
    for folder in ("evil", "bomb"):
        results = json.loads((tmp_path / "out" / folder / "results.json").read_text())
        assert results["score"] == 0 and "refused" in results["output"]
    assert not (tmp_path / "out" / "optimal_d.py").exists(), "nothing of a refused archive is written anywhere"
