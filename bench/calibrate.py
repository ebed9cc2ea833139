"""Where the brief-training thresholds belong: every GAN task's stage run by the grader on correct and broken
generators over several seeds, each figure's spread, and its margin to the task's `[quality]` thresholds.

    python bench/calibrate.py                               # every GAN task, 5 seeds correct, 3 broken, 2 at once
    python bench/calibrate.py --tasks cdcgan --seeds 2 --broken-seeds 1 --json calibration.json
    python bench/calibrate.py --from-json calibration.json --markdown   # summarise again, and the README's table

Each run is the grader's own `training_quality` check (sandboxed worker, one thread, the task's CPU budget in
steps, the run's `--seed`) on a variant of the reference from `tests/grader/variants.py`: the reference, the
correct styles the statement allows (cdcgan's generator without the label scale; networks built at their own
width, a canonical DCGAN size, where the budget passes `width`), and the broken ones (labels ignored, one image
per class). Per task and variant it prints each figure's min / median / max and the points, and then the
margins: for a correct variant how far its worst run is past `full` (negative: a correct run loses points); for
a broken one how far its best run is short of `zero` on each figure it breaks (negative: it earns some). A
threshold is set right when every margin is positive.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from queue import Queue

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gankit.catalogue import Task, load_catalogue  # noqa: E402
from grader.checks.training_quality import quality_fraction  # noqa: E402
from grader.results import CheckResult  # noqa: E402
from grader.run_checks import TaskRunner  # noqa: E402
from grader.sandbox import Worker  # noqa: E402
from tests.grader.variants import TrainingVariant, training_variant_source, training_variants  # noqa: E402


@dataclasses.dataclass
class Run:
    task: str
    variant: str
    seed: int
    points: float
    max_points: float
    figures: dict[str, float]
    steps: int
    train_seconds: float
    message: str


def staged_task(task: Task, variant: TrainingVariant, device: str = "cpu", steps: int = 0) -> tuple[Task, str]:
    """The task with only its training check, its budget on `device` for the variant (`steps` of it when not 0:
    a quick look, not a calibration), and the variant's source."""
    budget = task.budget(device)
    if steps:
        budget = dataclasses.replace(budget, steps=steps)
    if variant.own_width:
        budget = dataclasses.replace(budget, width=None)
    checks = [check for check in task.checks if check.kind == "training_quality"]
    staged = dataclasses.replace(task, checks=checks, budgets={"cpu": budget, "cuda": budget})
    return staged, training_variant_source(task, variant)


def grade_run(
    root: Path, slot: int, task: Task, variant: TrainingVariant, seed: int, device: str = "cpu", steps: int = 0
) -> Run:
    """One training check in a fresh sandboxed worker: what `grade --seed SEED --device DEVICE` gives this
    variant."""
    staged, source = staged_task(task, variant, device, steps)
    folder = root / f"{task.id}-{variant.name.replace(' ', '-')}-{seed}"
    inputs = folder / "inputs"
    inputs.mkdir(parents=True, mode=0o755)
    inputs.chmod(0o755)
    with Worker(folder / "submission", inputs, slot=slot, device=device) as worker:
        student = worker.stage({task.student_file: source})[task.student_file]
        runner = TaskRunner(staged, worker, student, inputs, seed=seed, device=device)
        result: CheckResult = runner.run(staged.checks[0])
    details = result.details or {}
    return Run(
        task=task.id,
        variant=variant.name,
        seed=seed,
        points=result.points,
        max_points=result.max_points,
        figures={name: float(details[name]) for name in task.quality if name in details},
        steps=int(details.get("steps", 0)),
        train_seconds=float(details.get("train_seconds", 0.0)),
        message=result.message,
    )


def span(values: list[float]) -> str:
    """ "a–b", or "a" when every value is a."""
    low, high = f"{min(values):.3g}", f"{max(values):.3g}"
    return low if low == high else f"{low}–{high}"


def points_now(task: Task, run: Run) -> float:
    """The run's points under the task's thresholds as they are now (a --from-json run may predate them)."""
    return round(quality_fraction(run.figures, task.quality)[0] * run.max_points, 4)


def margin(task: Task, variant: TrainingVariant, figure: str, values: list[float]) -> float | None:
    """How far the variant's worst run for its purpose lies past the threshold it must clear (see the module doc)."""
    zero, full = task.quality[figure]["zero"], task.quality[figure]["full"]
    higher_better = full > zero
    if not variant.breaks:
        worst = min(values) if higher_better else max(values)
        return worst - full if higher_better else full - worst
    if figure not in variant.breaks:
        return None
    best = max(values) if higher_better else min(values)
    return zero - best if higher_better else best - zero


def summary(task: Task, variant: TrainingVariant, runs: list[Run]) -> list[str]:
    lines = []
    for figure in task.quality:
        values = [run.figures[figure] for run in runs if figure in run.figures]
        if not values:
            continue
        room = margin(task, variant, figure, values)
        thresholds = task.quality[figure]
        lines.append(
            f"  {figure:22s} min {min(values):8.3f}  median {statistics.median(values):8.3f}  max {max(values):8.3f}"
            f"   zero {thresholds['zero']:g}, full {thresholds['full']:g}"
            + ("" if room is None else f"   margin {room:+.3f}")
        )
    points = [points_now(task, run) for run in runs]
    seconds = [run.train_seconds for run in runs]
    lines.append(
        f"  points {min(points):g}–{max(points):g} / {runs[0].max_points:g}, steps {min(r.steps for r in runs)}–"
        f"{max(r.steps for r in runs)}, train_step CPU {min(seconds):.0f}–{max(seconds):.0f} s"
    )
    return lines


def markdown_rows(task: Task, runs: list[Run]) -> list[str]:
    """The README's calibration table rows for `task`: thresholds, then one row per variant."""
    budget = task.budget("cpu")
    thresholds = ", ".join(f"`{name}` {t['zero']:g} → {t['full']:g}" for name, t in task.quality.items())
    rows = [f"| `{task.id}` | {budget.steps} × {budget.batch_size} | thresholds (zero → full) | | {thresholds} | | |"]
    for variant in training_variants(task):
        chosen = [run for run in runs if run.task == task.id and run.variant == variant.name]
        if not chosen:
            continue
        cells = []
        for figure in task.quality:
            values = [run.figures[figure] for run in chosen]
            room = margin(task, variant, figure, values)
            cells.append(
                f"{figure} {min(values):.3g}–{max(values):.3g}" + ("" if room is None else f" (margin {room:+.3g})")
            )
        points = [points_now(task, run) for run in chosen]
        seconds = [run.train_seconds for run in chosen]
        kind = "breaks " + ", ".join(f for f in variant.breaks if f in task.quality) if variant.breaks else "correct"
        rows.append(
            f"| | | {variant.name} ({kind}) | {len(chosen)} | {'; '.join(cells)} | {span(points)}"
            f" / {chosen[0].max_points:g} | {min(seconds):.0f}–{max(seconds):.0f} s |"
        )
    return rows


def train_all(
    plan: list[tuple[Task, TrainingVariant, int]],
    jobs: int,
    json_path: Path | None,
    device: str = "cpu",
    steps: int = 0,
) -> list[Run]:
    """Every planned run, `jobs` at a time, printed (and written to `json_path`) as each finishes."""
    print(f"{len(plan)} training runs, {jobs} at a time", flush=True)
    runs: list[Run] = []
    lock = threading.Lock()
    slots: Queue[int] = Queue()
    for slot in range(jobs):
        slots.put(slot)

    with tempfile.TemporaryDirectory() as folder:

        def one(item: tuple[Task, TrainingVariant, int]) -> None:
            task, variant, seed = item
            slot = slots.get()
            try:
                run = grade_run(Path(folder), slot, task, variant, seed, device, steps)
            finally:
                slots.put(slot)
            with lock:
                runs.append(run)
                figures = ", ".join(f"{name} {value:.3f}" for name, value in run.figures.items())
                print(
                    f"[{len(runs)}/{len(plan)}] {task.id} {variant.name} seed {seed}: {run.points:g}/{run.max_points:g}"
                    f" ({figures}; {run.steps} steps, {run.train_seconds:.0f} s)",
                    flush=True,
                )
                if json_path:
                    json_path.write_text(json.dumps([dataclasses.asdict(r) for r in runs], indent=1))

        with ThreadPoolExecutor(max_workers=jobs) as pool:
            list(pool.map(one, plan))
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", help="comma-separated task ids (default: every task with a training stage)")
    parser.add_argument("--seeds", type=int, default=5, help="seeds per correct variant (default 5)")
    parser.add_argument("--broken-seeds", type=int, default=3, help="seeds per broken variant (default 3)")
    parser.add_argument("--variants", help="comma-separated variant names (default: all that apply)")
    parser.add_argument("--jobs", type=int, default=2, help="runs at a time, one core each (default 2)")
    parser.add_argument("--json", type=Path, help="also write every run here, rewritten as runs finish")
    parser.add_argument("--from-json", type=Path, help="train nothing: summarise the runs of an earlier --json")
    parser.add_argument("--markdown", action="store_true", help="also print the README's calibration table")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu", help="train there, at its budget")
    parser.add_argument("--steps", type=int, default=0, help="cut every run to this many steps (a dry run)")
    args = parser.parse_args()
    catalogue = load_catalogue()
    ids = args.tasks.split(",") if args.tasks else [t for t, task in catalogue.items() if task.quality]
    wanted = set(args.variants.split(",")) if args.variants else None
    plan = [
        (catalogue[task_id], variant, seed)
        for task_id in ids
        for variant in training_variants(catalogue[task_id])
        if wanted is None or variant.name in wanted
        for seed in range(args.broken_seeds if variant.breaks else args.seeds)
    ]
    # The networks at their own width take several times longer: last, so the rest reports early.
    plan.sort(key=lambda item: item[1].own_width)
    if args.from_json:
        runs = [Run(**run) for run in json.loads(args.from_json.read_text())]
    else:
        runs = train_all(plan, args.jobs, args.json, args.device, args.steps)
    for task_id in ids:
        task = catalogue[task_id]
        budget = task.budget(args.device)
        print(f"\n{task_id} on {args.device}: {args.steps or budget.steps} steps × {budget.batch_size}")
        for variant in training_variants(task):
            chosen = [run for run in runs if run.task == task_id and run.variant == variant.name]
            if chosen:
                kind = "breaks " + ", ".join(variant.breaks) if variant.breaks else "correct"
                print(f" {variant.name} ({kind}, {len(chosen)} seeds)")
                print("\n".join(summary(task, variant, chosen)))
    if args.markdown:
        print("\n| task | CPU budget | variant | seeds | figures: min–max over the seeds (margin) | points | CPU |")
        print("|---|---|---|---|---|---|---|")
        for task_id in ids:
            print("\n".join(markdown_rows(catalogue[task_id], runs)))


if __name__ == "__main__":
    main()
