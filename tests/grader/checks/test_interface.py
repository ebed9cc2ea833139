"""The `interface` checks: every reference gets full marks; each variant in `VARIANTS` loses points in the check
that names its fault (with a sentence that says so, at least half of it for a primary fault) while every other
static check of its task stays whole; correct variants in other styles keep full marks, and a function without a
documented optional parameter loses only the small signature share of the interface check."""

from __future__ import annotations

from typing import NamedTuple

import pytest

from gankit.catalogue import SCORER_ROLES
from grader.advice import advise
from grader.checks.interface import CONTRACTS
from grader.checks.interface.optimal_d import parse_value
from grader.results import CheckResult
from tests.grader.checks.conftest import (
    CATALOGUE,
    SharedWorkers,
    assert_costs_only,
    full,
    reference_source,
    static_checks,
    with_bug,
)


@pytest.fixture(scope="module")
def variants(shared_workers: SharedWorkers) -> SharedWorkers:
    return shared_workers


INTERFACE_CHECKS = {
    task_id: [check.id for check in task.checks if check.kind == "interface"] for task_id, task in CATALOGUE.items()
}
SCORER_TASKS = sorted(
    task_id
    for task_id, task in CATALOGUE.items()
    for check in task.checks
    if check.kind == "interface"
    and any(task.named(name).role in SCORER_ROLES for name in check.params.get("networks", []))
)


def test_every_catalogued_name_has_a_contract() -> None:
    for task in CATALOGUE.values():
        for check in task.checks:
            if check.kind == "interface":
                assert all(task.named(name).role in CONTRACTS for name in check.params.get("networks", []))
                assert all(task.named(name).role in CONTRACTS for name in check.params.get("functions", []))


def test_every_task_with_optional_parameters_judges_signatures_once() -> None:
    for task in CATALOGUE.values():
        judged = [c.id for c in task.checks if c.kind == "interface" and c.params.get("signatures")]
        documented = any(task.optional_parameters(item.name) for item in task.names)
        assert len(judged) == (1 if documented else 0), (task.id, judged)


def test_values_are_read_from_task_parameters() -> None:
    assert parse_value("-log 4") == pytest.approx(-1.3862943611198906)
    assert parse_value("log 2") == pytest.approx(0.6931471805599453)
    assert parse_value(0.5) == 0.5
    with pytest.raises(ValueError):
        parse_value("exp(2)")


@pytest.mark.parametrize("task_id", [task_id for task_id, checks in INTERFACE_CHECKS.items() if checks])
def test_reference_gets_full_marks(variants: SharedWorkers, task_id: str) -> None:
    for check_id, result in variants.results(task_id, INTERFACE_CHECKS[task_id]).items():
        assert full(result), f"{task_id}/{check_id}: {result.points}/{result.max_points}: {result.message}"
        assert "tip" not in result.message, result.message


PRIMARY = 0.5  # a fault in the property a sub-contract exists for costs at least half of the check (SPEC)
SIDE = 0.01  # a side property costs its share, something but less than half
SIGNATURE_SHARE = 0.25  # a missing optional parameter costs at most this much of the interface check


class Variant(NamedTuple):
    task: str
    name: str
    old: str | tuple[str, ...]  # the reference's text (several: each replaced by its counterpart in `new`)
    new: str | tuple[str, ...]
    faulty: str  # the check that must lose points; every other static check of the task stays whole
    phrase: str  # a phrase of its message
    at_least: float = PRIMARY  # the fraction of the faulty check it must cost
    at_most: float = 1.0  # and the most it may cost


def edited(task_id: str, old: str | tuple[str, ...], new: str | tuple[str, ...]) -> str:
    """The reference with each text of `old` replaced by its counterpart in `new`, each found exactly once."""
    olds, news = ((x,) if isinstance(x, str) else x for x in (old, new))
    source = reference_source(task_id)
    for before, after in zip(olds, news, strict=True):
        assert source.count(before) == 1, f"reference/{task_id}.py no longer contains the edited text once: {before!r}"
        source = source.replace(before, after)
    return source


def side(
    task: str, name: str, old: str | tuple[str, ...], new: str | tuple[str, ...], faulty: str, phrase: str
) -> Variant:
    """A fault in a side property: its share of the check, less than half."""
    return Variant(task, name, old, new, faulty, phrase, SIDE, PRIMARY)


def signature(task: str, name: str, old: str | tuple[str, ...], new: str | tuple[str, ...], phrase: str) -> Variant:
    """A correct function or class without one of its documented optional parameters: the signature share only."""
    return Variant(task, name, old, new, "interface", phrase, SIDE, SIGNATURE_SHARE)


SQUASHED = "no sigmoid or tanh at the end"
# Where each scorer's last layer is and what its forward returns, per task: a sigmoid module is appended to the
# first, a tanh wraps the second.
SCORER_ENDS = {
    "dcgan": ("nn.Linear(2 * width * 4 * 4, 1),  # (B, 1)", "return self.body(x).squeeze(1)  # (B,)"),
    "cdcgan": (None, "return self.unconditional(h).squeeze(1) + (self.embed(y) * h).sum(dim=1)  # (B,)"),
    "wgan": ("nn.Linear(4 * width * 16, 1),  # (B, 1)", "return self.body(x).squeeze(1)  # (B,)"),
    "cwgan_gp": (
        "nn.Linear(2 * width * 7 * 7, 1),  # (B, 1)",
        "return self.body(torch.cat([x, label_maps], dim=1)).squeeze(1)  # (B,)",
    ),
    "vanilla_gan": ("nn.Linear(hidden, 1),  # (B, 1)", "return self.net(x).squeeze(1)  # (B,)"),
}


def squashed(task: str, how: str) -> Variant:
    """The task's scorer ending in a sigmoid (a module where it has a final layer to follow) or a tanh."""
    last, returned = SCORER_ENDS[task]
    if how == "sigmoid" and last is not None:
        old, new = last, f"{last}\n            nn.Sigmoid(),"
    else:
        old, new = returned, returned.replace("return ", f"return torch.{how}(").replace("  # (B,)", ")  # (B,)")
    return side(task, f"scores through {how}", old, new, "interface", SQUASHED)


DCGAN_UPSAMPLE = (
    "nn.ConvTranspose2d(2 * width, width, 4, stride=2, padding=1, bias=False),  # (B, w, 14, 14)",
    "nn.ConvTranspose2d(width, 1, 4, stride=2, padding=1),  # (B, 1, 28, 28)",
)
CRITIC_BODY = "        # BEGIN SOLUTION\n        self.body"

VARIANTS = [
    *(squashed(task, how) for task in SCORER_TASKS for how in ("sigmoid", "tanh")),
    side(
        "cdcgan",
        "G ignores the labels",
        "torch.cat([z, 5.0 * y], dim=1)",
        "torch.cat([z, 0 * y], dim=1)",
        "interface",
        "Generator ignores y",
    ),
    side(
        "cdcgan",
        "G embeds the argmax of y",
        "torch.cat([z, 5.0 * y], dim=1)",
        "torch.cat([z, 5.0 * one_hot(y.argmax(dim=1)).to(z)], dim=1)",
        "interface",
        "two soft label vectors with the same argmax",
    ),
    side(
        "cwgan_gp",
        "G embeds the argmax of y",
        "        h = self.project(torch.cat([z, y], dim=1))",
        "        y = one_hot(y.argmax(dim=1)).to(z)\n        h = self.project(torch.cat([z, y], dim=1))",
        "interface",
        "two soft label vectors with the same argmax",
    ),
    side(
        "dcgan",
        "G upsamples with Upsample and Conv2d",
        DCGAN_UPSAMPLE,
        (
            "nn.Upsample(scale_factor=2), nn.Conv2d(2 * width, width, 3, padding=1, bias=False),",
            "nn.Upsample(scale_factor=2), nn.Conv2d(width, 1, 3, padding=1),",
        ),
        "interface",
        "Generator must upsample with nn.ConvTranspose2d",
    ),
    Variant(
        "cdcgan",
        "D returns a column",
        "self.unconditional(h).squeeze(1) + (self.embed(y) * h).sum(dim=1)",
        "self.unconditional(h) + (self.embed(y) * h).sum(dim=1, keepdim=True)",
        "interface",
        "(B,), not (B, 1)",
    ),
    side(
        "cdcgan",
        "generate leaves G's range",
        "return to_unit_numpy(images)",
        "return images.squeeze(1).numpy()",
        "interface",
        "[0, 1]",
    ),
    side(
        "cdcgan",
        "generate returns a tensor",
        "return to_unit_numpy(images)",
        "return (images.squeeze(1) + 1) / 2",
        "interface",
        "numpy.ndarray",
    ),
    side(
        "dcgan",
        "generate raises",
        "return to_unit_numpy(G(sample_latent(n, device, rng)))",
        "raise RuntimeError('not yet')",
        "interface",
        "generate(G, n) raised RuntimeError: not yet",
    ),
    Variant(
        "cdcgan",
        "interpolate runs backwards",
        "z = (1 - t) * z0 + t * z1",
        "z = t * z0 + (1 - t) * z1",
        "interpolation",
        "the first image of interpolate(G, z0, z1, y0, y1) must be G(z0, y0)",
    ),
    Variant(
        "cdcgan",
        "opt_D at lr 2e-4",
        "torch.optim.Adam(D.parameters(), lr=1e-4, betas=(0.5, 0.999))",
        "torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))",
        "optimizers",
        "opt_D has learning rate 0.0002",
    ),
    Variant(
        "cdcgan",
        "opt_G over D's parameters",
        "torch.optim.Adam(G.parameters(), lr=1e-4, betas=(0.5, 0.999))",
        "torch.optim.Adam(D.parameters(), lr=1e-4, betas=(0.5, 0.999))",
        "optimizers",
        "opt_G holds the other network's parameters",
    ),
    Variant(
        "optimal_d",
        "optimal_value of the wrong sign",
        "return -math.log(4.0)",
        "return math.log(4.0)",
        "optimal_value",
        "optimal_value() returned 1.38629",
        0.75,
    ),
    side(
        "evaluation",
        "features outside eval mode",
        "with evaluating(model):",
        "with torch.no_grad():",
        "extract_features",
        "eval mode",
    ),
    Variant(
        "evaluation",
        "generated_accuracy against class 0",
        "(classifier(images).argmax(dim=1) == c)",
        "(classifier(images).argmax(dim=1) == 0)",
        "generated_accuracy",
        "correctly classified real images of the requested class",
        1.0,
    ),
    signature(
        "dcgan",
        "generate without rng",
        (
            "def generate(G: nn.Module, n: int, rng: torch.Generator | None = None)",
            "G(sample_latent(n, device, rng))",
        ),
        ("def generate(G: nn.Module, n: int)", "G(sample_latent(n, device))"),
        "generate has no parameter rng (documented: rng=None): the grader calls it without it",
    ),
    signature(
        "cdcgan",
        "generate(G, n, c) without rng",
        (
            "def generate(G: nn.Module, n: int, c: int, rng: torch.Generator | None = None)",
            "sample_latent(n, device, rng)",
        ),
        ("def generate(G: nn.Module, n: int, c: int)", "sample_latent(n, device)"),
        "generate has no parameter rng (documented: rng=None)",
    ),
    signature(
        "cdcgan",
        "interpolate with its own 6 steps",
        ("    steps: int = 6,\n) -> np.ndarray:", "    device = next(G.parameters()).device\n    t = torch.linspace"),
        (") -> np.ndarray:", "    steps = 6\n    device = next(G.parameters()).device\n    t = torch.linspace"),
        "interpolate has no parameter steps (documented: steps=6)",
    ),
    signature(
        "cwgan_gp",
        "penalty without lam",
        (
            "    lam: float = 10.0,\n    rng: torch.Generator | None = None,\n) -> torch.Tensor:",
            "return lam * ((norms - 1) ** 2).mean()",
            "get_gradient_regularisation(C, real, fake, y, lam, rng)",
        ),
        (
            "    rng: torch.Generator | None = None,\n) -> torch.Tensor:",
            "return 10.0 * ((norms - 1) ** 2).mean()",
            "get_gradient_regularisation(C, real, fake, y, rng=rng)",
        ),
        "get_gradient_regularisation has no parameter lam (documented: lam=10.0)",
    ),
    signature(
        "wgan",
        "Critic without width",
        f"    def __init__(self, width: int = 64) -> None:\n        super().__init__()\n{CRITIC_BODY}",
        f"    def __init__(self) -> None:\n        super().__init__()\n        width = 64\n{CRITIC_BODY}",
        "Critic has no parameter width (documented: width=64)",
    ),
    signature(
        "vanilla_gan",
        "Discriminator without hidden",
        "    def __init__(self, hidden: int = 256) -> None:\n        super().__init__()\n        # BEGIN SOLUTION\n"
        "        self.net = nn.Sequential(\n            nn.Flatten(),",
        "    def __init__(self) -> None:\n        super().__init__()\n        hidden = 256\n        # BEGIN SOLUTION\n"
        "        self.net = nn.Sequential(\n            nn.Flatten(),",
        "Discriminator has no parameter hidden (documented: hidden=256)",
    ),
    signature(
        "evaluation",
        "generated_accuracy without rng",
        (
            "n_per_class: int = 100, rng: torch.Generator | None = None\n) -> float:",
            "sample_latent(n_per_class, device, rng)",
        ),
        ("n_per_class: int = 100\n) -> float:", "sample_latent(n_per_class, device)"),
        "generated_accuracy has no parameter rng (documented: rng=None)",
    ),
]


def assert_variant(results: dict[str, CheckResult], variant: Variant) -> None:
    result = assert_costs_only(results, variant.faulty, variant.at_least)
    assert variant.phrase in result.message, result.message
    assert 1 - result.points / result.max_points <= variant.at_most + 1e-9, result.message
    if variant.at_least < 1:  # one fault, one sentence
        assert "; " not in result.message, result.message


@pytest.mark.parametrize("variant", VARIANTS, ids=[f"{v.task}: {v.name}" for v in VARIANTS])
def test_each_variant_costs_its_own_check_and_no_other(variants: SharedWorkers, variant: Variant) -> None:
    source = edited(variant.task, variant.old, variant.new)
    assert_variant(variants.results(variant.task, static_checks(variant.task), source), variant)


# Networks that raise: the network's primary criterion fails with one sentence that leads with what to change.
RAISING = [
    ("dcgan", "nn.Linear(2 * width * 4 * 4, 1)", "nn.Linear(2 * width * 3 * 3, 1)", "mat1 and mat2 shapes"),
    ("cdcgan", "def forward(self, x: torch.Tensor, y: torch.Tensor)", "def forward(self, x: torch.Tensor)", "given"),
]


@pytest.mark.parametrize(("task_id", "old", "new", "said"), RAISING, ids=[r[0] for r in RAISING])
def test_a_network_that_raises_is_told_what_to_change(
    variants: SharedWorkers, task_id: str, old: str, new: str, said: str
) -> None:
    result = variants.grade(task_id, "interface", with_bug(task_id, old, new))
    assert 0 < result.points <= PRIMARY * result.max_points, result.message
    assert "; " not in result.message and "Discriminator(x" in result.message, result.message
    advice = advise(result.message)
    assert advice and result.message.index(advice) < result.message.index(said), result.message


OTHER_STYLES = [
    # steps through **kwargs (or *args): the grader passes it by name
    (
        "cdcgan",
        ("    steps: int = 6,\n) -> np.ndarray:", "    device = next(G.parameters()).device\n    t = torch.linspace"),
        (
            "    *args: int,\n    **kwargs: int,\n) -> np.ndarray:",
            "    steps = kwargs.get('steps', args[0] if args else 6)\n"
            "    device = next(G.parameters()).device\n    t = torch.linspace",
        ),
    ),
    # steps under another name at its documented place: passed by position
    (
        "cdcgan",
        ("    steps: int = 6,\n) -> np.ndarray:", "1.0, steps + 2,"),
        ("    n: int = 6,\n) -> np.ndarray:", "1.0, n + 2,"),
    ),
    # rng through **kwargs
    (
        "dcgan",
        (
            "def generate(G: nn.Module, n: int, rng: torch.Generator | None = None)",
            "G(sample_latent(n, device, rng))",
        ),
        ("def generate(G: nn.Module, n: int, **kwargs: torch.Generator)", "G(sample_latent(n, device, kwargs['rng']))"),
    ),
]


@pytest.mark.parametrize(("task_id", "old", "new"), OTHER_STYLES)
def test_other_correct_styles_get_full_marks(
    variants: SharedWorkers, task_id: str, old: tuple[str, ...], new: tuple[str, ...]
) -> None:
    for check_id, result in variants.results(task_id, static_checks(task_id), edited(task_id, old, new)).items():
        assert full(result), (check_id, result.message)


def critic_source(task_id: str, width: int, norm: str, seed: int) -> str:
    """The reference of `task_id` with its scorer replaced by a correct convolutional one of default `width`, with
    BatchNorm, LayerNorm or no norm layer, initialised from the student's own `seed`."""
    task = CATALOGUE[task_id]
    name = task.playing(*SCORER_ROLES).name
    labels = 10 if task.conditional else 0
    norms = {"none": "", "bn": "nn.BatchNorm2d(out), ", "ln": "nn.LayerNorm([out, side, side]), "}
    arguments = "num_classes: int = 10, " if task.conditional else ""
    inputs = "torch.cat([x, y[:, :, None, None].expand(-1, -1, *x.shape[2:])], dim=1)" if labels else "x"
    critic = f"""class {name}(nn.Module):
    def __init__(self, {arguments}width: int = {width}) -> None:
        super().__init__()
        torch.manual_seed({seed})  # the student's own seed: another initialisation
        layers, channels, side = [], 1 + {labels}, {task.image_size}
        for out in (width, 2 * width, 4 * width):
            side //= 2
            layers += [nn.Conv2d(channels, out, 4, 2, 1), {norms[norm]}nn.LeakyReLU(0.2)]
            channels = out
        self.body = nn.Sequential(*layers, nn.Flatten(), nn.Linear(channels * side * side, 1))

    def forward(self, x: torch.Tensor{", y: torch.Tensor" if labels else ""}) -> torch.Tensor:
        return self.body({inputs}).squeeze(1)
"""
    source = reference_source(task_id)
    start = source.index(f"class {name}(nn.Module):")
    end = source.index("\n\n\ndef ", start)
    return source[:start] + critic + source[end:]


@pytest.mark.parametrize("width", [8, 64, 128])
@pytest.mark.parametrize("norm", ["none", "bn", "ln"])
@pytest.mark.parametrize("task_id", ["wgan", "cwgan_gp", "dcgan"])
def test_correct_scorers_of_any_width_norm_and_seed_are_not_squashed(
    variants: SharedWorkers, task_id: str, norm: str, width: int
) -> None:
    for seed in range(3):
        result = variants.grade(task_id, "interface", critic_source(task_id, width, norm, seed))
        assert full(result), (seed, result.message)
