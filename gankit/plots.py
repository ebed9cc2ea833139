"""The figures a GAN report asks for, each written as one PNG.

Every function draws on a bare `matplotlib.figure.Figure` (never pyplot), so nothing needs a display, no
figure is registered globally, and each figure is freed once the function returns. Images are grayscale
float arrays in [0, 1], the `generate` contract of `gankit.common.to_unit_numpy`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

FASHION_MNIST_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
MNIST_CLASSES = tuple(str(digit) for digit in range(10))
_CLASS_NAMES = {"fashion-mnist": FASHION_MNIST_CLASSES, "mnist": MNIST_CLASSES}

# Generator outputs pass through float arithmetic, so allow rounding error just outside [0, 1].
UNIT_TOLERANCE = 1e-4
PER_EPOCH_FROM = 3  # a D-accuracy curve of a run shorter than this many epochs is split into SHORT_RUN_SLICES
SHORT_RUN_SLICES = 10
# Markers for the t-SNE groups, in order of first appearance: filled shapes that stay apart when dense.
_GROUP_MARKERS = ("o", "^", "X", "s", "D", "v", "P", "*")
# tab10 has exactly ten colours, one per class.
_MAX_CLASSES = 10
_DPI = 120


def class_names(dataset: str) -> list[str]:
    """The ten class names of "fashion-mnist" or "mnist", indexed by label."""
    if dataset not in _CLASS_NAMES:
        raise ValueError(f"unknown dataset {dataset!r}; expected one of {sorted(_CLASS_NAMES)}")
    return list(_CLASS_NAMES[dataset])


# --- input checks ----------------------------------------------------------------------------------------


def _unit_interval(values: np.ndarray, name: str, hint: str = "") -> np.ndarray:
    """`values` clipped to [0, 1]; ValueError if any is NaN or lies outside beyond UNIT_TOLERANCE."""
    low, high = float(np.min(values)), float(np.max(values))
    if not (np.isfinite(low) and np.isfinite(high)) or low < -UNIT_TOLERANCE or high > 1 + UNIT_TOLERANCE:
        raise ValueError(f"{name} must lie in [0, 1], got values in [{low:g}, {high:g}]{hint}")
    return np.clip(values, 0.0, 1.0)


def _unit_images(images: np.ndarray, shape: str, name: str = "images") -> np.ndarray:
    """`images` as floats clipped to [0, 1]; ValueError unless its dims match `shape`, e.g. "(N, H, W)"."""
    array = np.asarray(images, dtype=float)
    ndim = len(shape.strip("()").split(","))
    if array.ndim != ndim:
        raise ValueError(f"{name} must have shape {shape}, got {array.shape}")
    if array.size == 0:
        raise ValueError(f"{name} is empty: shape {array.shape}")
    return _unit_interval(array, name, hint=" (map [-1, 1] with (x + 1) / 2, or uint8 with x / 255)")


def _check_length(items: Sequence[object] | None, expected: int, name: str, per: str) -> None:
    """ValueError unless `items` (when given) has `expected` entries, one per `per`."""
    if items is not None and len(items) != expected:
        raise ValueError(f"{name} needs one entry per {per} ({expected}), got {len(items)}")


def _history_column(history: Sequence[Mapping[str, float]], key: str) -> np.ndarray:
    """The values of `key` over all steps, (T,); ValueError if the history is empty or a step lacks it."""
    if len(history) == 0:
        raise ValueError("history is empty: it needs one dict per training step")
    for index, step in enumerate(history):
        if key not in step:
            raise ValueError(f"history step {index} has no {key!r} (it has {sorted(step)})")
    return np.array([step[key] for step in history], dtype=float)


def _png_path(path: Path) -> Path:
    """`path` as a Path; ValueError unless it names a .png file, since PNG is what gets written."""
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ValueError(f"plots are written as PNG, so the path must end in .png: {path}")
    return path


# --- drawing helpers -------------------------------------------------------------------------------------


def _show_gray(ax: Axes, image: np.ndarray) -> None:
    """Draw one (H, W) image in [0, 1] with a fixed gray scale, so images compare across cells."""
    ax.imshow(image, cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    # Frames would draw a grid of lines between images; a ylabel still shows without them.
    for spine in ax.spines.values():
        spine.set_visible(False)


def _image_grid(
    images: np.ndarray,
    title: str,
    row_labels: Sequence[str] | None = None,
    column_titles: Sequence[str] | None = None,
) -> Figure:
    """A figure with images (R, C, H, W) in [0, 1] laid out R by C, row labels left of each row."""
    rows, cols = images.shape[:2]
    cell = 0.9  # inches per image
    # Leave room for the longest row label (about 0.09 in per character at the default font size).
    label_width = 0.09 * max((len(label) for label in row_labels or ()), default=0)
    title_height = 0.5 + (0.25 if column_titles else 0.0)
    fig = Figure(figsize=(cols * cell + label_width + 0.2, rows * cell + title_height), layout="constrained")
    fig.get_layout_engine().set(w_pad=0.02, h_pad=0.02, wspace=0.01, hspace=0.01)
    axes = fig.subplots(rows, cols, squeeze=False)
    for (row, col), ax in np.ndenumerate(axes):
        _show_gray(ax, images[row, col])
    for ax, label in zip(axes[:, 0], row_labels or (), strict=False):
        ax.set_ylabel(label, rotation=0, ha="right", va="center")
    for ax, column_title in zip(axes[0], column_titles or (), strict=False):
        ax.set_title(column_title, fontsize=9)
    fig.suptitle(title)
    return fig


def _save(fig: Figure, path: Path) -> Path:
    """Write `fig` as PNG to `path` (making its folder) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=_DPI, bbox_inches="tight")
    return path


def _smoothing_window(steps: int) -> int:
    """About fifty windows over the run: smooth enough to show the trend, short enough to keep its shape."""
    return max(1, steps // 50)


def _moving_average(values: np.ndarray, window: int) -> np.ndarray:
    """Trailing mean over `window` steps, (T,) → (T - window + 1,): entry i averages steps i..i+window-1."""
    sums = np.cumsum(np.insert(values, 0, 0.0))
    return (sums[window:] - sums[:-window]) / window


# --- report figures --------------------------------------------------------------------------------------


def plot_losses(
    history: Sequence[Mapping[str, float]],
    path: Path,
    title: str = "Training losses",
    *,
    critic: bool = False,
    x: str = "epoch",
) -> Path:
    """Discriminator and generator loss against `x`: raw per step (faint) and a moving average (solid).

    `history` holds one dict per training step with `x` ("epoch", may be fractional, or "step"), "loss_D"
    and "loss_G"; `critic=True` names the first network "critic", as a WGAN does.
    """
    path = _png_path(path)
    epochs = _history_column(history, x)
    window = _smoothing_window(len(history))
    fig = Figure(figsize=(7, 4.5), layout="constrained")
    ax = fig.subplots()
    for key, label, colour in (
        ("loss_D", "critic" if critic else "discriminator", "tab:blue"),
        ("loss_G", "generator", "tab:orange"),
    ):
        losses = _history_column(history, key)
        ax.plot(epochs, losses, color=colour, alpha=0.25, linewidth=0.8)
        ax.plot(epochs[window - 1 :], _moving_average(losses, window), color=colour, label=label)
    ax.set_xlabel(x)
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    # Outside the axes: the faint per-step curves fill the plot, so any spot inside would hide some of them.
    ax.legend(
        title=f"solid: mean of {window} steps\nfaint: each step",
        title_fontsize=8,
        loc="upper left",
        bbox_to_anchor=(1.02, 1),
    )
    return _save(fig, path)


def plot_discriminator_accuracy(
    history: Sequence[Mapping[str, float]],
    path: Path,
    title: str = "Discriminator accuracy per epoch",
    *,
    x: str = "epoch",
) -> Path:
    """Discriminator accuracy on real and on generated images, with chance at 0.5.

    `history` holds one dict per training step with `x`, "d_acc_real" and "d_acc_fake" in [0, 1]. Against
    "epoch" (float), steps are grouped into epochs by floor(epoch); a run shorter than PER_EPOCH_FROM epochs
    is split into SHORT_RUN_SLICES equal slices instead, each plotted at its mean epoch, so it still shows a
    trend. Against "step" (a run shorter than an epoch), each curve is the moving average of the losses' plot.
    """
    path = _png_path(path)
    fig = Figure(figsize=(7, 4.5), layout="constrained")
    ax = fig.subplots()
    curves = ((key, label, _unit_interval(_history_column(history, key), key)) for key, label in DISCRIMINATOR_CURVES)
    if x == "step":
        steps = _history_column(history, "step")
        window = _smoothing_window(len(history))
        for _, label, accuracy in curves:
            ax.plot(steps[window - 1 :], _moving_average(accuracy, window), label=f"{label} (mean of {window} steps)")
    else:
        epoch = _history_column(history, "epoch")
        x_values, groups = _epoch_groups(epoch)
        counts = np.bincount(groups)
        if epoch.max() >= PER_EPOCH_FROM:
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        for (_, label, accuracy), marker in zip(curves, "os", strict=True):
            # clip_on=False keeps markers at exactly 0 or 1 whole instead of cut by the axes edge.
            ax.plot(x_values, np.bincount(groups, weights=accuracy) / counts, marker=marker, label=label, clip_on=False)
    ax.axhline(0.5, color="gray", linestyle="--", linewidth=1, label="chance")
    ax.set_ylim(0.0, 1.0)
    ax.set_xlabel(x)
    ax.set_ylabel("accuracy")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="best")
    return _save(fig, path)


DISCRIMINATOR_CURVES = (("d_acc_real", "real images"), ("d_acc_fake", "generated images"))


def _epoch_groups(epoch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(x of each group, group of each step): whole epochs, or SHORT_RUN_SLICES slices of a short run."""
    per_epoch = epoch.max() >= PER_EPOCH_FROM
    slice_width = 1.0 if per_epoch else max(float(epoch.max()), 1e-9) / SHORT_RUN_SLICES
    index = np.floor(epoch / slice_width).astype(int)
    if not per_epoch:
        index = np.minimum(index, SHORT_RUN_SLICES - 1)  # the last step would open a slice of its own
    groups, step_group = np.unique(index, return_inverse=True)
    x = groups if per_epoch else np.bincount(step_group, weights=epoch) / np.bincount(step_group)
    return x, step_group


def plot_sample_grid(
    images: np.ndarray,
    path: Path,
    title: str,
    nrow: int = 8,
    row_labels: Sequence[str] | None = None,
) -> Path:
    """Images (N, H, W) in [0, 1] as a grid of `nrow` columns and N / nrow rows.

    `row_labels` (one per row, e.g. class names for a class-by-row grid) are written left of each row.
    """
    path = _png_path(path)
    images = _unit_images(images, "(N, H, W)")
    if nrow < 1 or len(images) % nrow != 0:
        raise ValueError(f"{len(images)} images do not fill rows of nrow={nrow} images")
    rows = len(images) // nrow
    _check_length(row_labels, rows, "row_labels", "row")
    grid = images.reshape(rows, nrow, *images.shape[1:])  # (rows, nrow, H, W)
    return _save(_image_grid(grid, title, row_labels=row_labels), path)


def plot_fixed_latent_evolution(
    snapshots: Sequence[tuple[float, np.ndarray]],
    path: Path,
    title: str = "One fixed latent code during training",
    *,
    x: str = "epoch",
) -> Path:
    """The image of one latent code at several points of training, one column per (`x`, (H, W)) pair, where
    `x` names the unit of training: "epoch" (may be fractional) or "step"."""
    path = _png_path(path)
    if len(snapshots) == 0:
        raise ValueError("snapshots is empty: it needs (epoch, image) pairs")
    shapes = {np.shape(image) for _, image in snapshots}
    if len(shapes) != 1:
        raise ValueError(f"all snapshot images must have the same shape, got {sorted(shapes)}")
    images = _unit_images(np.stack([image for _, image in snapshots]), "(K, H, W)", "snapshot images")
    # One decimal is enough to tell snapshots apart; more makes neighbouring titles overlap.
    column_titles = [f"{x} {round(when, 1):g}" for when, _ in snapshots]
    return _save(_image_grid(images[np.newaxis], title, column_titles=column_titles), path)


def plot_tsne(
    embedding: np.ndarray,
    groups: Sequence[str],
    classes: np.ndarray,
    path: Path,
    title: str = "t-SNE of classifier features",
    class_names: Sequence[str] | None = None,
) -> Path:
    """Scatter of a 2-D embedding (N, 2), with one legend per encoding.

    Marker shape shows `groups` (N,), e.g. "train"/"test"/"generated"; colour (tab10) shows `classes` (N,),
    integers in [0, 10) that index `class_names`.
    """
    path = _png_path(path)
    embedding = np.asarray(embedding, dtype=float)
    classes = np.asarray(classes)
    if embedding.ndim != 2 or embedding.shape[1] != 2 or len(embedding) == 0:
        raise ValueError(f"embedding must have shape (N, 2) with N > 0, got {embedding.shape}")
    _check_length(groups, len(embedding), "groups", "embedded point")
    if classes.ndim != 1:
        raise ValueError(f"classes must have shape (N,), got {classes.shape}")
    _check_length(classes, len(embedding), "classes", "embedded point")
    if not np.issubdtype(classes.dtype, np.integer) or classes.min() < 0 or classes.max() >= _MAX_CLASSES:
        raise ValueError(f"classes must be integers in [0, {_MAX_CLASSES}), got {classes[:5]}…")
    present = np.unique(classes)
    if class_names is not None and len(class_names) <= present.max():
        raise ValueError(f"class_names has {len(class_names)} names but classes go up to {present.max()}")
    group_order = list(dict.fromkeys(groups))  # first appearance, so "train" comes before "generated"
    if len(group_order) > len(_GROUP_MARKERS):
        raise ValueError(f"at most {len(_GROUP_MARKERS)} groups have a marker, got {len(group_order)}")
    names = class_names if class_names is not None else [str(c) for c in range(_MAX_CLASSES)]

    colours = colormaps["tab10"].colors
    fig = Figure(figsize=(8, 6), layout="constrained")
    ax = fig.subplots()
    group_array = np.asarray(groups)
    for group, marker in zip(group_order, _GROUP_MARKERS, strict=False):
        mask = group_array == group
        point_colours = [colours[c] for c in classes[mask]]
        ax.scatter(*embedding[mask].T, c=point_colours, marker=marker, s=14, alpha=0.6, linewidths=0)
    group_handles = [
        Line2D([], [], marker=marker, linestyle="", color="black", label=group)
        for group, marker in zip(group_order, _GROUP_MARKERS, strict=False)
    ]
    class_handles = [Line2D([], [], marker="o", linestyle="", color=colours[c], label=names[c]) for c in present]
    # Both legends sit right of the axes so neither hides points; the first is re-added as an artist
    # because a second ax.legend call replaces it.
    group_legend = ax.legend(handles=group_handles, title="images", loc="upper left", bbox_to_anchor=(1.02, 1))
    ax.add_artist(group_legend)
    ax.legend(handles=class_handles, title="class", loc="lower left", bbox_to_anchor=(1.02, 0))
    # t-SNE coordinates have no units, so their tick values would only suggest a meaning they lack.
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("t-SNE dimension 1")
    ax.set_ylabel("t-SNE dimension 2")
    ax.set_title(title)
    return _save(fig, path)


def plot_interpolation_strips(
    strips: np.ndarray,
    path: Path,
    title: str = "Latent space interpolation",
    strip_labels: Sequence[str] | None = None,
) -> Path:
    """Strips (S, K, H, W) in [0, 1], one row of K images per strip, labelled e.g. "T-shirt → Sneaker"."""
    path = _png_path(path)
    strips = _unit_images(strips, "(S, K, H, W)", "strips")
    _check_length(strip_labels, len(strips), "strip_labels", "strip")
    return _save(_image_grid(strips, title, row_labels=strip_labels), path)


def plot_per_class_accuracy(
    accuracy: np.ndarray,
    path: Path,
    title: str = "Classifier accuracy on generated images",
    class_names: Sequence[str] | None = None,
    threshold: float | None = None,
) -> Path:
    """Bar chart of per-class accuracies (C,) in [0, 1], with an optional dashed threshold line."""
    path = _png_path(path)
    accuracy = np.asarray(accuracy, dtype=float)
    if accuracy.ndim != 1 or len(accuracy) == 0:
        raise ValueError(f"accuracy must have shape (C,) with C > 0, got {accuracy.shape}")
    accuracy = _unit_interval(accuracy, "accuracy")
    _check_length(class_names, len(accuracy), "class_names", "class")
    if threshold is not None and not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold must lie in [0, 1], got {threshold}")
    names = list(class_names) if class_names is not None else [str(c) for c in range(len(accuracy))]

    fig = Figure(figsize=(8, 4.5), layout="constrained")
    ax = fig.subplots()
    bars = ax.bar(names, accuracy, color="tab:blue")
    ax.bar_label(bars, fmt="%.2f", fontsize=8)
    if threshold is not None:
        ax.axhline(threshold, color="tab:red", linestyle="--", label=f"threshold {threshold:.2f}")
        # Outside the axes, where it cannot cover a bar or its value label.
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1))
    # Headroom above 1 keeps the value labels of perfect classes inside the axes; ticks stop at 1.
    ax.set_ylim(0.0, 1.1)
    ax.set_yticks(np.linspace(0.0, 1.0, 6))
    if max(len(name) for name in names) > 3:
        # Fashion-MNIST names are long: slant them so neighbours do not overlap.
        ax.tick_params(axis="x", labelrotation=30)
        for label in ax.get_xticklabels():
            label.set_horizontalalignment("right")
            label.set_rotation_mode("anchor")
    ax.set_xlabel("class")
    ax.set_ylabel("accuracy")
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    return _save(fig, path)
