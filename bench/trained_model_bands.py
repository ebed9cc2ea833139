"""Where the `trained_model` thresholds belong: each task's reference (and its variants from
`tests/grader/variants.py`) trained at the task's full budget, as `python -m reference.train` trains it (the
budget's steps and batch on this device, the networks at their default size, as a submission's checkpoint), its
generator saved as `<task>.pt`, and that file graded by the grader's own `trained_model` check.

    python bench/trained_model_bands.py                          # every task with the check, 2 seeds, 1 broken
    python bench/trained_model_bands.py --tasks dcgan --seeds 3 --json bands.json
    python bench/trained_model_bands.py --tasks cdcgan --steps 50 # a quick look, not a calibration

Per run it prints the figures and the points at the task's thresholds (`params.quality` of the check); then, per
figure, the worst correct run and the best broken one, whose gap is where a threshold pair belongs.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import sys
import tempfile
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gankit.catalogue import Task, load_catalogue  # noqa: E402
from gankit.data import load_dataset  # noqa: E402
from gankit.training import GanRun, GanSpec  # noqa: E402
from grader.checks import load_all  # noqa: E402
from grader.run_checks import TaskRunner  # noqa: E402
from grader.sandbox import Worker  # noqa: E402
from tests.grader.variants import TrainingVariant, training_variant_source, training_variants  # noqa: E402


@dataclasses.dataclass
class Run:
    task: str
    variant: str
    breaks: tuple[str, ...]  # the figures this variant breaks; empty: a correct one
    seed: int
    points: float
    max_points: float
    figures: dict[str, float]
    message: str


def trained_checkpoint(task: Task, source: str, seed: int, steps: int, folder: Path) -> Path:
    """Train `source` (a task module's text) at the task's CPU budget with default-size networks; its
    generator's state_dict saved as `folder/<task>.pt`."""
    folder.mkdir(parents=True, exist_ok=True)
    module_file = folder / f"trained_{task.id}.py"
    module_file.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(module_file.stem, module_file)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    budget = task.budget("cpu")
    images, labels = load_dataset(task.dataset, "train", size=task.image_size)
    run = GanRun(GanSpec.of(task), module, images, labels, budget.batch_size, seed=seed, width=None)
    for _ in range(steps or budget.steps):
        run.train_step()
    path = folder / str(task.checkpoint_file)
    torch.save(run.G.state_dict(), path)
    return path


def graded(task: Task, source: str, checkpoint: Path, folder: Path, seed: int) -> tuple[float, float, dict, str]:
    """The `trained_model` check of `task` on `source` with `checkpoint`, in a sandboxed worker."""
    check = next(check for check in task.checks if check.kind == "trained_model")
    inputs = folder / "inputs"
    inputs.mkdir(mode=0o755)
    inputs.chmod(0o755)
    with Worker(folder / "submission", inputs) as worker:
        staged = worker.stage({task.student_file: source, str(task.checkpoint_file): checkpoint.read_bytes()})
        runner = TaskRunner(
            task, worker, staged[task.student_file], inputs, seed=seed, checkpoint=staged[str(task.checkpoint_file)]
        )
        result = runner.run(check)
    return result.points, result.max_points, dict(result.details or {}), result.message


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", help="comma-separated task ids (default: every task with a trained_model check)")
    parser.add_argument("--seeds", type=int, default=2, help="seeds of each correct variant (default 2)")
    parser.add_argument("--broken-seeds", type=int, default=1, help="seeds of each broken variant (default 1)")
    parser.add_argument("--steps", type=int, default=0, help="train_step calls (default: the task's CPU budget)")
    parser.add_argument("--json", type=Path, help="also write every run here")
    args = parser.parse_args()
    torch.set_num_threads(1)
    load_all()  # every check kind imported before the first long training, not after it
    catalogue = load_catalogue()
    ids = args.tasks.split(",") if args.tasks else [t.id for t in catalogue.values() if t.checkpoint_file]
    runs: list[Run] = []
    with tempfile.TemporaryDirectory() as root:
        for task_id in ids:
            task = catalogue[task_id]
            variants: list[TrainingVariant] = [v for v in training_variants(task) if not v.own_width]
            for variant in variants:
                for seed in range(args.broken_seeds if variant.breaks else args.seeds):
                    folder = Path(root) / f"{task_id}-{variant.name.replace(' ', '-')}-{seed}"
                    source = training_variant_source(task, variant)
                    checkpoint = trained_checkpoint(task, source, seed, args.steps, folder)
                    points, most, figures, message = graded(task, source, checkpoint, folder, seed)
                    runs.append(Run(task_id, variant.name, variant.breaks, seed, points, most, figures, message))
                    shown = ", ".join(f"{name} {value:.3f}" for name, value in figures.items())
                    print(f"{task_id:9s} {variant.name:14s} seed {seed}: {points:g}/{most:g}  {shown}", flush=True)
    for task_id in ids:
        quality = next(c for c in catalogue[task_id].checks if c.kind == "trained_model").params["quality"]
        for figure, band in quality.items():
            lower_better = band["zero"] > band["full"]
            mine = [r for r in runs if r.task == task_id and figure in r.figures]
            correct = [r.figures[figure] for r in mine if not r.breaks]
            broken = [r.figures[figure] for r in mine if figure in r.breaks]
            worst = (max if lower_better else min)(correct) if correct else float("nan")
            best_broken = (min if lower_better else max)(broken) if broken else float("nan")
            print(
                f"{task_id:9s} {figure:22s} zero {band['zero']:g} full {band['full']:g}: worst correct "
                f"{worst:.3f}, best broken {best_broken:.3f}"
            )
    if args.json:
        args.json.write_text(json.dumps([dataclasses.asdict(run) for run in runs], indent=2) + "\n")


if __name__ == "__main__":
    main()
