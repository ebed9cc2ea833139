"""What `run_autograder` runs inside Gradescope's container: grade /autograder/submission/ into
/autograder/results/results.json, and write nothing else.

The root is $AUTOGRADER_ROOT (default /autograder), so a test can stand a temporary folder in for it. Before any
student code runs, the folders the worker must not read (source: the grader and its settings; results; the
submission metadata, which holds earlier results) are made root-only; the grade itself goes to a root-only
scratch folder, and only the checked Gradescope form of its results.json is copied out. A fault of the grader
exits non-zero without a results.json, so Gradescope reports a failed autograder run, not a grade."""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from gankit.catalogue import load_catalogue
from grader.grade import grade_submission
from grader.gradescope.results import Visibility, for_gradescope, validate
from grader.results import GradeOptions
from grader.sandbox import choose_sandbox

ROOT_VARIABLE = "AUTOGRADER_ROOT"
CONFIG_NAME = "gradescope.json"  # the bundle's settings, in source/
PRIVATE = ("source", "results", "submission_metadata.json")


def autograder_root() -> Path:
    return Path(os.environ.get(ROOT_VARIABLE, "/autograder"))


def lock_down(root: Path) -> None:
    """Make what the worker's uid must not read root-only, and the root itself unlistable."""
    (root / "results").mkdir(exist_ok=True)
    for name in PRIVATE:
        path = root / name
        if path.exists():
            os.chmod(path, 0o700 if path.is_dir() else 0o600)
    os.chmod(root, 0o711)


def submission_path(folder: Path) -> Path:
    """The submission as uploaded: Gradescope unpacks a zip into the folder; a zip uploaded inside a zip (or
    beside nothing else) is graded as the zip."""
    entries = [entry for entry in folder.iterdir() if not entry.name.startswith(".")]
    if len(entries) == 1 and entries[0].suffix.lower() == ".zip":
        return entries[0]
    return folder


def run(root: Path) -> int:
    lock_down(root)
    config = json.loads((root / "source" / CONFIG_NAME).read_text(encoding="utf-8"))
    catalogue = load_catalogue()
    options = GradeOptions(tasks=tuple(config["tasks"]), train=config["train"], sandbox=choose_sandbox())
    visibility = Visibility(hidden=config["hidden"], leaderboard=config["leaderboard"])
    scratch = Path(tempfile.mkdtemp(prefix="grade-", dir=root / "source"))
    try:
        report = grade_submission(submission_path(root / "submission"), catalogue, options, scratch)
        results = for_gradescope(
            json.loads((scratch / "results.json").read_text(encoding="utf-8")), catalogue, visibility
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    validate(results)
    target = root / "results" / "results.json"
    temporary = target.with_name(".results.json.tmp")
    temporary.write_text(json.dumps(results, indent=2), encoding="utf-8")
    os.replace(temporary, target)
    print(f"{report.name}: {report.score:.4g} / {report.max_score:g} in {report.seconds:.1f} s; {report.isolation}")
    return 0


def main() -> None:
    sys.exit(run(autograder_root()))


if __name__ == "__main__":
    main()
