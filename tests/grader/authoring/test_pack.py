import zipfile

import pytest

from grader.authoring.examples import EXAMPLES_DIR, MISTAKE_FILE, build_examples, reference_submission
from grader.authoring.pack import pack, task_file_names


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


def test_task_file_names_cover_every_task():
    assert "cwgan_gp.py" in task_file_names() and "optimal_d.ipynb" in task_file_names()
    assert len(task_file_names()) == 16


def test_committed_examples_equal_a_fresh_build(tmp_path):
    for fresh in build_examples(tmp_path):
        committed = EXAMPLES_DIR / fresh.name
        assert committed.read_bytes() == fresh.read_bytes(), f"run `grade make-examples` and commit {committed}"


def test_the_mistake_example_differs_only_in_one_file(tmp_path):
    perfect, mistaken = build_examples(tmp_path)
    with zipfile.ZipFile(perfect) as good, zipfile.ZipFile(mistaken) as bad:
        assert good.namelist() == bad.namelist() == sorted(reference_submission())
        differing = [name for name in good.namelist() if good.read(name) != bad.read(name)]
    assert differing == [MISTAKE_FILE]
