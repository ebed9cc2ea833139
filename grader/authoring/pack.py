"""Pack a student's folder into a submission zip: exactly the task files and the report PDFs beside them,
byte-for-byte reproducible."""

from __future__ import annotations

import zipfile
from pathlib import Path

from gankit.catalogue import TASKS_DIR, load_catalogue

# A fixed timestamp makes the same files give the same zip, so committed examples can be checked for drift.
ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)


def task_file_names(tasks_dir: Path = TASKS_DIR) -> list[str]:
    """Every name a submission may hold: each task's student file, its notebook and its checkpoint (a trained
    generator's `<task>.pt`, for the tasks that grade one)."""
    tasks = load_catalogue(tasks_dir).values()
    checkpoints = [task.checkpoint_file for task in tasks if task.checkpoint_file]
    return sorted([task.student_file for task in tasks] + [f"{task.id}.ipynb" for task in tasks] + checkpoints)


def write_zip(files: dict[str, bytes], out: Path) -> None:
    """A deterministic zip of {name: content}, names in sorted order."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=ZIP_TIMESTAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, files[name])


def report_files(folder: Path) -> list[str]:
    """The PDFs at the top of `folder` (`*.pdf`, any case; not hidden ones): the report a TA grades beside the
    written answers, which the grader keeps (`Submission.documents`)."""
    return sorted(
        path.name
        for path in folder.iterdir()
        if path.suffix.lower() == ".pdf" and not path.name.startswith(".") and path.is_file()
    )


def pack(folder: Path, out: Path) -> list[str]:
    """Zip the task files and the top-level PDFs found in `folder` into `out`; returns their names.
    FileNotFoundError if there is no task file: the grader refuses a submission of PDFs alone."""
    found = {name: (folder / name).read_bytes() for name in task_file_names() if (folder / name).is_file()}
    if not found:
        raise FileNotFoundError(f"no task files in {folder}: expected some of {', '.join(task_file_names())}")
    found |= {name: (folder / name).read_bytes() for name in report_files(folder)}
    write_zip(found, out)
    return sorted(found)
