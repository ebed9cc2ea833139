"""The `train_step` kind: the reference and other correct styles get full marks, and each bug loses the points of
the criterion that names it, and only those, while another check of the same task keeps full marks."""

from __future__ import annotations

from typing import NamedTuple

import pytest

from grader.results import CheckResult
from tests.grader.checks.conftest import (
    SharedWorkers,
    assert_costs_only,
    reference_source,
    signature_variant,
    static_checks,
    with_bug,
)


@pytest.fixture(scope="module")
def grade(shared_workers: SharedWorkers) -> SharedWorkers:
    return shared_workers


def assert_full(result: CheckResult) -> None:
    assert result.points == result.max_points, result.message


@pytest.mark.parametrize(
    ("task_id", "check_id"),
    [
        ("vanilla_gan", "train_step"),
        ("dcgan", "train_step"),
        ("cdcgan", "train_step"),
        ("wgan", "clip_weights"),
        ("wgan", "train_step"),
        ("cwgan_gp", "train_step"),
    ],
)
def test_the_reference_gets_full_marks(grade: SharedWorkers, task_id: str, check_id: str) -> None:
    assert_full(grade.grade(task_id, check_id))


def replace_train_step(task_id: str, body: str) -> str:
    """The reference with the solution of train_step replaced by `body`."""
    source = reference_source(task_id)
    start = source.index("    # BEGIN SOLUTION", source.index("def train_step("))
    end = source.index("    # END SOLUTION", start)
    return source[:start] + body + source[end:]


OTHER_STYLES = {
    # One concatenated D call, fakes generated twice with the global RNG, model.zero_grad with zeros kept,
    # accuracies under no_grad after the step, D frozen during the G step.
    "cdcgan": """
    y = one_hot(labels).to(real.device)
    D.zero_grad(set_to_none=False)
    fake = G(torch.randn(len(real), 100), y).detach()
    logits = D(torch.cat([real, fake]), torch.cat([y, y]))
    loss_D = discriminator_loss(logits[: len(real)], logits[len(real) :])
    loss_D.backward()
    opt_D.step()
    with torch.no_grad():
        acc_real = (D(real, y) > 0).float().mean().item()
        acc_fake = (D(fake, y) < 0).float().mean().item()
    D.requires_grad_(False)
    G.zero_grad()
    loss_G = generator_loss(D(G(torch.randn(len(real), 100), y), y))
    loss_G.backward()
    opt_G.step()
    D.requires_grad_(True)
    return {"loss_D": float(loss_D), "loss_G": float(loss_G), "d_acc_real": acc_real, "d_acc_fake": acc_fake}
""",
    # Gradients zeroed after each step instead of before each backward; the last fakes reused for G.
    "vanilla_gan": """
    for real in real_batches:
        fake = G(sample_latent(len(real), real.device, rng))
        real_logits, fake_logits = D(real), D(fake.detach())
        loss_D = discriminator_loss(real_logits, fake_logits)
        loss_D.backward()
        opt_D.step()
        opt_D.zero_grad()
    loss_G = generator_loss(D(fake))
    loss_G.backward()
    opt_G.step()
    opt_G.zero_grad()
    D.zero_grad()
    acc_real, acc_fake = (real_logits > 0).float().mean().item(), (fake_logits < 0).float().mean().item()
    return {"loss_D": loss_D.item(), "loss_G": loss_G.item(), "d_acc_real": acc_real, "d_acc_fake": acc_fake}
""",
    # .detach() instead of no_grad, zero_grad(set_to_none=False), clipping through .data.
    "wgan": """
    for real in real_batches:
        fake = G(sample_latent(len(real), real.device, rng)).detach()
        opt_C.zero_grad(set_to_none=False)
        loss_C = critic_loss(C(real), C(fake))
        loss_C.backward()
        opt_C.step()
        for p in C.parameters():
            p.data.clamp_(-clip, clip)
    opt_G.zero_grad()
    loss_G = generator_loss(C(G(sample_latent(len(real), real.device, rng))))
    loss_G.backward()
    opt_G.step()
    return {"loss_D": loss_C.item(), "loss_G": loss_G.item()}
""",
    # The penalty gets the attached fakes (it detaches them itself); random labels for the G step.
    "cwgan_gp": """
    for real, labels in zip(real_batches, label_batches):
        y = one_hot(labels)
        fake = G(sample_latent(len(real), real.device, rng), y)
        opt_C.zero_grad()
        penalty = get_gradient_regularisation(C, real, fake, y, lam, rng)
        loss_C = get_WLoss_discriminator(C(real, y), C(fake.detach(), y)) + penalty
        loss_C.backward()
        opt_C.step()
    y = one_hot(torch.randint(0, 10, (len(real),), generator=rng))
    opt_G.zero_grad()
    loss_G = get_WLoss_generator(C(G(sample_latent(len(real), real.device, rng), y), y))
    loss_G.backward()
    opt_G.step()
    return {"loss_D": loss_C.item(), "loss_G": loss_G.item()}
""",
}


@pytest.mark.parametrize("task_id", sorted(OTHER_STYLES))
def test_other_correct_styles_get_full_marks(grade: SharedWorkers, task_id: str) -> None:
    assert_full(grade.grade(task_id, "train_step", replace_train_step(task_id, OTHER_STYLES[task_id])))


CLIP = "        for parameter in critic.parameters():\n            parameter.clamp_(-c, c)"
WEIGHTS_ONLY = (
    "        for name, parameter in critic.named_parameters():\n"
    "            if name.endswith('weight'):\n"
    "                parameter.clamp_(-c, c)"
)
RESCALE = "            parameter.mul_(c / parameter.abs().max().clamp(min=c))"
GP_LOOP = "for real, labels in zip(real_batches, label_batches, strict=True):"
DCGAN_G_STEP = "    loss_G = generator_loss(D(fake))\n    opt_G.zero_grad()\n    loss_G.backward()\n    opt_G.step()\n"
DCGAN_D_STEP = "    real_logits = D(real)\n"
NO_DETACH = "fake_logits = D(G(sample_latent(len(real), real.device, rng)))"
PRIMARY = 0.5  # a fault in the property the check exists for costs at least half of it (SPEC: severity)
SIDE = 0.05  # a side property costs its share, and something


class Bug(NamedTuple):
    task: str
    name: str
    old: str | tuple[str, ...]  # the reference's text (several: each replaced by its counterpart in `new`)
    new: str | tuple[str, ...]  # the buggy text
    faulty: str  # the check that must lose points; every other static check of the task stays whole
    phrase: str  # a phrase of its message
    at_least: float = PRIMARY  # the fraction of the faulty check it must cost


BUGS = [
    Bug(
        "dcgan",
        "no detach and G's gradients zeroed only before the D step",
        ("fake_logits = D(fake.detach())", "    opt_G.zero_grad()\n    loss_G.backward()", "    # (1) Update D"),
        (NO_DETACH, "    loss_G.backward()", "    opt_G.zero_grad()\n    # (1) Update D"),
        "train_step",
        "also applied the gradient of the D loss",
    ),
    Bug(
        "cwgan_gp",
        "no detach and G zeroed only before the critic steps",
        (
            "        with torch.no_grad():\n            fake = G(sample_latent(len(real), real.device, rng), y)",
            "    opt_G.zero_grad()\n    loss_G.backward()",
            "    # (1) Update the critic",
        ),
        (
            "        fake = G(sample_latent(len(real), real.device, rng), y)",
            "    loss_G.backward()",
            "    opt_G.zero_grad()\n    # (1) Update the critic",
        ),
        "train_step",
        "also applied the gradient of the critic loss",
    ),
    Bug(
        "dcgan",
        "G step also steps D",
        "    loss_G.backward()\n    opt_G.step()",
        "    loss_G.backward()\n    opt_D.step()\n    opt_G.step()",
        "train_step",
        "the generator's loss moved D's weights",
    ),
    Bug(
        "cwgan_gp",
        "G step also steps the critic",
        "    opt_G.step()\n",
        "    opt_G.step()\n    opt_C.step()\n",
        "train_step",
        "the generator's loss moved critic's weights",
    ),
    Bug(
        "wgan",
        "critic ascends its loss",
        "        loss_C.backward()",
        "        (-loss_C).backward()",
        "train_step",
        "ascends",
    ),
    Bug("dcgan", "D ascends its loss", "    loss_D.backward()", "    (-loss_D).backward()", "train_step", "ascends"),
    Bug("dcgan", "G ascends its loss", "    loss_G.backward()", "    (-loss_G).backward()", "train_step", "ascends"),
    Bug(
        "cwgan_gp",
        "critic step without the penalty",
        "        loss_C = wasserstein_loss + penalty",
        "        loss_C = wasserstein_loss",
        "train_step",
        "add the gradient penalty",
    ),
    Bug(
        "cwgan_gp",
        "penalty subtracted",
        "        loss_C = wasserstein_loss + penalty",
        "        loss_C = wasserstein_loss - penalty",
        "train_step",
        "add the gradient penalty",
    ),
    Bug(
        "dcgan",
        "G step before the D step",
        (DCGAN_G_STEP + "\n    return", DCGAN_D_STEP),
        ("\n    return", DCGAN_G_STEP + DCGAN_D_STEP),
        "train_step",
        "make the D updates first",
        SIDE,
    ),
    Bug("dcgan", "no zero_grad for D", "    opt_D.zero_grad()\n", "", "train_step", "zero the gradients", SIDE),
    Bug("dcgan", "no zero_grad for G", "    opt_G.zero_grad()\n", "", "train_step", "zero the gradients", SIDE),
    Bug(
        "vanilla_gan", "no zero_grad for D", "        opt_D.zero_grad()\n", "", "train_step", "zero the gradients", SIDE
    ),
    Bug("cwgan_gp", "no zero_grad for C", "        opt_C.zero_grad()\n", "", "train_step", "zero the gradients", SIDE),
    Bug(
        "vanilla_gan",
        "k = 1 D step",
        "for real in real_batches:",
        "for real in real_batches[:1]:",
        "train_step",
        "make 2 D updates",
    ),
    Bug(
        "wgan",
        "n_critic = 1",
        "for real in real_batches:",
        "for real in real_batches[:1]:",
        "train_step",
        "make 3 critic updates",
    ),
    Bug(
        "cwgan_gp",
        "n_critic = 1",
        GP_LOOP,
        GP_LOOP.replace("zip(", "list(zip(").replace("True):", "True))[:1]:"),
        "train_step",
        "make 3 critic updates",
    ),
    Bug(
        "vanilla_gan",
        "generator_loss argument ignored",
        "loss_G = generator_loss(D(",
        "loss_G = generator_loss_nonsaturating(D(",
        "train_step",
        "generator_loss passed to train_step",
    ),
    Bug(
        "wgan",
        "no clipping in train_step",
        "        clip_weights(C, clip)\n",
        "",
        "train_step",
        "call clip_weights(C, clip) after every critic update",
    ),
    # train_step calls the trusted clip_weights in the grader's trace: the helper's fault costs its own check.
    Bug("wgan", "clip_weights clips weights only", CLIP, WEIGHTS_ONLY, "clip_weights", "biases"),
    Bug(
        "wgan",
        "clip_weights rescales",
        "            parameter.clamp_(-c, c)",
        RESCALE,
        "clip_weights",
        "do not rescale",
        0.2,
    ),
    Bug(
        "cdcgan",
        "D scores the fakes without their labels",
        "fake_logits = D(fake.detach(), y)",
        "fake_logits = D(fake.detach(), torch.zeros_like(y))",
        "train_step",
        "condition both networks",
    ),
    Bug(
        "cwgan_gp",
        "critic scores the fakes without their labels",
        "get_WLoss_discriminator(C(real, y), C(fake, y))",
        "get_WLoss_discriminator(C(real, y), C(fake, torch.zeros_like(y)))",
        "train_step",
        "condition both networks",
    ),
    Bug(
        "cdcgan",
        "G makes the fakes for random labels",
        "fake = G(sample_latent(len(real), real.device, rng), y)",
        "fake = G(sample_latent(len(real), real.device, rng), one_hot(torch.randint(0, 10, (len(real),))))",
        "train_step",
        "condition both networks",
    ),
    Bug(
        "dcgan",
        "returns tensors",
        '"loss_D": loss_D.item()',
        '"loss_D": loss_D',
        "train_step",
        "loss_D is missing or not a number",
        SIDE,
    ),
]


def with_bugs(task_id: str, old: str | tuple[str, ...], new: str | tuple[str, ...]) -> str:
    """The reference with each text of `old` replaced in turn, the first edit on the reference itself."""
    olds, news = ((x,) if isinstance(x, str) else x for x in (old, new))
    source = with_bug(task_id, olds[0], news[0])
    for before, after in zip(olds[1:], news[1:], strict=True):
        assert source.count(before) == 1, before
        source = source.replace(before, after)
    return source


@pytest.mark.parametrize("bug", BUGS, ids=[bug.name for bug in BUGS])
def test_each_bug_costs_its_own_check_and_no_other(grade: SharedWorkers, bug: Bug) -> None:
    results = grade.results(bug.task, static_checks(bug.task), with_bugs(bug.task, bug.old, bug.new))
    result = assert_costs_only(results, bug.faulty, bug.at_least)
    assert bug.phrase in result.message and "; " not in result.message, result.message
    if bug.at_least < PRIMARY:
        assert 1 - result.points / result.max_points < PRIMARY, result.message


# Faults of the losses, the penalty and the clipping helper: train_step runs with the trusted ones in their
# place, so each costs its own check and train_step stays whole.
LOSS_FAULTS = [
    (
        "dcgan",
        "discriminator_loss",
        "F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))",
        "F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))",
    ),
    (
        "wgan",
        "critic_loss",
        "return score_fake.mean() - score_real.mean()",
        "return score_real.mean() - score_fake.mean()",
    ),
    ("cwgan_gp", "gradient_penalty", "((norms - 1) ** 2)", "((norms - 1).clamp(min=0) ** 2)"),
]


@pytest.mark.parametrize(("task_id", "faulty", "old", "new"), LOSS_FAULTS, ids=[f[1] for f in LOSS_FAULTS])
def test_a_wrong_loss_costs_its_own_check_not_train_step(
    grade: SharedWorkers, task_id: str, faulty: str, old: str, new: str
) -> None:
    results = grade.results(task_id, static_checks(task_id), with_bug(task_id, old, new))
    assert_costs_only(results, faulty, PRIMARY)


def test_no_detach_with_g_zeroed_before_its_backward_keeps_full_points_with_a_tip(grade: SharedWorkers) -> None:
    """The five public ports that skip detach() but zero G's gradients before G's backward make the same update."""
    source = with_bug("dcgan", "fake_logits = D(fake.detach())", NO_DETACH)
    result = grade.grade("dcgan", "train_step", source)
    assert_full(result)
    assert "tip: detach the fakes" in result.message


def test_the_reference_gets_no_tip(grade: SharedWorkers) -> None:
    assert "tip" not in grade.grade("dcgan", "train_step").message


def test_a_train_step_that_raises_scores_zero_with_its_error(grade: SharedWorkers) -> None:
    source = replace_train_step("dcgan", "    raise ValueError('not done yet')\n")
    result = grade.grade("dcgan", "train_step", source)
    assert result.points == 0 and "not done yet" in result.message


def test_new_optimizers_inside_train_step_are_named(grade: SharedWorkers) -> None:
    source = with_bug(
        "dcgan",
        "    # (1) Update D",
        "    opt_D, opt_G = torch.optim.Adam(D.parameters()), torch.optim.Adam(G.parameters())\n    # (1) Update D",
    )
    result = grade.grade("dcgan", "train_step", source)
    assert result.points < result.max_points and "use opt_G and opt_D passed in" in result.message


SIGNATURES = [
    ("dcgan", "    rng: torch.Generator | None = None,\n) -> dict", ") -> dict", {", rng)": ", None)"}),
    (
        "wgan",
        "    clip: float = 0.01,\n    rng: torch.Generator | None = None,\n",
        "    *args,\n    **kwargs,\n",
        {", rng)": ", kwargs.get('rng'))", "(C, clip)": "(C)"},
    ),
    (
        "cwgan_gp",
        "    lam: float = 10.0,\n    rng: torch.Generator | None = None,\n) -> dict",
        "    lambda_gp: float = 10.0,\n) -> dict",
        {", rng)": ", None)", "lam, None)": "lambda_gp)"},
    ),
]


@pytest.mark.parametrize(("task_id", "old", "new", "renames"), SIGNATURES, ids=[s[0] for s in SIGNATURES])
def test_train_step_without_its_optional_parameters_keeps_full_points(
    grade: SharedWorkers, task_id: str, old: str, new: str, renames: dict[str, str]
) -> None:
    assert_full(grade.grade(task_id, "train_step", signature_variant(task_id, "train_step", old, new, renames)))


def test_clip_weights_without_c_is_judged_at_its_documented_default(grade: SharedWorkers) -> None:
    source = with_bug("wgan", "def clip_weights(critic: nn.Module, c: float = 0.01)", "def clip_weights(critic)")
    source = source.replace("parameter.clamp_(-c, c)", "parameter.clamp_(-0.01, 0.01)")
    assert_full(grade.grade("wgan", "clip_weights", source))
    wrong = source.replace("parameter.clamp_(-0.01, 0.01)", "parameter.clamp_(-0.1, 0.1)")
    result = grade.grade("wgan", "clip_weights", wrong)
    assert 1 - result.points / result.max_points >= PRIMARY, result.message
