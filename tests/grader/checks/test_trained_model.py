"""Kind `trained_model`: a generator trained by the template's own training cell and handed in as `<task>.pt`
earns the check at thresholds set for that training; the label-ignoring variant's checkpoint does not; every bad
checkpoint is refused with its own message, by this check alone."""

from __future__ import annotations

import dataclasses
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from gankit.catalogue import Check, Task
from grader.authoring.make_template import PROJECT_DIR, TEMPLATE_DIR
from grader.authoring.notebook import SKIP_TAG
from grader.submission import MAX_CHECKPOINT_BYTES
from tests.grader.checks.conftest import CATALOGUE, SharedWorkers, reference_source, with_bug
from tests.grader.variants import TRAINING_VARIANTS, training_variant_source

# cwgan_gp: of the conditional tasks, the one whose generator follows the label soonest.
TASK = "cwgan_gp"
# The template cell's training cut to about 35 s here, and thresholds measured for it (see the test).
STEPS, BATCH_SIZE = 250, 32
BRIEF_QUALITY = {
    "conditional_accuracy": {"zero": 0.15, "full": 0.22},
    "fid_ratio": {"zero": 400.0, "full": 200.0},
    "diversity": {"zero": 0.1, "full": 0.2},
}


def template_cell_checkpoint(source: str, folder: Path) -> bytes:
    """Run the template notebook's training cell (STEPS steps, torch seeded) after `source` in a fresh Python, in
    `folder`; the `<task>.pt` it saves."""
    notebook = json.loads((TEMPLATE_DIR / f"{TASK}.ipynb").read_text(encoding="utf-8"))
    (cell,) = [c for c in notebook["cells"] if SKIP_TAG in c.get("metadata", {}).get("tags", [])]
    code = "".join(cell["source"])
    assert code.count("STEPS, BATCH_SIZE = 2000, 64") == 1, "the template's training cell changed its first line"
    code = code.replace("STEPS, BATCH_SIZE = 2000, 64", f"STEPS, BATCH_SIZE = {STEPS}, {BATCH_SIZE}")
    folder.mkdir(parents=True)
    (folder / "student.py").write_text(source, encoding="utf-8")
    script = "import torch\ntorch.manual_seed(0)\ntorch.set_num_threads(1)\nfrom student import *\n" + code
    environment = {**os.environ, "MPLBACKEND": "Agg", "PYTHONPATH": str(PROJECT_DIR)}
    subprocess.run([sys.executable, "-c", script], cwd=folder, env=environment, check=True, capture_output=True)
    return (folder / f"{TASK}.pt").read_bytes()


def brief_task() -> tuple[Task, Check]:
    """The task with its trained_model check at the thresholds for STEPS steps of the template cell."""
    task = CATALOGUE[TASK]
    check = next(c for c in task.checks if c.kind == "trained_model")
    brief = dataclasses.replace(check, params={**check.params, "quality": BRIEF_QUALITY})
    return dataclasses.replace(task, checks=[brief if c is check else c for c in task.checks]), brief


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory):
    workers = SharedWorkers(tmp_path_factory.mktemp("trained-model"))
    yield workers
    workers.close()


@pytest.mark.slow
def test_the_template_cells_checkpoint_earns_the_check_and_ignoring_the_label_loses_it(
    shared: SharedWorkers, tmp_path: Path
) -> None:
    """The reference trained by the template's own cell and saved as it saves: full points. The same weights in
    the label-ignoring variant (the label zeroed in G's forward, the same parameters): nothing, since its samples
    follow no class. Measured here: the reference's accuracy 0.28, the variant's 0.09 (chance is 0.1)."""
    task, check = brief_task()
    trained = template_cell_checkpoint(reference_source(TASK), tmp_path / "reference")
    good = shared.results(TASK, [check], task=task, checkpoint=trained)["trained_model"]
    assert good.points == good.max_points, good.message
    assert f"samples of your {TASK}.pt: conditional_accuracy" in good.message
    assert any(title.startswith(f"your {TASK}.pt: samples") for title in good.images)
    variant = training_variant_source(task, TRAINING_VARIANTS["labels ignored"])
    bad = shared.results(TASK, [check], variant, task=task, checkpoint=trained)["trained_model"]
    assert bad.points == 0, bad.message
    assert bad.details["conditional_accuracy"] <= 0.15
    assert "feed the one-hot label to both networks" in bad.message
    # A generate that returns [-1, 1] is the interface check's fault: this check samples G itself and keeps all.
    shifted = with_bug(TASK, GENERATE_RETURN, GENERATE_RETURN.replace("))\n", ")) * 2 - 1\n"))
    kept = shared.results(TASK, [check], shifted, task=task, checkpoint=trained)["trained_model"]
    assert kept.points == kept.max_points, kept.message
    assert "sampled Generator itself in eval mode, since generate(G, 100, c) returned values outside [0, 1]" in (
        kept.message
    )


# The reference generate's last line (cwgan_gp.py), which the variants below edit.
GENERATE_RETURN = (
    "        return to_unit_numpy(G(sample_latent(n, device, rng), one_hot(torch.full((n,), c)).to(device)))\n"
)


def test_a_generate_that_raises_costs_this_check_nothing_more(shared: SharedWorkers) -> None:
    broken = with_bug(TASK, GENERATE_RETURN, "        raise RuntimeError('no samples today')\n")
    result = shared.results(TASK, ["trained_model"], broken, checkpoint=saved(generator_state()))["trained_model"]
    assert "sampled Generator itself in eval mode, since generate(G, 100, c) raised RuntimeError" in result.message
    assert set(result.details) == {"conditional_accuracy", "fid_ratio", "diversity"}, "scored all the same"


def saved(value: object) -> bytes:
    buffer = io.BytesIO()
    torch.save(value, buffer)
    return buffer.getvalue()


def generator_state(**kwargs: object) -> dict[str, torch.Tensor]:
    namespace: dict[str, object] = {}
    exec(compile(reference_source(TASK), f"{TASK}.py", "exec"), namespace)  # noqa: S102 - the reference itself
    torch.manual_seed(0)
    return namespace["Generator"](**kwargs).state_dict()  # type: ignore[operator]


def with_nan(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    broken = {name: value.clone() for name, value in state.items()}
    first = next(name for name, value in broken.items() if value.is_floating_point())
    broken[first].view(-1)[0] = float("nan")
    return broken


# (case, the checkpoint's bytes or None for none, a phrase of the message)
BAD_CHECKPOINTS = [
    ("missing", lambda: None, f"not submitted: the submission holds no {TASK}.pt"),
    ("not a torch file", lambda: b"these are not weights", "is not a file torch.load can read"),
    ("a list", lambda: saved([torch.zeros(3)]), "is not a state_dict (a mapping of parameter names to tensors)"),
    ("a training checkpoint", lambda: saved({"G": generator_state(), "step": 3}), "entries that are not tensors: G"),
    ("the network pickled", lambda: saved(torch.nn.Linear(2, 2)), "needs more than tensors to load"),
    ("another width", lambda: generator_state(width=16), "does not fit your Generator() built with its default"),
    ("an extra key", lambda: {**generator_state(), "extra": torch.zeros(1)}, "Unexpected key(s) in state_dict"),
    ("NaN weights", lambda: with_nan(generator_state()), "holds NaN or infinite values"),
    ("over the limit", lambda: b"\0" * (MAX_CHECKPOINT_BYTES + 1), "is over the size limit of 16 MB"),
]


@pytest.mark.parametrize(("case", "content", "phrase"), BAD_CHECKPOINTS, ids=[row[0] for row in BAD_CHECKPOINTS])
def test_a_bad_checkpoint_is_refused_with_what_to_change(shared: SharedWorkers, case, content, phrase) -> None:
    made = content()
    data = saved(made) if isinstance(made, dict) else made
    result = shared.results(TASK, ["trained_model"], checkpoint=data)["trained_model"]
    assert result.points == 0
    assert phrase in result.message, result.message


def test_an_untrained_generator_loads_and_is_scored_low(shared: SharedWorkers) -> None:
    result = shared.results(TASK, ["trained_model"], checkpoint=saved(generator_state()))["trained_model"]
    assert result.points == 0 and result.message.startswith(f"samples of your {TASK}.pt: conditional_accuracy")
    assert set(result.details) == {"conditional_accuracy", "fid_ratio", "diversity"}
