"""Train a GAN task's reference solution and write the report figures seed 000 asks for.

    python -m reference.train cdcgan --epochs 5 --out runs/cdcgan
    python -m reference.train wgan --steps 2000 --device cuda --out runs/wgan

DIR gets checkpoint.pt (saved every epoch of an --epochs run, else every tenth of the run; a second run with the same
DIR resumes from it, --fresh starts over), the PNG figures, metrics.json and, for a task with a `trained_model`
check, `<task>.pt`: the generator's state_dict alone, the file a submission hands in. The networks are built with
their default arguments, as the notebook's training cell builds them, so that file loads into `Generator()`;
`--width` trains smaller ones (the training stage's), whose file the grader would refuse.
"""

from __future__ import annotations

import argparse
import importlib
import json
import time
from pathlib import Path
from types import ModuleType

import numpy as np
import torch
from tqdm import tqdm

from gankit import plots
from gankit.catalogue import TASKS_DIR, Task, load_task
from gankit.classifier import load_frozen_classifier
from gankit.common import sample_latent, to_unit_numpy
from gankit.data import load_dataset
from gankit.device import DEVICE_CHOICES, describe_device, resolve_device
from gankit.metrics import features_and_predictions, frechet_distance, per_class_accuracy
from gankit.training import GanRun, GanSpec

TSNE_CLASSES = (0, 1, 2, 3, 4)
SNAPSHOTS = 10  # fixed-latent snapshots of a --steps run
INTERPOLATION_PAIRS = ((0, 7), (1, 8), (2, 5), (3, 9))  # (start class, end class) of the four strips


def gan_tasks() -> list[str]:
    """Ids of the tasks that train a GAN (those with a [training] section)."""
    return sorted(p.parent.name for p in TASKS_DIR.glob("*/task.toml") if "[training]" in p.read_text())


def train(run: GanRun, task: Task, total_steps: int, snapshot_every: int, checkpoint: Path) -> None:
    """Advance `run` to total_steps, snapshotting the fixed latent code and checkpointing as it goes."""
    if not run.snapshots:
        run.snapshot()
    progress = tqdm(total=total_steps, initial=run.step, desc=f"train {task.id}", unit="step")
    while run.step < total_steps:
        record = run.train_step()
        if not all(np.isfinite(v) for v in record.values()):
            raise FloatingPointError(f"step {run.step}: non-finite training values {record}")
        progress.update(1)
        progress.set_postfix(loss_D=f"{record['loss_D']:.3f}", loss_G=f"{record['loss_G']:.3f}")
        if run.step % snapshot_every == 0 or run.step == total_steps:
            run.snapshot()
            torch.save(run.state_dict(), checkpoint)
    progress.close()
    if task.checkpoint_file:
        torch.save(run.G.state_dict(), checkpoint.parent / task.checkpoint_file)  # what a submission hands in


def write_report(run: GanRun, task: Task, module: ModuleType, out: Path, tsne_per_class: int) -> dict[str, float]:
    """Every figure into `out`; returns the frozen-classifier figures (also written to metrics.json)."""
    names = plots.class_names(task.dataset)
    critic = task.playing("discriminator", "critic").role == "critic"
    plots.plot_losses(run.history, out / "losses.png", title=f"{task.id}: training losses", critic=critic)
    if "d_acc_real" in run.history[0]:
        plots.plot_discriminator_accuracy(run.history, out / "d_accuracy.png", title=f"{task.id}: D accuracy")
    snapshots = [(epoch, to_unit_numpy(image[None, None])[0]) for epoch, image in run.snapshots]
    plots.plot_fixed_latent_evolution(snapshots, out / "fixed_latent.png", title=f"{task.id}: one latent code")

    grid_images, grid_labels = run.samples_per_class(8, seed=1)  # (80, 1, H, W)
    rows = names if task.conditional else None
    grid = to_unit_numpy(grid_images if task.conditional else grid_images[:64])
    plots.plot_sample_grid(grid, out / "samples.png", title=f"{task.id}: samples", nrow=8, row_labels=rows)

    classifier, _ = load_frozen_classifier(task.dataset, run.images.device)
    generated, generated_labels = run.samples_per_class(100, seed=2)  # (1000, 1, H, W)
    generated_features, predictions = features_and_predictions(classifier, generated)
    test_images, test_labels = load_dataset(task.dataset, "test", size=task.image_size)
    test_features, _ = features_and_predictions(classifier, test_images)
    metrics = {
        "steps": run.step,
        "epochs": round(run.epoch, 3),
        "frechet_distance_to_test": frechet_distance(generated_features, test_features),
        "predicted_class_share": np.bincount(predictions, minlength=10).tolist(),
    }
    if task.conditional:
        accuracy = per_class_accuracy(predictions, generated_labels.numpy())
        metrics |= {"conditional_accuracy": float(np.mean(accuracy)), "min_class_accuracy": float(accuracy.min())}
        plots.plot_per_class_accuracy(
            accuracy,
            out / "generated_accuracy.png",
            title=f"{task.id}: frozen-classifier accuracy on samples",
            class_names=names,
        )
    tsne_figure(run, task, classifier, test_images, test_labels, tsne_per_class, out / "tsne.png")
    if hasattr(module, "interpolate"):
        strips = np.stack(
            [module.interpolate(run.G, *interpolation_codes(i), a, b) for i, (a, b) in enumerate(INTERPOLATION_PAIRS)]
        )  # (4, 8, H, W)
        labels = [f"{names[a]} → {names[b]}" for a, b in INTERPOLATION_PAIRS]
        plots.plot_interpolation_strips(
            strips, out / "interpolation.png", strip_labels=labels, title=f"{task.id}: latent and label interpolation"
        )
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    return metrics


def interpolation_codes(index: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Two fixed latent codes (100,) for interpolation strip `index`."""
    z = sample_latent(2, "cpu", torch.Generator().manual_seed(100 + index))
    return z[0], z[1]


def tsne_figure(
    run: GanRun,
    task: Task,
    classifier: torch.nn.Module,
    test_images: torch.Tensor,
    test_labels: torch.Tensor,
    per_class: int,
    path: Path,
) -> None:
    """t-SNE of frozen-classifier features: `per_class` train, test and generated images of each TSNE_CLASSES."""
    from sklearn.manifold import TSNE  # imported here: slow to import and only this figure needs it

    groups = {"train": (run.images.cpu(), run.labels.cpu()), "test": (test_images, test_labels)}
    # Unconditional tasks draw twice as many samples, since only some land in TSNE_CLASSES.
    candidates, candidate_labels = run.samples_per_class(per_class * (1 if task.conditional else 2), 3)
    if not task.conditional:
        # Unconditional samples have no label: colour them by the class the frozen classifier sees.
        candidate_labels = torch.as_tensor(features_and_predictions(classifier, candidates)[1])
    groups["generated"] = (candidates, candidate_labels)

    features, group_names, classes = [], [], []
    for name, (images, image_labels) in groups.items():
        for c in TSNE_CLASSES:
            chosen = images[image_labels == c][:per_class]
            if len(chosen) == 0:  # an unconditional G may not produce this class at all
                continue
            features.append(features_and_predictions(classifier, chosen)[0])
            group_names += [name] * len(chosen)
            classes += [c] * len(chosen)
    embedding = TSNE(init="pca", random_state=0).fit_transform(np.concatenate(features))
    plots.plot_tsne(
        embedding,
        group_names,
        np.array(classes),
        path,
        title=f"{task.id}: t-SNE of classifier features",
        class_names=plots.class_names(task.dataset),
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m reference.train",
        description="Train a task's reference GAN and write loss curves, D accuracy, samples, the fixed-latent "
        "evolution, a t-SNE of frozen-classifier features, classifier accuracy and interpolations to --out.",
    )
    parser.add_argument("task", choices=gan_tasks())
    length = parser.add_mutually_exclusive_group()
    length.add_argument("--epochs", type=int, help="passes over the training split")
    length.add_argument("--steps", type=int, help="train_step calls (default: the task's budget for the device)")
    parser.add_argument("--batch-size", type=int, help="default: the task's budget for the device")
    parser.add_argument(
        "--width", type=int, help="the networks' width (default: their own default, as a submission's checkpoint)"
    )
    parser.add_argument("--device", choices=DEVICE_CHOICES, default="auto")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="default runs/<task>")
    parser.add_argument("--fresh", action="store_true", help="ignore a checkpoint in --out and start over")
    parser.add_argument("--tsne-per-class", type=int, default=500, help="images per class and source in the t-SNE")
    args = parser.parse_args(argv)

    task: Task = load_task(TASKS_DIR / args.task)
    device = resolve_device(args.device)
    out = args.out or Path("runs") / task.id
    out.mkdir(parents=True, exist_ok=True)
    module = importlib.import_module(f"reference.{task.id}")
    images, labels = load_dataset(task.dataset, "train", size=task.image_size, device=device)
    budget = task.budget(device.type)
    run = GanRun(GanSpec.of(task), module, images, labels, args.batch_size or budget.batch_size, args.seed, args.width)

    checkpoint = out / "checkpoint.pt"
    if checkpoint.is_file() and not args.fresh:
        run.load_state_dict(torch.load(checkpoint, map_location=device, weights_only=True))
        print(f"resuming {task.id} from {checkpoint} at step {run.step}")
    total_steps = args.epochs * run.steps_per_epoch if args.epochs else args.steps or budget.steps
    snapshot_every = run.steps_per_epoch if args.epochs else max(1, total_steps // SNAPSHOTS)

    started = time.perf_counter()
    train(run, task, total_steps, snapshot_every, checkpoint)
    seconds = time.perf_counter() - started
    metrics = write_report(run, task, module, out, args.tsne_per_class)
    print(f"{task.id} on {describe_device(device)}: {run.step} steps ({run.epoch:.2f} epochs), {seconds:.0f}s")
    print(json.dumps({k: v for k, v in metrics.items() if not isinstance(v, list)}, indent=2))
    print(f"figures in {out}/")


if __name__ == "__main__":
    main()
