"""Reading submissions: normal archives in their many shapes grade normally; malformed or malicious ones are
refused with one clear reason before anything runs."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import nbformat
import pytest

from gankit.catalogue import load_catalogue
from grader.authoring.make_template import REFERENCE_DIR, TEMPLATE_DIR
from grader.grade import write_documents
from grader.submission import (
    DOCUMENTS_DIR,
    MAX_CHECKPOINT_BYTES,
    MAX_DOCUMENTS,
    MAX_FILE_BYTES,
    MAX_FILES,
    RefusedSubmission,
    document_names,
    load_submission,
    read_zip,
)

TASKS = load_catalogue()
CDCGAN = (REFERENCE_DIR / "cdcgan.py").read_text(encoding="utf-8")
PDF = b"%PDF-1.4\n% a tiny stand-in for a report\n%%EOF\n"


def make_zip(path: Path, files: dict[str, bytes], **info_fields: int) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            for key, value in info_fields.items():
                setattr(info, key, value)
            archive.writestr(info, data)
    return path


def test_a_zip_of_a_folder_with_mac_litter_crlf_and_bom_reads_normally(tmp_path: Path) -> None:
    source = "\ufeff" + CDCGAN.replace("\n", "\r\n")
    files = {
        "hw3/cdcgan.py": source.encode("utf-8"),
        "hw3/.DS_Store": b"\x00\x01",
        "__MACOSX/hw3/._cdcgan.py": b"\x00junk",
        "hw3/notes.txt": b"hello",
    }
    submission = load_submission(make_zip(tmp_path / "s.zip", files), TASKS)
    assert submission.sources == {"cdcgan": CDCGAN}
    assert submission.origins == {"cdcgan": "cdcgan.py"}


def test_a_notebook_maps_by_its_metadata_even_when_renamed(tmp_path: Path) -> None:
    notebook = nbformat.read(TEMPLATE_DIR / "cdcgan.ipynb", as_version=4)
    answer = next(cell for cell in notebook.cells if "answer" in cell.metadata.get("tags", []))
    answer.source = "My answer to the first question."
    notebook.cells.insert(3, nbformat.v4.new_code_cell("%matplotlib inline\n!pip install nothing\nX = 1"))
    path = tmp_path / "my homework (1).ipynb"
    nbformat.write(notebook, path)
    submission = load_submission(path, TASKS)
    code = submission.sources["cdcgan"]
    assert "def train_step(" in code
    assert "# (skipped) %matplotlib inline" in code and "# (skipped) !pip install nothing" in code
    assert "Train your cdcgan" not in code, "the skip-grading training cell must be left out"
    assert submission.answers["cdcgan"]["Q1"] == "My answer to the first question."
    compile(code, "cdcgan.ipynb", "exec")


def test_a_py_file_beside_its_notebook_gives_the_code_and_the_notebook_the_answers(tmp_path: Path) -> None:
    notebook = (TEMPLATE_DIR / "cdcgan.ipynb").read_bytes()
    submission = load_submission(
        make_zip(tmp_path / "s.zip", {"cdcgan.py": CDCGAN.encode(), "cdcgan.ipynb": notebook}), TASKS
    )
    assert submission.sources["cdcgan"] == CDCGAN
    assert set(submission.answers["cdcgan"]) == {"Q1", "Q2", "Q3"}


def test_a_notebook_that_is_not_json_is_refused_with_a_reason(tmp_path: Path) -> None:
    path = tmp_path / "cdcgan.ipynb"
    path.write_text("this is { not json")
    with pytest.raises(RefusedSubmission, match="not a readable Jupyter notebook"):
        load_submission(path, TASKS)


def test_a_bad_notebook_beside_good_files_costs_only_its_task(tmp_path: Path) -> None:
    files = {"cdcgan.py": CDCGAN.encode(), "wgan.ipynb": b"{broken"}
    submission = load_submission(make_zip(tmp_path / "s.zip", files), TASKS)
    assert set(submission.sources) == {"cdcgan"}
    assert any("wgan.ipynb" in note and "notebook" in note for note in submission.notes)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("../cdcgan.py", "outside the archive"),
        ("hw/../../cdcgan.py", "outside the archive"),
        ("/etc/cdcgan.py", "absolute path"),
        ("C:/cdcgan.py", "absolute path"),
    ],
)
def test_paths_that_leave_the_archive_are_refused(tmp_path: Path, name: str, reason: str) -> None:
    with pytest.raises(RefusedSubmission, match=reason):
        read_zip(make_zip(tmp_path / "evil.zip", {name: CDCGAN.encode()}))


def test_a_symbolic_link_is_refused(tmp_path: Path) -> None:
    link = make_zip(tmp_path / "link.zip", {"cdcgan.py": b"/etc/passwd"}, external_attr=(0o120777 << 16))
    with pytest.raises(RefusedSubmission, match="symbolic link"):
        read_zip(link)


def test_an_encrypted_entry_is_refused(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "locked.zip", {"cdcgan.py": b"x"})
    data = bytearray(path.read_bytes())
    # zipfile cannot write encrypted entries: set the "encrypted" flag in the local and central headers.
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        data[data.index(signature) + offset] |= 0x1
    path.write_bytes(bytes(data))
    with pytest.raises(RefusedSubmission, match="encrypted"):
        read_zip(path)


def test_a_zip_bomb_is_refused_while_reading(tmp_path: Path) -> None:
    bomb = make_zip(tmp_path / "bomb.zip", {"cdcgan.py": b"\0" * (50 * 1024**2)})
    assert bomb.stat().st_size < 200 * 1024
    with pytest.raises(RefusedSubmission, match="zip bomb"):
        read_zip(bomb)


def test_too_many_files_are_refused(tmp_path: Path) -> None:
    files = {f"f{i}.txt": b"x" for i in range(MAX_FILES + 1)}
    with pytest.raises(RefusedSubmission, match="entries"):
        read_zip(make_zip(tmp_path / "many.zip", files))


def test_a_corrupt_zip_is_refused(tmp_path: Path) -> None:
    good = io.BytesIO()
    with zipfile.ZipFile(good, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("cdcgan.py", CDCGAN)
    broken = bytearray(good.getvalue())
    broken[60:200] = b"\xff" * 140  # inside the compressed data of the only entry
    path = tmp_path / "corrupt.zip"
    path.write_bytes(bytes(broken))
    with pytest.raises(RefusedSubmission, match="corrupt|not a readable zip"):
        load_submission(path, TASKS)


def test_a_zip_without_task_files_says_what_was_expected(tmp_path: Path) -> None:
    with pytest.raises(RefusedSubmission, match="cdcgan.py"):
        load_submission(make_zip(tmp_path / "other.zip", {"homework.py": b"x = 1"}), TASKS)


def test_a_folder_skips_links(tmp_path: Path) -> None:
    folder = tmp_path / "work"
    folder.mkdir()
    (folder / "cdcgan.py").write_text(CDCGAN)
    (folder / "wgan.py").symlink_to("/etc/passwd")
    submission = load_submission(folder, TASKS)
    assert set(submission.sources) == {"cdcgan"}


# --- report PDFs: kept for the graders, under safe names --------------------------------------------------------


def test_a_report_pdf_is_kept_in_a_zip_and_in_a_folder(tmp_path: Path) -> None:
    files = {"hw3/cdcgan.py": CDCGAN.encode(), "hw3/Report.PDF": PDF, "hw3/figs/extra.pdf": PDF + b"2"}
    from_zip = load_submission(make_zip(tmp_path / "s.zip", files), TASKS)
    assert from_zip.documents == {"Report.PDF": PDF, "figs/extra.pdf": PDF + b"2"}
    folder = tmp_path / "work"
    (folder / "figs").mkdir(parents=True)
    (folder / "cdcgan.py").write_text(CDCGAN)
    (folder / "report.pdf").write_bytes(PDF)
    (folder / "figs" / "loss.pdf").write_bytes(PDF)
    assert load_submission(folder, TASKS).documents == {"figs/loss.pdf": PDF, "report.pdf": PDF}


def test_a_file_named_pdf_that_is_not_one_is_dropped_with_a_note(tmp_path: Path) -> None:
    files = {"cdcgan.py": CDCGAN.encode(), "report.pdf": b"<html>not a pdf</html>", "real.pdf": PDF}
    submission = load_submission(make_zip(tmp_path / "s.zip", files), TASKS)
    assert submission.documents == {"real.pdf": PDF}
    assert [note for note in submission.notes if "report.pdf" in note] == [
        "report.pdf: not a PDF file (it does not start with %PDF-); not kept"
    ]


def test_at_most_five_pdfs_are_kept_and_a_note_names_the_rest(tmp_path: Path) -> None:
    files = {"cdcgan.py": CDCGAN.encode(), **{f"r{i}.pdf": PDF for i in range(MAX_DOCUMENTS + 2)}}
    submission = load_submission(make_zip(tmp_path / "s.zip", files), TASKS)
    assert sorted(submission.documents) == [f"r{i}.pdf" for i in range(MAX_DOCUMENTS)]
    assert submission.notes == [
        f"more than {MAX_DOCUMENTS} PDF files: r5.pdf, r6.pdf not kept (only the first 5 by name are)"
    ]


def test_a_submission_of_only_a_pdf_is_still_refused(tmp_path: Path) -> None:
    with pytest.raises(RefusedSubmission, match="no task files could be read"):
        load_submission(make_zip(tmp_path / "s.zip", {"report.pdf": PDF}), TASKS)
    path = tmp_path / "report.pdf"
    path.write_bytes(PDF)
    with pytest.raises(RefusedSubmission, match="expected a .zip"):
        load_submission(path, TASKS)


def test_document_names_are_safe_unique_and_end_in_pdf() -> None:
    names = document_names(
        ["../../x.pdf", "a/b.pdf", "üñí çødé?!.pdf", "..pdf", "-rf.pdf", "A/x.PDF", "b.pdf", ".hidden.pdf", "a\\c.pdf"]
    )
    assert names == {
        "../../x.pdf": "x.pdf",
        "a/b.pdf": "b.pdf",
        "üñí çødé?!.pdf": "______d___.pdf",
        "..pdf": "document.pdf",
        "-rf.pdf": "rf.pdf",
        "A/x.PDF": "x-2.pdf",
        "b.pdf": "b-2.pdf",
        ".hidden.pdf": "hidden.pdf",
        "a\\c.pdf": "c.pdf",
    }


@pytest.mark.parametrize("hostile", ["../../x.pdf", "a/b.pdf", "/etc/passwd.pdf", "?*:|<>.pdf", "..", "../.pdf"])
def test_a_document_is_written_only_inside_documents_whatever_its_name(tmp_path: Path, hostile: str) -> None:
    out = tmp_path / "deep" / "out"
    notes = write_documents({hostile: PDF}, out)
    written = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert len(written) == 1 and written[0].parent == out / DOCUMENTS_DIR
    assert written[0].name.endswith(".pdf") and written[0].read_bytes() == PDF
    assert notes == [f"{hostile} kept for the graders as {DOCUMENTS_DIR}/{written[0].name}"]


def test_a_regrade_leaves_no_document_of_the_earlier_grade(tmp_path: Path) -> None:
    write_documents({"old.pdf": PDF, "report.pdf": PDF}, tmp_path)
    write_documents({"report.pdf": PDF + b"new"}, tmp_path)
    assert {path.name: path.read_bytes() for path in (tmp_path / DOCUMENTS_DIR).iterdir()} == {
        "report.pdf": PDF + b"new"
    }


def test_a_checkpoint_is_kept_for_its_task_and_other_pt_files_get_a_note(tmp_path: Path) -> None:
    files = {"hw/cdcgan.py": CDCGAN.encode(), "hw/cdcgan.pt": b"weights", "hw/checkpoint.pt": b"other"}
    submission = load_submission(make_zip(tmp_path / "s.zip", files), TASKS)
    assert submission.checkpoints == {"cdcgan": b"weights"}
    assert any(note.startswith("checkpoint.pt: not the checkpoint of any task") for note in submission.notes)
    folder = tmp_path / "folder"
    folder.mkdir()
    for name, data in files.items():
        (folder / Path(name).name).write_bytes(data)
    assert load_submission(folder, TASKS).checkpoints == {"cdcgan": b"weights"}


@pytest.mark.parametrize("shape", ["zip", "folder"])
def test_a_checkpoint_over_its_limit_is_cut_not_refused_and_no_bomb(tmp_path: Path, shape: str) -> None:
    """Zeros (NaN-free weights of a dead network compress as well) far past the checkpoint limit and past the
    per-file limit: the submission is read, the file cut one byte past MAX_CHECKPOINT_BYTES for its check to
    refuse."""
    files = {"cdcgan.py": CDCGAN.encode(), "cdcgan.pt": b"\0" * (MAX_FILE_BYTES + 1)}
    if shape == "zip":
        path = make_zip(tmp_path / "s.zip", files)
    else:
        path = tmp_path / "folder"
        path.mkdir()
        for name, data in files.items():
            (path / name).write_bytes(data)
    submission = load_submission(path, TASKS)
    assert len(submission.checkpoints["cdcgan"]) == MAX_CHECKPOINT_BYTES + 1
    assert submission.sources == {"cdcgan": CDCGAN}


def test_a_small_checkpoint_after_large_files_is_read_whole(tmp_path: Path) -> None:
    """44 MB of other files leave 16 MB of the 60 MB: a 1 MB checkpoint fits, and is not refused for the 16 MB
    and one byte a checkpoint may be read up to."""
    path = tmp_path / "s.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        for i in range(3):
            archive.writestr(f"data{i}.bin", bytes(range(256)) * (60 * 1024 if i < 2 else 56 * 1024))
        archive.writestr("cdcgan.py", CDCGAN)
        archive.writestr("cdcgan.pt", b"w" * 1024**2)
    assert len(load_submission(path, TASKS).checkpoints["cdcgan"]) == 1024**2
