import importlib
import json

import numpy as np
import pytest
import torch

from gankit.catalogue import load_catalogue
from gankit.data import load_dataset
from gankit.training import GanRun, GanSpec

GAN_TASKS = sorted(task_id for task_id, task in load_catalogue().items() if task.training is not None)


def short_run(task_id: str, batch_size: int = 16) -> GanRun:
    task = load_catalogue()[task_id]
    images, labels = load_dataset(task.dataset, "train", size=task.image_size)
    module = importlib.import_module(f"reference.{task_id}")
    return GanRun(GanSpec.of(task), module, images[:2000], labels[:2000], batch_size=batch_size, seed=0)


@pytest.mark.parametrize("task_id", GAN_TASKS)
def test_a_few_real_steps_move_both_losses_and_stay_finite(task_id):
    run = short_run(task_id)
    before = [p.detach().clone() for p in run.G.parameters()]
    for _ in range(4):
        run.train_step()
    losses_D = [record["loss_D"] for record in run.history]
    losses_G = [record["loss_G"] for record in run.history]
    assert np.isfinite(losses_D + losses_G).all()
    assert len(set(losses_D)) > 1 and len(set(losses_G)) > 1
    assert any(not torch.equal(a, b) for a, b in zip(before, run.G.parameters(), strict=True))
    assert [record["step"] for record in run.history] == [1, 2, 3, 4]


def test_checkpoint_round_trip_resumes_identically():
    run = short_run("dcgan")
    run.train_step()
    state = run.state_dict()
    resumed = short_run("dcgan")
    resumed.load_state_dict(state)
    assert run.train_step()["loss_D"] == resumed.train_step()["loss_D"]


def test_samples_per_class_for_conditional_and_unconditional_tasks():
    conditional = short_run("cdcgan")
    images, labels = conditional.samples_per_class(3)
    assert images.shape == (30, 1, 32, 32) and labels.tolist() == [c for c in range(10) for _ in range(3)]
    unconditional = short_run("dcgan")
    images, labels = unconditional.samples_per_class(2)
    assert images.shape == (20, 1, 28, 28) and (labels == -1).all()


@pytest.mark.parametrize("task_id", GAN_TASKS)
def test_the_spec_sent_into_the_sandbox_comes_back_as_it_left(task_id: str) -> None:
    """What the training probes rebuild from plain values is the task's own call form and names."""
    spec = GanSpec.of(load_catalogue()[task_id])
    assert GanSpec.from_plain(json.loads(json.dumps(spec.to_plain()))) == spec
