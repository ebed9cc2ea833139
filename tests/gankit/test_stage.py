"""The statements' training stage agrees with task.toml: written from it where the marker stands, and nothing
else in a statement tells students what the grader's run uses."""

from __future__ import annotations

import re
import tomllib

import pytest

from gankit.catalogue import TASKS_DIR, load_catalogue
from gankit.stage import STAGE_MARKER, describe

CATALOGUE = load_catalogue()
GAN_TASKS = sorted(task_id for task_id, task in CATALOGUE.items() if task.training is not None)
# A sentence that names the grader and one of these is a claim about its run, and could drift from task.toml.
TRAINING_SETTING = re.compile(r"learning rate|\blr\b|Adam|RMSprop|batch|\d+ steps|width=|seed", re.IGNORECASE)


def raw_statement(task_id: str) -> str:
    return (TASKS_DIR / task_id / "statement.md").read_text(encoding="utf-8")


def numbers(text: str) -> set[float]:
    return {float(match) for match in re.findall(r"(?<![\w.])\d+(?:\.\d+)?(?:e-?\d+)?", text)}


@pytest.mark.parametrize("task_id", sorted(CATALOGUE))
def test_the_marker_stands_once_in_every_gan_statement_and_nowhere_else(task_id: str) -> None:
    expected = 1 if task_id in GAN_TASKS else 0
    assert raw_statement(task_id).count(STAGE_MARKER) == expected
    assert STAGE_MARKER not in CATALOGUE[task_id].statement


@pytest.mark.parametrize("task_id", GAN_TASKS)
def test_the_stage_states_every_setting_of_task_toml(task_id: str) -> None:
    """Read task.toml here, apart from the loader, and find each of its numbers in the written stage."""
    config = tomllib.loads((TASKS_DIR / task_id / "task.toml").read_text(encoding="utf-8"))
    text = describe(CATALOGUE[task_id])
    assert text in CATALOGUE[task_id].statement
    stated = numbers(text)
    training = config["training"]
    wanted = {training["d_steps"]} if "d_steps" in training else set()
    wanted |= set(training.get("kwargs", {}).values())
    builder = next((n["name"] for n in config["names"] if n["role"] == "optimizers"), None)
    if builder is not None:  # the student's own: its lr and betas are what they must return
        assert f"your `{builder}(G, D)`" in text
    else:
        wanted |= {training["optimizer"]["lr"], *training["optimizer"].get("betas", ())}
    for budget in config["budgets"].values():
        wanted |= {budget[key] for key in ("steps", "batch_size", "cpu_seconds", "width") if key in budget}
    for thresholds in config["quality"].values():
        wanted |= {thresholds["zero"], thresholds["full"]}
    assert {float(value) for value in wanted} <= stated, f"not stated: {sorted(set(map(float, wanted)) - stated)}"
    assert all(f"`{figure}`" in text for figure in config["quality"])
    scorer = next(n["name"] for n in config["names"] if n["role"] in ("discriminator", "critic"))
    assert f"{scorer}(" in text and "`--seed`" in text


@pytest.mark.parametrize("task_id", sorted(CATALOGUE))
def test_no_other_sentence_states_the_graders_training_settings(task_id: str) -> None:
    text = " ".join(raw_statement(task_id).split())
    claims = [
        sentence
        for sentence in re.split(r"(?<=[.;])\s+", text)
        if re.search(r"\bgrader\b", sentence) and TRAINING_SETTING.search(sentence)
    ]
    assert not claims, f"say it in the written stage instead: {claims}"
