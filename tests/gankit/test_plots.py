from pathlib import Path

import matplotlib.image as mpimg
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.legend import Legend

from gankit import plots

RNG = np.random.default_rng(0)
STEPS_PER_EPOCH = 10
HISTORY = [
    {
        "step": step,
        "epoch": step / STEPS_PER_EPOCH,
        "loss_D": 1.0 + RNG.normal(0, 0.1),
        "loss_G": 2.0 + RNG.normal(0, 0.1),
        "d_acc_real": step % 2 * 1.0,  # alternates 0, 1: per-epoch mean 0.5
        "d_acc_fake": min(step / 40, 1.0),
    }
    for step in range(40)
]
IMAGES = RNG.random((12, 8, 8))  # (N, H, W) in [0, 1]
SNAPSHOTS = [(0.0, RNG.random((8, 8))), (1.5, RNG.random((8, 8))), (3.0, RNG.random((8, 8)))]
EMBEDDING = RNG.normal(size=(30, 2))
GROUPS = ["train", "test", "generated"] * 10
CLASSES = np.arange(30) % 3 * 2  # classes 0, 2, 4
STRIPS = RNG.random((2, 5, 8, 8))  # (S, K, H, W)
ACCURACY = np.linspace(0.1, 1.0, 10)

# One call per plot function, each writing `<name>.png` into the folder it is given.
RENDERERS = {
    "losses": lambda folder: plots.plot_losses(HISTORY, folder / "losses.png"),
    "critic_losses": lambda folder: plots.plot_losses(HISTORY, folder / "critic.png", critic=True),
    "discriminator_accuracy": lambda folder: plots.plot_discriminator_accuracy(HISTORY, folder / "acc.png"),
    "sample_grid": lambda folder: plots.plot_sample_grid(IMAGES, folder / "grid.png", "Samples", nrow=4),
    "fixed_latent_evolution": lambda folder: plots.plot_fixed_latent_evolution(SNAPSHOTS, folder / "evo.png"),
    "tsne": lambda folder: plots.plot_tsne(EMBEDDING, GROUPS, CLASSES, folder / "tsne.png"),
    "interpolation_strips": lambda folder: plots.plot_interpolation_strips(STRIPS, folder / "interp.png"),
    "per_class_accuracy": lambda folder: plots.plot_per_class_accuracy(ACCURACY, folder / "bars.png"),
}


@pytest.fixture
def drawn(monkeypatch) -> list[Figure]:
    """Every figure the plot functions save, in order, so tests can read titles, labels and legends."""
    figures = []
    save = plots._save

    def recording_save(fig: Figure, path: Path) -> Path:
        figures.append(fig)
        return save(fig, path)

    monkeypatch.setattr(plots, "_save", recording_save)
    return figures


def legend_texts(legend: Legend) -> list[str]:
    return [text.get_text() for text in legend.get_texts()]


@pytest.mark.parametrize("name", RENDERERS)
def test_each_plot_writes_one_readable_non_blank_png(name, tmp_path):
    figures_before = plt.get_fignums()
    path = RENDERERS[name](tmp_path)
    assert list(tmp_path.iterdir()) == [path]
    image = mpimg.imread(path)  # (H, W, channels) floats in [0, 1]
    assert image.ndim == 3 and image.shape[2] in (3, 4) and min(image.shape[:2]) > 50
    assert image[..., :3].std() > 0
    # Nothing is left registered with pyplot, so a long grading run does not pile up figures.
    assert plt.get_fignums() == figures_before


def test_png_folder_is_created(tmp_path):
    path = plots.plot_per_class_accuracy(ACCURACY, tmp_path / "a" / "b" / "bars.png")
    assert path.is_file()


def test_class_names():
    assert plots.class_names("fashion-mnist") == list(plots.FASHION_MNIST_CLASSES)
    assert plots.FASHION_MNIST_CLASSES[0] == "T-shirt/top" and plots.FASHION_MNIST_CLASSES[9] == "Ankle boot"
    assert plots.class_names("mnist") == [str(digit) for digit in range(10)]
    with pytest.raises(ValueError, match="unknown dataset 'cifar10'"):
        plots.class_names("cifar10")


@pytest.mark.parametrize("critic, first", [(False, "discriminator"), (True, "critic")])
def test_losses_labels(critic, first, drawn, tmp_path):
    plots.plot_losses(HISTORY, tmp_path / "losses.png", title="My losses", critic=critic)
    (ax,) = drawn[0].axes
    assert (ax.get_title(), ax.get_xlabel(), ax.get_ylabel()) == ("My losses", "epoch", "loss")
    assert legend_texts(ax.get_legend()) == [first, "generator"]
    # Raw and smoothed curve per network; the raw one spans the whole run in epochs.
    raw_d = ax.lines[0]
    assert len(ax.lines) == 4 and raw_d.get_xdata()[-1] == pytest.approx(3.9)


def test_moving_average_is_a_trailing_mean():
    np.testing.assert_allclose(plots._moving_average(np.array([1.0, 2.0, 3.0, 6.0]), 2), [1.5, 2.5, 4.5])


def test_discriminator_accuracy_averages_steps_per_epoch(drawn, tmp_path):
    plots.plot_discriminator_accuracy(HISTORY, tmp_path / "acc.png")
    (ax,) = drawn[0].axes
    real, fake, chance = ax.lines
    np.testing.assert_array_equal(real.get_xdata(), [0, 1, 2, 3])
    np.testing.assert_allclose(real.get_ydata(), [0.5] * 4)
    np.testing.assert_allclose(fake.get_ydata(), [(4.5 + 10 * e) / 40 for e in range(4)])
    np.testing.assert_allclose(chance.get_ydata(), [0.5, 0.5])
    assert legend_texts(ax.get_legend()) == ["real images", "generated images", "chance"]
    assert ax.get_ylim() == (0.0, 1.0) and (ax.get_xlabel(), ax.get_ylabel()) == ("epoch", "accuracy")


def test_discriminator_accuracy_of_a_short_run_is_split_into_slices(drawn, tmp_path):
    short = [{**record, "epoch": record["epoch"] / 10} for record in HISTORY]  # 0.39 epochs
    plots.plot_discriminator_accuracy(short, tmp_path / "acc.png")
    real, fake, _ = drawn[0].axes[0].lines
    assert len(real.get_xdata()) == plots.SHORT_RUN_SLICES
    assert np.all(np.diff(real.get_xdata()) > 0) and real.get_xdata().max() < 0.39


def test_against_steps_both_plots_say_step_and_accuracy_is_a_moving_average(drawn, tmp_path):
    """A brief run is a fraction of an epoch: the grader plots per step, D's accuracy smoothed like the losses
    (one point per step would fill the plot)."""
    long = [{**record, "step": step + 1} for step, record in enumerate(HISTORY * 25)]  # 1000 steps
    plots.plot_losses(long, tmp_path / "losses.png", x="step")
    plots.plot_discriminator_accuracy(long, tmp_path / "acc.png", x="step")
    losses, accuracy = (figure.axes[0] for figure in drawn)
    assert losses.get_xlabel() == accuracy.get_xlabel() == "step"
    real, fake, _ = accuracy.lines
    window = 1000 // 50
    assert len(real.get_xdata()) == 1000 - window + 1 and real.get_xdata()[0] == window
    np.testing.assert_allclose(real.get_ydata(), 0.5)  # the alternating 0, 1 of each step, averaged
    assert legend_texts(accuracy.get_legend())[0] == f"real images (mean of {window} steps)"


def test_sample_grid_layout_and_row_labels(drawn, tmp_path):
    plots.plot_sample_grid(IMAGES, tmp_path / "grid.png", "Per class", nrow=4, row_labels=["a", "b", "c"])
    figure = drawn[0]
    assert figure.get_suptitle() == "Per class" and len(figure.axes) == 12
    assert [figure.axes[row * 4].get_ylabel() for row in range(3)] == ["a", "b", "c"]
    assert all(ax.get_xticks().size == 0 and ax.get_yticks().size == 0 for ax in figure.axes)


def test_fixed_latent_evolution_titles_columns_by_epoch_or_by_step(drawn, tmp_path):
    plots.plot_fixed_latent_evolution(SNAPSHOTS, tmp_path / "evo.png")
    assert [ax.get_title() for ax in drawn[0].axes] == ["epoch 0", "epoch 1.5", "epoch 3"]
    steps = [(step, image) for step, (_, image) in zip((375, 750, 1125), SNAPSHOTS, strict=True)]
    plots.plot_fixed_latent_evolution(steps, tmp_path / "steps.png", x="step")
    assert [ax.get_title() for ax in drawn[1].axes] == ["step 375", "step 750", "step 1125"]


def test_fixed_latent_evolution_rounds_fractional_epochs(drawn, tmp_path):
    snapshots = [(20 / 3, image) for _, image in SNAPSHOTS]
    plots.plot_fixed_latent_evolution(snapshots, tmp_path / "evo.png")
    assert {ax.get_title() for ax in drawn[0].axes} == {"epoch 6.7"}


def test_tsne_has_a_group_legend_and_a_class_legend(drawn, tmp_path):
    names = plots.FASHION_MNIST_CLASSES
    plots.plot_tsne(EMBEDDING, GROUPS, CLASSES, tmp_path / "tsne.png", class_names=names)
    (ax,) = drawn[0].axes
    legends = {legend.get_title().get_text(): legend_texts(legend) for legend in ax.findobj(Legend)}
    assert legends == {"images": ["train", "test", "generated"], "class": ["T-shirt/top", "Pullover", "Coat"]}
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title()


def test_interpolation_strips_are_labelled_rows(drawn, tmp_path):
    plots.plot_interpolation_strips(STRIPS, tmp_path / "interp.png", strip_labels=["Bag → Coat", "0 → 1"])
    figure = drawn[0]
    assert len(figure.axes) == 10
    assert [figure.axes[0].get_ylabel(), figure.axes[5].get_ylabel()] == ["Bag → Coat", "0 → 1"]


@pytest.mark.parametrize("threshold", [None, 0.75])
def test_per_class_accuracy_bars_and_threshold(threshold, drawn, tmp_path):
    path = tmp_path / "bars.png"
    plots.plot_per_class_accuracy(ACCURACY, path, class_names=plots.MNIST_CLASSES, threshold=threshold)
    (ax,) = drawn[0].axes
    assert len(ax.patches) == 10 and ax.get_ylabel() == "accuracy"
    legend = ax.get_legend()
    assert (legend is None) if threshold is None else legend_texts(legend) == ["threshold 0.75"]


BAD_HISTORY = [{"epoch": 0.0, "loss_D": 1.0}]


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda p: plots.plot_losses([], p), "history is empty"),
        (lambda p: plots.plot_losses(BAD_HISTORY, p), "history step 0 has no 'loss_G'"),
        (lambda p: plots.plot_losses(HISTORY, p.with_suffix(".pdf")), "must end in .png"),
        (lambda p: plots.plot_discriminator_accuracy(HISTORY[:1] + BAD_HISTORY, p), "step 1 has no"),
        (
            lambda p: plots.plot_discriminator_accuracy([{**HISTORY[0], "d_acc_real": 1.5}], p),
            r"d_acc_real must lie in \[0, 1\]",
        ),
        (lambda p: plots.plot_sample_grid(IMAGES[0], p, "t"), r"shape \(N, H, W\), got \(8, 8\)"),
        (lambda p: plots.plot_sample_grid(IMAGES * 255, p, "t", nrow=4), r"must lie in \[0, 1\]"),
        (lambda p: plots.plot_sample_grid(IMAGES - 0.01, p, "t", nrow=4), r"must lie in \[0, 1\]"),
        (lambda p: plots.plot_sample_grid(IMAGES * np.nan, p, "t", nrow=4), r"must lie in \[0, 1\]"),
        (lambda p: plots.plot_sample_grid(IMAGES, p, "t", nrow=5), "12 images do not fill rows of nrow=5"),
        (lambda p: plots.plot_sample_grid(IMAGES, p, "t", nrow=4, row_labels=["a"]), r"per row \(3\)"),
        (lambda p: plots.plot_fixed_latent_evolution([], p), "snapshots is empty"),
        (
            lambda p: plots.plot_fixed_latent_evolution([(0, IMAGES[0]), (1, IMAGES[0, :4])], p),
            "same shape",
        ),
        (lambda p: plots.plot_fixed_latent_evolution([(0, IMAGES[:2])], p), r"shape \(K, H, W\)"),
        (lambda p: plots.plot_tsne(EMBEDDING[:, :1], GROUPS, CLASSES, p), r"shape \(N, 2\)"),
        (lambda p: plots.plot_tsne(EMBEDDING, GROUPS[:5], CLASSES, p), r"groups needs .* \(30\), got 5"),
        (lambda p: plots.plot_tsne(EMBEDDING, GROUPS, CLASSES[:5], p), r"classes needs one entry"),
        (lambda p: plots.plot_tsne(EMBEDDING, GROUPS, CLASSES + 8, p), r"integers in \[0, 10\)"),
        (lambda p: plots.plot_tsne(EMBEDDING, GROUPS, CLASSES * 0.5, p), r"integers in \[0, 10\)"),
        (lambda p: plots.plot_tsne(EMBEDDING, GROUPS, CLASSES, p, class_names=["a"]), "classes go up to 4"),
        (lambda p: plots.plot_tsne(EMBEDDING, [str(i) for i in range(30)], CLASSES, p), "at most 8 groups"),
        (lambda p: plots.plot_interpolation_strips(STRIPS[0], p), r"shape \(S, K, H, W\)"),
        (lambda p: plots.plot_interpolation_strips(STRIPS + 1, p), r"strips must lie in \[0, 1\]"),
        (lambda p: plots.plot_interpolation_strips(STRIPS, p, strip_labels=["a"]), "one entry per strip"),
        (lambda p: plots.plot_per_class_accuracy(ACCURACY[None], p), r"shape \(C,\)"),
        (lambda p: plots.plot_per_class_accuracy(ACCURACY + 0.5, p), r"accuracy must lie in \[0, 1\]"),
        (lambda p: plots.plot_per_class_accuracy(ACCURACY, p, class_names=["a"]), "one entry per class"),
        (lambda p: plots.plot_per_class_accuracy(ACCURACY, p, threshold=80), "threshold must lie"),
    ],
)
def test_bad_input_is_a_clear_value_error(call, message, tmp_path):
    with pytest.raises(ValueError, match=message):
        call(tmp_path / "plot.png")
    assert not any(tmp_path.iterdir())


def test_rounding_error_just_outside_the_unit_interval_is_accepted(tmp_path):
    images = np.clip(IMAGES, 0, 1) * (1 + 1e-6) - 1e-7
    assert plots.plot_sample_grid(images, tmp_path / "grid.png", "t", nrow=4).is_file()
