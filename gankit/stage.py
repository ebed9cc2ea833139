"""The statement's account of a task's brief-training stage, written from its task.toml when the statement is
read, so what students are told is what the grader runs: steps, batches, the width passed, the optimizers, the
seed, the figures with their thresholds, and when the stage stops early.

A statement places it with the marker line `STAGE_MARKER`; `Task.statement` puts the text there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gankit.data import TITLES

if TYPE_CHECKING:
    from gankit.catalogue import Task, Training

STAGE_MARKER = "<!-- the training stage: written here from task.toml -->"
PER_CLASS = 100  # samples per class the stage (and the trained_model check) scores
CHECKPOINT_LIMIT_MB = 16  # a handed-in generator's largest file; the statements' default sizes take 3–5 MB

FIGURES = {
    "conditional_accuracy": "the share of samples the classifier calls the class asked for, mean over classes",
    "fid_ratio": (
        "Fréchet distance to real test images in the classifier's feature space, over that of as many real "
        "training images (1: as good as real data; lower is better)"
    ),
    "diversity": "spread of the samples within a class in that feature space, over that of real images",
    "class_coverage": "the share of the 10 classes that get at least 5 % of the samples",
}


def _number(value: float) -> str:
    """1e-3 as `1e-3`, 0.45 as `0.45`, 200.0 as `200`: as short as Python writes it, exponents unpadded."""
    text = f"{value:g}"
    return text.replace("e-0", "e-").replace("e+0", "e+")


def _optimizers(task: Task, training: Training) -> str:
    builder = task.with_role("optimizers")
    if builder is not None:
        return f"the optimizers of your `{builder.name}(G, D)`"
    optimizer = training.optimizer
    if optimizer.kind == "adam":
        betas = optimizer.betas or (0.9, 0.999)
        return f"`torch.optim.Adam(lr={_number(optimizer.lr)}, betas=({betas[0]:g}, {betas[1]:g}))` for each network"
    return f"`torch.optim.RMSprop(lr={_number(optimizer.lr)})` for each network"


def _each_call(task: Task) -> str:
    training = task.training
    assert training is not None
    real = f"a list of {training.d_steps} batches" if training.batched else "one batch"
    labels = " with their integer labels" if task.conditional else ""
    given = [f"`{name}={value!r}`" for name, value in training.kwargs.items()]
    given.append("`rng`, a `torch.Generator` seeded from the stage's seed, where your signature takes it")
    return f"{real} of real training images{labels}, and " + ", ".join(given)


def describe(task: Task) -> str:
    """The markdown section `## The training stage` for a task with a `[training]` table."""
    training = task.training
    if training is None:
        raise KeyError(f"task {task.id} has no [training] section")
    cpu, cuda = task.budget("cpu"), task.budget("cuda")
    networks = (task.playing("generator").name, task.playing("discriminator", "critic").name)
    step = task.playing("train_step").name
    if cpu.width is not None:
        built = " and ".join(f"`{name}(width={cpu.width})`" for name in networks)
        gpu = f"`width={cuda.width}`" if cuda.width is not None else "your defaults"
        built += f" when the constructor takes `width` (otherwise with your defaults; on a GPU with {gpu})"
    else:
        built = " and ".join(f"`{name}()`" for name in networks) + " with your defaults"
    samples = f"{PER_CLASS} samples of each class" if task.conditional else f"{PER_CLASS * 10} samples"
    rows = [
        f"| `{name}` | {FIGURES[name]} | {_number(t['zero'])} | {_number(t['full'])} |"
        for name, t in task.quality.items()
    ]
    product = (
        ", times the `conditional_accuracy` fraction, so samples that ignore the label earn nothing"
        if "conditional_accuracy" in task.quality
        else ""
    )
    stage = "\n".join(
        [
            "## The training stage",
            "",
            "Written from the task's `task.toml`, so it is what the grader runs.",
            "",
            f"- **What runs:** your own networks, built as {built}, with {_optimizers(task, training)}. Then exactly "
            f"{cpu.steps} calls of your `{step}` on a CPU ({cuda.steps} on a GPU), each with {_each_call(task)}; "
            f"a batch holds {cpu.batch_size} images on a CPU, {cuda.batch_size} on a GPU. The seed is the grader's "
            "`--seed` (0 unless your instructor chose another), so the same code gets the same figures on every "
            "run, alone or beside other grades.",
            f"- **What is scored:** {samples} from `G` in eval mode, through the frozen {TITLES[task.dataset]} "
            "classifier. Each figure earns a share of the points linearly between its two thresholds, and the "
            f"check scores the mean of those shares{product}.",
            "",
            "| figure | what it measures | no points at | full points at |",
            "|---|---|---|---|",
            *rows,
            "",
            f"- **When it stops early:** an exception in `{step}` or a loss that becomes NaN or infinite ends "
            f"the stage with no points, and so do `{step}` calls that take more than {_number(cpu.cpu_seconds)} "
            f"CPU seconds in all ({_number(cuda.cpu_seconds)} on a GPU), several times what networks of the size "
            "above need. It counts the CPU time your code uses, not the clock, so a busy machine does not count "
            "against you.",
        ]
    )
    trained = describe_trained(task)
    return stage if trained is None else f"{stage}\n\n{trained}"


def describe_trained(task: Task) -> str | None:
    """The markdown section `## Your trained generator` for a task with a `trained_model` check, else None."""
    check = next((check for check in task.checks if check.kind == "trained_model"), None)
    if check is None or task.checkpoint_file is None:
        return None
    name, generator = task.checkpoint_file, task.playing("generator").name
    generate = task.with_role("generate")
    through = f"your `{generate.name}`" if generate else f"`{generator}` in eval mode"
    samples = f"{PER_CLASS} samples of each class" if task.conditional else f"{PER_CLASS * 10} samples"
    quality = check.params["quality"]
    rows = [
        f"| `{figure}` | {FIGURES[figure]} | {_number(t['zero'])} | {_number(t['full'])} |"
        for figure, t in quality.items()
    ]
    product = ", times the `conditional_accuracy` fraction" if "conditional_accuracy" in quality else ""
    return "\n".join(
        [
            "## Your trained generator",
            "",
            f"- **What to hand in:** `{name}`, the state_dict of the `{generator}` you trained, saved with "
            f'`torch.save(G.state_dict(), "{name}")` (the training cell below does it), in your zip beside '
            f"`{task.student_file}`; at most {CHECKPOINT_LIMIT_MB} MB. Train it as long as you like: this check "
            "scores the model you hand in, the training stage above scores your code.",
            f"- **What is scored:** the grader builds your `{generator}()` with its default arguments, loads the "
            "file into it (`torch.load(..., weights_only=True)`, then `load_state_dict(strict=True)`), and draws "
            f"{samples} through {through}, scored by the frozen {TITLES[task.dataset]} classifier with the "
            f"figures of the training stage: each earns a share of the points between its two thresholds, and the "
            f"check scores their mean{product}.",
            "",
            "| figure | what it measures | no points at | full points at |",
            "|---|---|---|---|",
            *rows,
            "",
            f"- **When it earns nothing:** no `{name}` in the submission (not submitted), a file over "
            f"{CHECKPOINT_LIMIT_MB} MB, one that holds more than tensors (a pickled network or other objects: "
            f"`weights_only` refuses them), keys or shapes that do not match your `{generator}()` built with its "
            "defaults, or NaN weights. Each costs this check only, with a message saying which.",
        ]
    )
