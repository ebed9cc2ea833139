import dataclasses
import importlib
import inspect
import re
import shutil

import pytest

from gankit.catalogue import TASKS_DIR, Optimizer, TaskSchemaError, load_catalogue, load_task

SPEC_TASKS = {"optimal_d", "vanilla_gan", "dcgan", "cdcgan", "wgan", "cwgan_gp", "evaluation", "adversarial"}


def test_all_eight_tasks_load_through_the_schema():
    catalogue = load_catalogue()
    assert set(catalogue) == SPEC_TASKS
    for task in catalogue.values():
        assert task.statement.strip()
        assert task.total_points > 0
        assert (TASKS_DIR.parent / "reference" / task.student_file).is_file()


def test_gan_tasks_have_budgets_for_both_devices():
    for task in load_catalogue().values():
        if task.training is not None:
            cpu, cuda = task.budget("cpu"), task.budget("cuda")
            # A GPU takes batches at least as large; a CPU budget may shrink the networks instead of the batch.
            assert cuda.batch_size >= cpu.batch_size
            assert (cpu.width or 64) <= (cuda.width or 64)


@pytest.fixture
def task_copy(tmp_path):
    folder = tmp_path / "cdcgan"
    shutil.copytree(TASKS_DIR / "cdcgan", folder)
    return folder


def edit(folder, old, new):
    path = folder / "task.toml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


@pytest.mark.parametrize(
    "old, new, message",
    [
        ("points = 2\n", "points = -1\n", r"task.toml: checks\[0\].points: -1 is less than or equal to the minimum"),
        ('kind = "interface"', 'kind = "vibes"', r"checks\[0\].kind: 'vibes' is not one of"),
        ('dataset = "fashion-mnist"', 'dataset = "cifar"', r"dataset: 'cifar' is not one of"),
        ('id = "cdcgan"', 'id = "other"', r"id: 'other' must equal the folder name 'cdcgan'"),
        ("conditional = true\n", "conditional = true\ncolour = 1\n", r"\(top level\): Additional properties"),
        ('id = "written"', 'id = "interface"', r"checks: duplicate entries \['interface'\]"),
        ("[budgets.cpu]", "[budgets.gpu]", r"budgets: 'cpu' is a required property"),
        ("points = 8\n", "points = 9\n", r"manual points 9 differ from the 8 points in questions.md"),
        ("title = ", "title = = ", r"not valid TOML"),
        ('role = "generator"', 'role = "generate"', r"names: Generator: a class plays a network role"),
        ('role = "train_step"', 'role = "loss"', r"\[training\] needs a name in the role train_step"),
        (
            'real = "batch"',
            'real = "batch"\nd_steps = 2',
            r"training.d_steps: is 1 when train_step takes one",
        ),
        ('role = "optimizers"', 'role = "optimiser"', r"names\[4\].role: 'optimiser' is not one of"),
        ('kind = "adam"', 'kind = "sgd"', r"training.optimizer.kind: 'sgd' is not one of"),
        ("params = { quality = {", "params = { thresholds = {", r"trained_model: params.quality, the thresholds"),
        ("fid_ratio = { zero = 200.0, full = 90.0 }, div", "fid_ratio = { zero = 200 }, div", "fid_ratio needs"),
    ],
)
def test_schema_errors_name_the_file_and_the_field(task_copy, old, new, message):
    edit(task_copy, old, new)
    with pytest.raises(TaskSchemaError, match=message) as caught:
        load_task(task_copy)
    assert str(task_copy / "task.toml") in str(caught.value)


def test_missing_statement_is_reported(task_copy):
    (task_copy / "statement.md").unlink()
    with pytest.raises(TaskSchemaError, match="statement.md is missing"):
        load_task(task_copy)


def test_the_contract_is_typed_and_frozen():
    """Names, roles and the call form reach the grader as frozen dataclasses, found by role, not by name."""
    task = load_catalogue()["wgan"]
    assert task.playing("discriminator", "critic").name == "Critic"
    assert task.playing("train_step").optional == [("clip", 0.01), ("rng", None)]
    assert task.training.batched and task.training.d_steps == 5 and task.training.kwargs == {"clip": 0.01}
    assert task.training.optimizer == Optimizer("rmsprop", 5e-5)
    assert task.named("critic_loss").formula == "wasserstein_critic" and task.with_role("optimizers") is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        task.training.real = "batch"
    with pytest.raises(TypeError):
        task.training.kwargs["clip"] = 1.0
    with pytest.raises(KeyError, match="names nothing in the role generate"):
        task.playing("generate")


def test_training_section_is_required_for_training_checks(task_copy):
    text = (task_copy / "task.toml").read_text()
    (task_copy / "task.toml").write_text(text[: text.index("[training]")])
    with pytest.raises(TaskSchemaError, match="training: required when a check has kind 'training_quality'"):
        load_task(task_copy)


@pytest.mark.parametrize("task_id", sorted(SPEC_TASKS))
def test_signatures_in_task_toml_match_the_reference(task_id):
    """The constructor or function parameters a statement prints are the ones the reference declares."""
    task = load_catalogue()[task_id]
    module = importlib.import_module(f"reference.{task_id}")
    for entry in task.names:
        printed = re.search(r"\((.*?)\)", entry.signature).group(1)
        declared = [p.split("=")[0].strip() for p in printed.split(",") if p.strip()]
        assert declared == list(inspect.signature(getattr(module, entry.name)).parameters), entry.name
