"""Hostile submissions are contained: they cannot set their score, reach the grader's files, the network or
its environment, stop the grade, or leave processes behind. Each is graded whole, and costs the checks its row
names and nothing else: every other check, of its task or another, keeps all its points. Nothing here depends on
the machine's speed: checks run under the default time limit, and the one endless loop is stopped by a limit
far above what its task's correct checks need, with only its own checks asserted to lose.
"""

from __future__ import annotations

import json
import socket
import zipfile
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import torch

from gankit.catalogue import load_catalogue
from grader.authoring.make_template import PROJECT_DIR, REFERENCE_DIR
from grader.grade import grade_batch, grade_submission
from grader.results import GradeOptions, GradeReport
from grader.sandbox import FIRST_WORKER_UID, bwrap_available
from tests.grader.checks.conftest import static_checks
from tests.grader.variants import EVERYTHING, Fault, assert_only_faults

CATALOGUE = load_catalogue()
TASK = "optimal_d"
OPTIONS = GradeOptions(tasks=(TASK,), train=False)
# For the endless loop only: the task's correct checks take a second or two, a worker restart included.
LOOP_OPTIONS = GradeOptions(tasks=(TASK,), train=False, check_seconds=10.0)
REFERENCE = (REFERENCE_DIR / "optimal_d.py").read_text(encoding="utf-8")
needs_bwrap = pytest.mark.skipif(
    not bwrap_available(), reason="bubblewrap not installed (or the grader is not root): the worker is not isolated"
)


def hostile(at_import: str = "", in_function: str = "", function: str = "gan_value") -> str:
    """The reference optimal_d.py with code run at import and/or at the start of `function`'s body."""
    source = REFERENCE.replace("import torch\n", "import torch\n" + at_import + "\n", 1)
    body = source.index("    # BEGIN SOLUTION", source.index(f"def {function}("))
    indented = "".join(f"    {line}\n" for line in in_function.splitlines())
    return source[:body] + indented + source[body:]


def grade_source(
    tmp_path: Path, source: str, options: GradeOptions = OPTIONS, slot: int = 0
) -> tuple[GradeReport, dict]:
    path = tmp_path / "optimal_d.py"
    path.write_text(source, encoding="utf-8")
    out = tmp_path / "out"
    report = grade_submission(path, CATALOGUE, options, out, slot=slot)
    return report, json.loads((out / "results.json").read_text())


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


def everything_of(*checks: str, phrase: str = "") -> tuple[Fault, ...]:
    """Checks that score 0: the student's code broke every call they make."""
    return tuple(Fault(check, phrase, EVERYTHING) for check in checks)


class Hostile(NamedTuple):
    name: str
    code: str  # run at the start of `function`
    function: str
    faults: tuple[Fault, ...]  # every other check of the task keeps all its points
    options: GradeOptions = OPTIONS


SLY = (
    "class Sly:\n    def __eq__(self, other):\n        return True\n    def __float__(self):\n        return -1.0\n"
    "return Sly()"
)


def gan_value_broken(phrase: str = "") -> tuple[Fault, ...]:
    """Every check that calls gan_value: its own two score 0, the interface check loses gan_value's share."""
    return (Fault("interface", phrase), *everything_of("gan_value", "optimal_d", phrase=phrase))


def row(case: Hostile, *marks: pytest.MarkDecorator) -> Any:
    return pytest.param(case, id=case.name, marks=marks)


HOSTILE = [
    row(Hostile("always-equal-object", SLY, "gan_value", gan_value_broken("Sly"))),
    row(
        Hostile(
            "tensor-subclass",
            "class Sub(torch.Tensor):\n    pass\nreturn torch.tensor(-1.0).as_subclass(Sub)",
            "gan_value",
            gan_value_broken("tensor subclass Sub"),
        )
    ),
    row(
        Hostile(
            "allocating-30-gb",
            "blob = torch.ones(30 * 2**30, dtype=torch.uint8)\nreturn blob.float().mean()",
            "gan_value",
            gan_value_broken(),
        )
    ),
    row(
        Hostile(
            "endless-loop",
            "while True:\n    pass",
            "optimal_value",  # called by two checks only: the loop costs two time limits
            everything_of("interface", "optimal_value", phrase="time limit"),
            LOOP_OPTIONS,
        )
    ),
    # Without the sandbox's process limit a fork bomb would take the machine down.
    row(Hostile("fork-bomb", "import os\nwhile True:\n    os.fork()", "gan_value", gan_value_broken()), needs_bwrap),
]


@pytest.mark.parametrize("case", HOSTILE)
def test_each_hostile_submission_costs_only_the_checks_it_breaks(tmp_path: Path, case: Hostile) -> None:
    slot = 3001 + [param.id for param in HOSTILE].index(case.name)  # a uid of its own: its processes are its own
    assert not processes_of(FIRST_WORKER_UID + slot)
    report, _ = grade_source(tmp_path, hostile(in_function=case.code, function=case.function), case.options, slot)
    assert report.complete
    assert_only_faults(report.results, TASK, case.faults)
    assert not processes_of(FIRST_WORKER_UID + slot), "the grade left processes behind"


class RunsCodeOnLoad:
    """Unpickled, it calls print: a stand-in for a checkpoint crafted to run code when it is loaded."""

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (print, (CODE_RAN,))


CODE_RAN = "code in the checkpoint ran"


def test_a_checkpoint_crafted_to_run_code_on_load_runs_none_and_costs_only_its_check(tmp_path: Path) -> None:
    """torch.save of an object whose unpickling calls a function: weights_only refuses the global before it is
    called, so nothing is printed; the trained_model check scores 0 and says why, every other check is whole."""
    folder = tmp_path / "submission"
    folder.mkdir()
    (folder / "cdcgan.py").write_bytes((REFERENCE_DIR / "cdcgan.py").read_bytes())
    torch.save({"weight": RunsCodeOnLoad()}, folder / "cdcgan.pt")
    options = GradeOptions(tasks=("cdcgan",), train=False)
    report = grade_submission(folder, CATALOGUE, options, tmp_path / "out")
    assert report.complete
    assert_only_faults(report.results, "cdcgan", [Fault("trained_model", "needs more than tensors", EVERYTHING)])
    assert CODE_RAN not in report.output_tail


def test_writing_a_fake_results_file_and_printing_fake_scores_change_nothing(tmp_path: Path) -> None:
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
    assert_only_faults(report.results, TASK, [])
    assert results["score"] == report.max_score > 0
    html = (tmp_path / "out" / "report.html").read_text()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, "what the code printed is shown escaped"


@pytest.mark.parametrize("exit_call", ["import sys; sys.exit(0)", "import os; os._exit(0)"])
def test_exiting_at_import_costs_the_task_and_nothing_else(tmp_path: Path, exit_call: str) -> None:
    """The hostile task comes first and takes the shared worker down with it; the next task, in a fresh worker,
    keeps every point."""
    other = "vanilla_gan"
    submission = tmp_path / "submission"
    submission.mkdir()
    (submission / "optimal_d.py").write_text(hostile(at_import=exit_call), encoding="utf-8")
    (submission / "vanilla_gan.py").write_text((REFERENCE_DIR / "vanilla_gan.py").read_text(encoding="utf-8"))
    options = GradeOptions(tasks=(TASK, other), train=False)
    report = grade_submission(submission, CATALOGUE, options, tmp_path / "out")
    assert report.complete
    assert {result.task for result in report.results} == {TASK, other}
    assert_only_faults(report.results, TASK, everything_of(*static_checks(TASK), phrase="import"))
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert results["score"] == sum(result.max_points for result in report.results if result.task == other)


@needs_bwrap
def test_the_grader_files_the_environment_and_the_network_are_out_of_reach(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
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
    assert_only_faults(report.results, TASK, [])


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
