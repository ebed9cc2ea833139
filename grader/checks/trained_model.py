"""Kind `trained_model`: the generator the student trained and handed in as `<task>.pt` (a state_dict), loaded
into the student's own Generator in the sandbox and sampled through their `generate`; the samples are scored
here with the brief-training figures (`training_quality.sample_scores`) against this check's own thresholds,
`params.quality`, set from the reference trained at the task's full budget (`python -m reference.train`).

Primary: the figures, as in brief training (for a conditional task the accuracy fraction multiplies the rest).
A missing, oversized, unreadable or mismatched checkpoint earns 0 of this check with a sentence saying which,
and touches no other check: the code's own checks grade the code. A `generate` that breaks its contract (raises,
another shape, values outside [0, 1]) is the interface check's fault to grade: the samples are then drawn from G
itself in eval mode, with a note, so the one fault costs one check.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from gankit.catalogue import Task
from gankit.common import NUM_CLASSES
from gankit.stage import PER_CLASS
from grader import validate
from grader.checks import CheckContext, Outcome, check_kind
from grader.checks.probing import seed_for
from grader.checks.training_quality import (
    RANGE_TOLERANCE,
    data_uri,
    quality_fraction,
    quality_message,
    real_statistics,
    sample_grid,
    sample_scores,
)
from grader.results import SAMPLE_GRID
from grader.submission import MAX_CHECKPOINT_BYTES

SAVE_HINT = "save it with `torch.save(G.state_dict(), {name!r})` as the notebook's training cell does"
# The probe's reasons for refusing a checkpoint → what to change.
REFUSALS = {
    "unreadable": "{name} is not a file torch.load can read ({message}); " + SAVE_HINT,
    "pickle": "{name} needs more than tensors to load, which torch.load(weights_only=True) refuses ({message}): "
    "save the state_dict, not the network or other objects; " + SAVE_HINT,
    "not_state_dict": "{name} is not a state_dict (a mapping of parameter names to tensors) but holds {message}; "
    + SAVE_HINT,
    "construct": "{generator}() could not be built to load {name} into: {message}",
    "mismatch": "{name} does not fit your {generator}() built with its default arguments ({message}): save the "
    "state_dict of a {generator} built with its defaults, from this version of your code",
    "nonfinite": "{name} holds NaN or infinite values (in {message}): the training diverged; save a checkpoint "
    "from before it did",
}


def _names(task: Task) -> tuple[str, str]:
    """(the checkpoint's file name, the name of the class it loads into)."""
    return task.checkpoint_file or f"{task.id}.pt", task.playing("generator").name


@check_kind("trained_model")
def trained_model(ctx: CheckContext) -> Outcome:
    task = ctx.task
    name, generator = _names(task)
    if ctx.checkpoint is None:
        return Outcome(0.0, f"not submitted: the submission holds no {name}; " + SAVE_HINT.format(name=name))
    size = ctx.checkpoint.stat().st_size
    if size > MAX_CHECKPOINT_BYTES:
        limit = MAX_CHECKPOINT_BYTES // 1024**2
        return Outcome(0.0, f"{name} is over the size limit of {limit} MB: save the generator's state_dict alone")
    generate = task.with_role("generate")
    sampled = samples(ctx, generate.name if generate else None, generate.optional if generate else [])
    note = ""
    if isinstance(sampled, validate.Invalid) and generate is not None:
        # A generate that breaks its contract is the interface check's to grade: this one samples G itself then,
        # so that one fault costs one check.
        note = f"; sampled {generator} itself in eval mode, since {sampled} (the interface check grades generate)"
        sampled = samples(ctx, None, [])
    if isinstance(sampled, validate.Invalid):
        raise sampled
    if isinstance(sampled, Outcome):
        return sampled
    scores = sample_scores(sampled * 2 - 1, task.conditional, real_statistics(task.dataset, task.image_size))
    quality = ctx.params["quality"]
    fraction, fractions = quality_fraction(scores, quality)
    message = quality_message(scores, fractions, quality, f"samples of your {name}") + note
    details = {key: round(float(value), 4) for key, value in scores.items() if key in quality}
    with tempfile.TemporaryDirectory() as folder:
        grid = sample_grid(task, sampled, Path(folder) / "grid.png", f"Your {name}")
        images = {f"your {name}: {SAMPLE_GRID}": data_uri(grid)}
    return Outcome(fraction, message, images, details)


def samples(ctx: CheckContext, generate: str | None, optional: list[tuple[str, Any]]) -> Any:
    """The checkpoint's samples (10·PER_CLASS, H, W) in [0, 1], class-major, through `generate` (None: G itself);
    an Outcome of 0 when the checkpoint was refused; `validate.Invalid` (returned) when what came back breaks the
    `generate` contract."""
    task = ctx.task
    name, generator = _names(task)
    assert ctx.checkpoint is not None
    reply = ctx.call(
        "trained_model",
        module=ctx.module,
        generator=generator,
        generate=generate,
        conditional=task.conditional,
        checkpoint=ctx.worker.submission_path(ctx.checkpoint),
        per_class=PER_CLASS,
        optional=[list(pair) for pair in optional],
        seed=seed_for(ctx),
    )
    why = validate.entry(reply, "refused")
    if why is not None:
        message = str(validate.entry(reply, "message") or "")[:400]
        template = REFUSALS.get(str(why), "{name} was refused ({message})")
        return Outcome(0.0, template.format(name=name, generator=generator, message=message))
    described = validate.entry(reply, "samples")
    calls = NUM_CLASSES if task.conditional else 1
    if not isinstance(described, list) or len(described) != calls:
        return validate.Invalid("the trained model's samples could not be read")
    count = PER_CLASS if task.conditional else NUM_CLASSES * PER_CLASS
    what = f"{generate or generator}(G, {count}{', c' if task.conditional else ''})"
    size = task.image_size
    try:
        unit = np.concatenate(
            [validate.ndarray(validate.raised(one, what), what, (count, size, size)) for one in described]
        ).astype(np.float32)
    except validate.Invalid as error:
        return error
    if ((unit < -RANGE_TOLERANCE) | (unit > 1 + RANGE_TOLERANCE)).any():
        return validate.Invalid(f"{what} returned values outside [0, 1]")
    return np.clip(unit, 0, 1)
