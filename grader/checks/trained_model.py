"""Kind `trained_model`: the generator the student trained and handed in as `<task>.pt` (a state_dict), loaded
into the student's own Generator in the sandbox and sampled through their `generate`; the samples are scored
here with the brief-training figures (`training_quality.sample_scores`) against this check's own thresholds,
`params.quality`, set from the reference trained at the task's full budget (`python -m reference.train`).

Primary: the figures, as in brief training (for a conditional task the accuracy fraction multiplies the rest).
A missing, oversized, unreadable or mismatched checkpoint earns 0 of this check with a sentence saying which,
and touches no other check: the code's own checks grade the code.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np

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


@check_kind("trained_model")
def trained_model(ctx: CheckContext) -> Outcome:
    task = ctx.task
    name = task.checkpoint_file or f"{task.id}.pt"
    generator = task.playing("generator").name
    if ctx.checkpoint is None:
        return Outcome(0.0, f"not submitted: the submission holds no {name}; " + SAVE_HINT.format(name=name))
    size = ctx.checkpoint.stat().st_size
    if size > MAX_CHECKPOINT_BYTES:
        limit = MAX_CHECKPOINT_BYTES // 1024**2
        return Outcome(0.0, f"{name} is over the size limit of {limit} MB: save the generator's state_dict alone")
    generate = task.with_role("generate")
    reply = ctx.call(
        "trained_model",
        module=ctx.module,
        generator=generator,
        generate=generate.name if generate else None,
        conditional=task.conditional,
        checkpoint=ctx.worker.submission_path(ctx.checkpoint),
        per_class=PER_CLASS,
        optional=[list(pair) for pair in generate.optional] if generate else [],
        seed=seed_for(ctx),
    )
    why = validate.entry(reply, "refused")
    if why is not None:
        message = str(validate.entry(reply, "message") or "")[:400]
        template = REFUSALS.get(str(why), "{name} was refused ({message})")
        return Outcome(0.0, template.format(name=name, generator=generator, message=message))
    unit = samples_of(reply, task.conditional, task.image_size, generate.name if generate else generator)
    outside = float(np.mean((unit < -RANGE_TOLERANCE) | (unit > 1 + RANGE_TOLERANCE)))
    unit = np.clip(unit, 0, 1).astype(np.float32)
    scores = sample_scores(unit * 2 - 1, task.conditional, real_statistics(task.dataset, task.image_size))
    quality = ctx.params["quality"]
    fraction, fractions = quality_fraction(scores, quality)
    message = quality_message(scores, fractions, quality, f"samples of your {name}")
    if outside > 0:
        message += f"; {outside:.0%} of pixels were outside [0, 1]: end the Generator with tanh and map it to [0, 1]"
    details = {key: round(float(value), 4) for key, value in scores.items() if key in quality}
    with tempfile.TemporaryDirectory() as folder:
        grid = sample_grid(task, unit, Path(folder) / "grid.png", f"Your {name}")
        images = {f"your {name}: {SAMPLE_GRID}": data_uri(grid)}
    return Outcome(fraction, message, images, details)


def samples_of(reply: Any, conditional: bool, size: int, source: str) -> np.ndarray:
    """(10·PER_CLASS, H, W) images, class-major, from the probe's calls (one per class, or one for all)."""
    described = validate.entry(reply, "samples")
    calls = NUM_CLASSES if conditional else 1
    if not isinstance(described, list) or len(described) != calls:
        raise validate.Invalid("the trained model's samples could not be read")
    count = PER_CLASS if conditional else NUM_CLASSES * PER_CLASS
    what = f"{source}(G, {count}{', c' if conditional else ''})"
    arrays = [validate.ndarray(validate.raised(one, what), what, (count, size, size)) for one in described]
    return np.concatenate(arrays).astype(np.float32)
