import re
import zipfile
from pathlib import Path

import pytest

from grader.authoring.examples import EXAMPLES_DIR, MISTAKE_FILE, REPORT_NAME, build_examples, reference_submission
from grader.authoring.pack import pack, report_files, task_file_names


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> list:
    """The examples built once for this module (each build loads data and draws the report PDF)."""
    return build_examples(tmp_path_factory.mktemp("examples"))


def test_pack_takes_exactly_the_task_files(tmp_path):
    folder = tmp_path / "work"
    folder.mkdir()
    for name in ("cdcgan.py", "wgan.ipynb", "notes.txt", "scratch.py"):
        (folder / name).write_text(name)
    (folder / "tests").mkdir()
    (folder / "tests" / "test_cdcgan.py").write_text("x")
    assert pack(folder, tmp_path / "a.zip") == ["cdcgan.py", "wgan.ipynb"]
    with zipfile.ZipFile(tmp_path / "a.zip") as archive:
        assert archive.namelist() == ["cdcgan.py", "wgan.ipynb"]
        assert archive.read("cdcgan.py") == b"cdcgan.py"


def test_packing_twice_gives_identical_bytes(tmp_path):
    (tmp_path / "dcgan.py").write_text("print(1)\n")
    pack(tmp_path, tmp_path / "one.zip")
    pack(tmp_path, tmp_path / "two.zip")
    assert (tmp_path / "one.zip").read_bytes() == (tmp_path / "two.zip").read_bytes()


def test_an_empty_folder_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no task files in"):
        pack(tmp_path, tmp_path / "a.zip")


def test_pack_takes_the_top_level_pdfs_along(tmp_path):
    folder = tmp_path / "work"
    (folder / "figures").mkdir(parents=True)
    for name in ("cdcgan.py", "report.pdf", "Appendix.PDF", ".hidden.pdf", "figures/loss.pdf", "notes.pdf.txt"):
        (folder / name).write_bytes(b"%PDF-1.4 " + name.encode())
    (folder / "folder.pdf").mkdir()
    assert report_files(folder) == ["Appendix.PDF", "report.pdf"]
    assert pack(folder, tmp_path / "a.zip") == ["Appendix.PDF", "cdcgan.py", "report.pdf"]
    with zipfile.ZipFile(tmp_path / "a.zip") as archive:
        assert archive.read("report.pdf") == b"%PDF-1.4 report.pdf"


def test_a_folder_of_only_pdfs_is_still_an_error(tmp_path):
    (tmp_path / "report.pdf").write_bytes(b"%PDF-1.4")
    with pytest.raises(FileNotFoundError, match="no task files in"):
        pack(tmp_path, tmp_path / "a.zip")
    assert not (tmp_path / "a.zip").exists()


def test_task_file_names_cover_every_task():
    assert "cwgan_gp.py" in task_file_names() and "optimal_d.ipynb" in task_file_names()
    assert {"cdcgan.pt", "cwgan_gp.pt", "dcgan.pt"} < set(task_file_names()), "the tasks that grade a checkpoint"
    assert len(task_file_names()) == 19


def test_pack_takes_the_checkpoints_the_tasks_grade_and_warns_of_one_too_large(tmp_path, capsys):
    from grader.cli import main

    folder = tmp_path / "work"
    folder.mkdir()
    for name in ("cdcgan.py", "cdcgan.pt", "checkpoint.pt", "wgan.pt"):
        (folder / name).write_bytes(b"weights")
    assert pack(folder, tmp_path / "a.zip") == ["cdcgan.pt", "cdcgan.py"]
    (folder / "cdcgan.pt").write_bytes(b"\0" * (16 * 1024**2 + 1))
    with pytest.raises(SystemExit) as exit_code:
        main(["pack", str(folder), "-o", str(tmp_path / "b.zip")])
    assert exit_code.value.code == 0
    assert "warning: cdcgan.pt is over the grader's limit of 16 MB" in capsys.readouterr().err


def test_committed_examples_equal_a_fresh_build(built):
    assert [path.name for path in built] == ["perfect.zip", "saturating_generator_loss.zip", "written_answers.zip"]
    for fresh in built:
        committed = EXAMPLES_DIR / fresh.name
        assert entries(committed) == entries(fresh), f"run `grade make-examples` and commit {committed}"


def entries(path: Path) -> dict[str, bytes]:
    """A zip's files; the report PDF by its page count only, since another matplotlib draws other bytes."""
    with zipfile.ZipFile(path) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    if REPORT_NAME in files:
        files[REPORT_NAME] = str(len(re.findall(rb"/Type /Page\b(?!s)", files[REPORT_NAME]))).encode()
    return files


def test_building_twice_gives_identical_bytes(built, tmp_path):
    for first, second in zip(built, build_examples(tmp_path), strict=True):
        assert first.read_bytes() == second.read_bytes(), f"{first.name} is not reproducible"


def test_the_mistake_example_differs_only_in_one_file(built):
    perfect, mistaken, _ = built
    with zipfile.ZipFile(perfect) as good, zipfile.ZipFile(mistaken) as bad:
        assert good.namelist() == bad.namelist() == sorted(reference_submission())
        differing = [name for name in good.namelist() if good.read(name) != bad.read(name)]
    assert differing == [MISTAKE_FILE]
