"""The `attack` check and `targeted_attack`'s interface: the reference gets full marks; attacks that leave the
pixel range or the eps ball, aim the wrong way or ignore the target lose points in the check that names it."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from gankit.catalogue import Check
from tests.grader.checks.conftest import CATALOGUE, SharedWorkers, full, lost_only, with_bug

PROJECTION = "x_adv = torch.clamp(x_adv, original - eps, original + eps).clamp(-1.0, 1.0)"


@pytest.fixture(scope="module")
def variants(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SharedWorkers]:
    session = SharedWorkers(tmp_path_factory.mktemp("attack"))
    yield session
    session.close()


def small_attack() -> Check:
    """The attack check on fewer images per experiment: buggy attacks take every step, and the verdict is plain."""
    check = next(check for check in CATALOGUE["adversarial"].checks if check.id == "attack")
    return dataclasses.replace(check, params={**check.params, "samples": 12})


def test_reference_attack_gets_full_marks(variants: SharedWorkers) -> None:
    result = variants.results("adversarial", ["attack"])["attack"]
    assert full(result), result.message


def test_attack_without_clamping_to_the_pixel_range(variants: SharedWorkers) -> None:
    source = with_bug("adversarial", PROJECTION, "x_adv = torch.clamp(x_adv, original - eps, original + eps)")
    results = variants.results("adversarial", ["interface", small_attack()], source)
    lost_only(results["interface"], "pixel range")
    assert results["attack"].points < results["attack"].max_points
    assert "broke the bounds" in results["attack"].message


def test_attack_beyond_the_eps_ball(variants: SharedWorkers) -> None:
    source = with_bug("adversarial", PROJECTION, "x_adv = x_adv.clamp(-1.0, 1.0)")
    results = variants.results("adversarial", ["interface", small_attack()], source)
    lost_only(results["interface"], "further than eps")
    assert results["attack"].points < results["attack"].max_points
    assert "broke the bounds" in results["attack"].message


def test_attack_with_the_wrong_sign(variants: SharedWorkers) -> None:
    source = with_bug("adversarial", "x_adv = x_adv.detach() - step", "x_adv = x_adv.detach() + step")
    results = variants.results("adversarial", ["interface", small_attack()], source)
    assert results["attack"].points < 0.5 * results["attack"].max_points
    assert "became 9s" in results["attack"].message and "gradient" in results["attack"].message
    assert full(results["interface"])


def test_untargeted_attack(variants: SharedWorkers) -> None:
    source = with_bug(
        "adversarial",
        'loss = F.cross_entropy(logits, target, reduction="sum")',
        'loss = -F.cross_entropy(logits, logits.argmax(dim=1), reduction="sum")',
    )
    results = variants.results("adversarial", ["interface", small_attack()], source)
    assert results["attack"].points < 0.5 * results["attack"].max_points
    assert full(results["interface"])


def test_attack_that_takes_only_an_int_target(variants: SharedWorkers) -> None:
    source = with_bug(
        "adversarial",
        "target = torch.as_tensor(target, device=x.device).long().expand(len(x))",
        "target = torch.full((len(x),), target, device=x.device)",
    )
    lost_only(variants.results("adversarial", ["interface"], source)["interface"], "(B,) int64 target")
