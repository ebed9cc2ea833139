"""Reading a submission: a zip, a folder, a `.py` or an `.ipynb`, into one source file per task plus the written
answers and the report PDFs a TA grades beside them. Nothing here runs student code.

A zip is checked before anything is extracted: no absolute paths, no `..`, no links, not encrypted, at most
`MAX_FILES` entries, each entry and the whole bounded in uncompressed size and in compression ratio (zip
bombs). Sizes are measured while reading, not taken from the headers, which a forged archive can lie in.
A refused archive gets one clear reason; the grade then is 0 with that reason, and a batch goes on.
A checkpoint (`.pt`) is read up to one byte past `MAX_CHECKPOINT_BYTES` and no further, so a file over that limit
costs its `trained_model` check only (that check says so), never the whole submission; weights compress well,
so the ratio rule does not apply to it.
"""

from __future__ import annotations

import json
import re
import stat
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import nbformat

from gankit.catalogue import Task
from gankit.stage import CHECKPOINT_LIMIT_MB
from grader.authoring.notebook import ANSWER_TAG, METADATA_KEY, SKIP_TAG

MAX_FILES = 200
MAX_FILE_BYTES = 20 * 1024**2
MAX_TOTAL_BYTES = 60 * 1024**2
MAX_RATIO = 200  # uncompressed / compressed; source files compress ~5×, bombs ~1000×
MAX_CHECKPOINT_BYTES = CHECKPOINT_LIMIT_MB * 1024**2
CHECKPOINT_SUFFIX = ".pt"
IGNORED_PARTS = ("__MACOSX", ".DS_Store", "__pycache__", ".ipynb_checkpoints")
MAX_DOCUMENTS = 5  # report PDFs kept for the graders; more is litter (old drafts, papers), not a report
PDF_MAGIC = b"%PDF-"
DOCUMENTS_DIR = "documents"  # where grade_submission writes them, under the submission's output folder
_UNSAFE_NAME_CHARACTER = re.compile(r"[^A-Za-z0-9._-]")
MAX_DOCUMENT_STEM = 100


class RefusedSubmission(ValueError):
    """The submission cannot be graded at all; the message says why, for the student."""


@dataclass
class Submission:
    """Each task's source text (from its `.py`, else from its notebook's code cells) and written answers."""

    name: str
    sources: dict[str, str] = field(default_factory=dict)  # task id → Python source
    origins: dict[str, str] = field(default_factory=dict)  # task id → the file it came from
    answers: dict[str, dict[str, str]] = field(default_factory=dict)  # task id → question id → answer
    documents: dict[str, bytes] = field(default_factory=dict)  # path in the submission → a PDF's bytes
    # task id → its checkpoint's bytes, cut one byte past MAX_CHECKPOINT_BYTES (so "too large" is still known)
    checkpoints: dict[str, bytes] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # what the grader noticed while reading (for the report)


def _normalise(raw: bytes) -> str:
    """UTF-8 (a BOM is dropped; invalid bytes replaced), with LF line endings."""
    return raw.decode("utf-8-sig", errors="replace").replace("\r\n", "\n").replace("\r", "\n")


def _ignored(name: str) -> bool:
    parts = PurePosixPath(name).parts
    return any(part in IGNORED_PARTS or part.startswith("._") for part in parts)


def read_zip(path: Path) -> dict[str, bytes]:
    """The files of a zip as {relative name: bytes}, after the safety checks (RefusedSubmission otherwise)."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        raise RefusedSubmission(f"{path.name} is not a readable zip file ({error})") from None
    files: dict[str, bytes] = {}
    total = 0
    with archive:
        entries = archive.infolist()
        if len(entries) > MAX_FILES:
            raise RefusedSubmission(f"the zip holds {len(entries)} entries; at most {MAX_FILES} are accepted")
        for info in entries:
            name = info.filename
            pure = PurePosixPath(name.replace("\\", "/"))
            if pure.is_absolute() or name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
                raise RefusedSubmission(f"the zip entry {name!r} has an absolute path")
            if ".." in pure.parts:
                raise RefusedSubmission(f"the zip entry {name!r} points outside the archive ('..')")
            if stat.S_ISLNK(info.external_attr >> 16):
                raise RefusedSubmission(f"the zip entry {name!r} is a symbolic link")
            if info.flag_bits & 0x1:
                raise RefusedSubmission("the zip is encrypted; submit it without a password")
            if info.is_dir() or _ignored(name):
                continue
            data = _read_bounded(archive, info, total)
            total += len(data)
            files[str(pure)] = data
    return files


def _is_checkpoint(name: str) -> bool:
    return name.lower().endswith(CHECKPOINT_SUFFIX)


def _read_bounded(archive: zipfile.ZipFile, info: zipfile.ZipInfo, total_so_far: int) -> bytes:
    """One entry's bytes, stopping as soon as a size or ratio limit is passed (the headers may lie); a checkpoint
    is cut one byte past its own limit instead."""
    if _is_checkpoint(info.filename):
        return _read_checkpoint(archive, info, total_so_far)
    limit = min(MAX_FILE_BYTES, MAX_TOTAL_BYTES - total_so_far)
    chunks, size = [], 0
    try:
        with archive.open(info) as member:
            while chunk := member.read(1 << 16):
                size += len(chunk)
                if size > limit:
                    raise RefusedSubmission(
                        f"the zip entry {info.filename!r} unpacks to more than {limit // 1024**2} MB (a zip bomb?)"
                    )
                if size > 1024**2 and size > MAX_RATIO * max(info.compress_size, 1):
                    raise RefusedSubmission(
                        f"the zip entry {info.filename!r} is compressed more than {MAX_RATIO}× (a zip bomb?)"
                    )
                chunks.append(chunk)
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError) as error:
        raise RefusedSubmission(f"the zip entry {info.filename!r} is corrupt ({error})") from None
    except RuntimeError as error:  # zipfile raises RuntimeError for encrypted entries
        raise RefusedSubmission(f"the zip entry {info.filename!r} cannot be read ({error})") from None
    return b"".join(chunks)


def _read_checkpoint(archive: zipfile.ZipFile, info: zipfile.ZipInfo, total_so_far: int) -> bytes:
    """A checkpoint entry's first MAX_CHECKPOINT_BYTES + 1 bytes at most: past that it is too large, however large."""
    room = MAX_TOTAL_BYTES - total_so_far
    try:
        with archive.open(info) as member:
            data = member.read(min(MAX_CHECKPOINT_BYTES, room) + 1)
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError, RuntimeError) as error:
        raise RefusedSubmission(f"the zip entry {info.filename!r} is corrupt ({error})") from None
    if len(data) > room:
        raise RefusedSubmission(
            f"the zip entry {info.filename!r} makes the submission larger than {MAX_TOTAL_BYTES // 1024**2} MB"
        )
    return data


def read_folder(folder: Path) -> dict[str, bytes]:
    """The regular files of a folder (links are not followed), with the same limits as a zip."""
    files: dict[str, bytes] = {}
    total = 0
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).as_posix()
        if path.is_symlink() or not path.is_file() or _ignored(relative):
            continue
        if len(files) >= MAX_FILES:
            raise RefusedSubmission(f"the folder holds more than {MAX_FILES} files")
        data = None
        if _is_checkpoint(relative):  # cut one byte past its limit, as in a zip
            with open(path, "rb") as file:
                data = file.read(MAX_CHECKPOINT_BYTES + 1)
        size = path.stat().st_size if data is None else len(data)
        total += size
        if size > MAX_FILE_BYTES or total > MAX_TOTAL_BYTES:
            raise RefusedSubmission(f"{relative} makes the submission larger than {MAX_TOTAL_BYTES // 1024**2} MB")
        files[relative] = path.read_bytes() if data is None else data
    return files


def notebook_task(raw: bytes, file_name: str, tasks: dict[str, Task]) -> str | None:
    """The task a notebook belongs to: the id the template wrote into its metadata, else its file name."""
    try:
        metadata = json.loads(raw.decode("utf-8-sig")).get("metadata", {})
        task_id = metadata.get(METADATA_KEY, {}).get("task")
    except (ValueError, AttributeError):
        task_id = None
    if task_id in tasks:
        return task_id
    stem = PurePosixPath(file_name).stem
    return stem if stem in tasks else None


def notebook_code_and_answers(raw: bytes) -> tuple[str, dict[str, str]]:
    """The code cells (without cells tagged skip-grading; IPython magics and shell lines commented out) as
    one module, and the answer cells by question id. Raises RefusedSubmission when it is not a notebook."""
    try:
        notebook = nbformat.reads(_normalise(raw), as_version=4)
    except Exception as error:  # nbformat raises several unrelated types for malformed JSON
        raise RefusedSubmission(f"not a readable Jupyter notebook ({type(error).__name__})") from None
    code: list[str] = []
    answers: dict[str, str] = {}
    for cell in notebook.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        if cell.cell_type == "code" and SKIP_TAG not in tags:
            lines = cell.source.splitlines()
            code.append(
                "\n".join(f"# (skipped) {line}" if line.lstrip().startswith(("%", "!")) else line for line in lines)
            )
        elif ANSWER_TAG in tags:
            question = cell.get("metadata", {}).get(METADATA_KEY, {}).get("question")
            if question:
                answers[str(question)] = cell.source
    return "\n\n".join(code) + "\n", answers


def _strip_common_folder(files: dict[str, bytes]) -> dict[str, bytes]:
    """A zip of a folder (`hw3/cdcgan.py`, ...) grades like a zip of the files themselves."""
    while files:
        tops = {PurePosixPath(name).parts[0] for name in files}
        if len(tops) != 1 or any(len(PurePosixPath(name).parts) == 1 for name in files):
            return files
        files = {str(PurePosixPath(*PurePosixPath(name).parts[1:])): data for name, data in files.items()}
    return files


def document_names(paths: list[str]) -> dict[str, str]:
    """A safe file name for each document path: its base name reduced to `[A-Za-z0-9._-]` (anything else → `_`),
    never hidden or empty, made unique (case-insensitively, for the filesystems that are) and ending in `.pdf`.
    The names are chosen by the student, so none may reach outside the folder they are written to."""
    names: dict[str, str] = {}
    used: set[str] = set()
    for path in paths:
        base = PurePosixPath(path.replace("\\", "/")).name
        stem = base[:-4] if base.lower().endswith(".pdf") else base
        # No leading dot (hidden, or "..") or dash (read as an option by the tools a TA opens it with).
        stem = _UNSAFE_NAME_CHARACTER.sub("_", stem).lstrip(".-")[:MAX_DOCUMENT_STEM] or "document"
        name, number = f"{stem}.pdf", 1
        while name.lower() in used:
            number += 1
            name = f"{stem}-{number}.pdf"
        used.add(name.lower())
        names[path] = name
    return names


def _read_documents(files: dict[str, bytes], submission: Submission) -> None:
    """Keep the submission's PDFs (at most MAX_DOCUMENTS, in name order), dropping with a note any file named
    .pdf that is not one: the graders open these, so they must be what they claim to be."""
    left_out = []
    for name, data in sorted(files.items()):
        if not name.lower().endswith(".pdf"):
            continue
        if not data.startswith(PDF_MAGIC):
            submission.notes.append(f"{name}: not a PDF file (it does not start with {PDF_MAGIC.decode()}); not kept")
        elif len(submission.documents) >= MAX_DOCUMENTS:
            left_out.append(name)
        else:
            submission.documents[name] = data
    if left_out:
        submission.notes.append(
            f"more than {MAX_DOCUMENTS} PDF files: {', '.join(left_out)} not kept (only the first {MAX_DOCUMENTS} by "
            "name are)"
        )


def _read_checkpoint_file(
    name: str, base: str, data: bytes, by_checkpoint: dict[str, str], submission: Submission
) -> None:
    """Keep `<task>.pt` for its task's trained_model check; say what happened to any other `.pt` file."""
    task_id = by_checkpoint.get(base)
    if task_id is None:
        expected = ", ".join(sorted(by_checkpoint)) or "none"
        submission.notes.append(f"{name}: not the checkpoint of any task graded here ({expected}); not used")
    elif task_id in submission.checkpoints:
        submission.notes.append(f"{name}: a second {base}; the first one found is used")
    else:
        submission.checkpoints[task_id] = data


def load_submission(path: Path, tasks: dict[str, Task]) -> Submission:
    """Read `path` (zip, folder, .py or .ipynb) and map its files to tasks. RefusedSubmission if it cannot."""
    if not path.exists():
        raise RefusedSubmission(f"{path} does not exist")
    if path.is_dir():
        files = read_folder(path)
    elif path.suffix.lower() == ".zip" or zipfile.is_zipfile(path):
        files = read_zip(path)
    elif path.suffix.lower() in (".py", ".ipynb"):
        if path.stat().st_size > MAX_FILE_BYTES:
            raise RefusedSubmission(f"{path.name} is larger than {MAX_FILE_BYTES // 1024**2} MB")
        files = {path.name: path.read_bytes()}
    else:
        raise RefusedSubmission(f"{path.name}: expected a .zip, a folder, a .py or an .ipynb")
    files = _strip_common_folder(files)
    submission = Submission(name=path.stem if path.is_file() else path.name)
    by_student_file = {task.student_file: task.id for task in tasks.values()}
    by_checkpoint = {task.checkpoint_file: task.id for task in tasks.values() if task.checkpoint_file}
    notebooks = []
    for name, data in sorted(files.items()):
        base = PurePosixPath(name).name
        if _is_checkpoint(base):
            _read_checkpoint_file(name, base, data, by_checkpoint, submission)
            continue
        if base.endswith(".py") and base in by_student_file:
            task_id = by_student_file[base]
            if task_id in submission.sources:
                submission.notes.append(f"{name}: a second {base}; the one at {submission.origins[task_id]} is used")
                continue
            submission.sources[task_id] = _normalise(data)
            submission.origins[task_id] = name
        elif base.endswith(".ipynb"):
            notebooks.append((name, data))
    for name, data in notebooks:
        task_id = notebook_task(data, name, tasks)
        if task_id is None:
            submission.notes.append(f"{name}: not a notebook of any task (no task id in its metadata or name)")
            continue
        try:
            code, answers = notebook_code_and_answers(data)
        except RefusedSubmission as error:
            submission.notes.append(f"{name}: {error}")
            continue
        submission.answers.setdefault(task_id, {}).update(answers)
        if task_id not in submission.sources:  # a .py of the same task wins: the template keeps both in sync
            submission.sources[task_id] = code
            submission.origins[task_id] = name
    _read_documents(files, submission)
    # A report alone is not a submission: it goes beside the code and the answers, which are what is graded.
    if not submission.sources and not submission.answers:
        expected = ", ".join(sorted(by_student_file))
        found = "; ".join(submission.notes) or f"expected some of {expected} or the task notebooks"
        raise RefusedSubmission(f"no task files could be read: {found}")
    return submission
