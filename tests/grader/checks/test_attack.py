"""The `attack` check and `targeted_attack`'s interface, graded together on the whole adversarial task: the
reference gets full marks; each buggy attack costs the checks its row names (at least half of `attack` where it
breaks the bounds or does not reach the target, less for a side fault), and nothing else."""

from __future__ import annotations

from typing import NamedTuple

import pytest

from grader.results import CheckResult
from tests.grader.checks.conftest import SharedWorkers, static_checks, with_bug
from tests.grader.variants import PRIMARY, Fault, assert_only_faults

PROJECTION = "x_adv = torch.clamp(x_adv, original - eps, original + eps).clamp(-1.0, 1.0)"


class Variant(NamedTuple):
    name: str
    old: str  # the reference's text
    new: str  # the variant's
    faults: tuple[Fault, ...]  # what it must cost; every other check of the task stays whole


def grade(workers: SharedWorkers, source: str | None = None) -> dict[str, CheckResult]:
    return workers.results("adversarial", static_checks("adversarial"), source)


def test_reference_attack_gets_full_marks(shared_workers: SharedWorkers) -> None:
    assert_only_faults(grade(shared_workers).values(), "adversarial", [])


VARIANTS = [
    Variant(
        "no-clamp-to-the-pixel-range",
        PROJECTION,
        "x_adv = torch.clamp(x_adv, original - eps, original + eps)",
        (Fault("attack", "broke the bounds", PRIMARY), Fault("interface", "pixel range")),
    ),
    Variant(
        "beyond-the-eps-ball",
        PROJECTION,
        "x_adv = x_adv.clamp(-1.0, 1.0)",
        (Fault("attack", "broke the bounds", PRIMARY), Fault("interface", "further than eps")),
    ),
    Variant(
        "wrong-sign",
        "x_adv = x_adv.detach() - step",
        "x_adv = x_adv.detach() + step",
        (Fault("attack", "against the sign of the gradient", PRIMARY),),
    ),
    Variant(
        "untargeted",
        'loss = F.cross_entropy(logits, target, reduction="sum")',
        'loss = -F.cross_entropy(logits, logits.argmax(dim=1), reduction="sum")',
        (Fault("attack", "0% became 9s", PRIMARY),),
    ),
    Variant(
        "only-an-int-target",
        "target = torch.as_tensor(target, device=x.device).long().expand(len(x))",
        "target = torch.full((len(x),), target, device=x.device)",
        (Fault("interface", "(B,) int64 target"),),
    ),
    Variant(
        # squeeze() drops the batch dimension of a batch of one: only the all-black image (one image) fails, a
        # side fault that costs that experiment's share, with a message that names the shapes the grader passes.
        "fails-on-a-batch-of-one",
        "logits = model(x_adv)  # (B, 10)",
        "logits = model(x_adv).squeeze()",
        (Fault("attack", "when called with model mapping (B, 1, 28, 28)", side=True),),
    ),
]


@pytest.mark.parametrize("variant", VARIANTS, ids=[variant.name for variant in VARIANTS])
def test_each_buggy_attack_costs_only_what_it_breaks(shared_workers: SharedWorkers, variant: Variant) -> None:
    results = grade(shared_workers, with_bug("adversarial", variant.old, variant.new))
    assert_only_faults(results.values(), "adversarial", variant.faults)
