"""The `train_step` kind: the reference and other correct styles get full marks, and each bug loses the points of
the criterion that names it, and only those, while another check of the same task keeps full marks."""

from __future__ import annotations

from typing import NamedTuple

import pytest

from grader.checks import load_all
from grader.run_checks import CheckResult
from tests.grader.checks.conftest import CATALOGUE, SharedWorkers, reference_source, with_bug


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


class Bug(NamedTuple):
    task: str
    name: str
    old: str  # the reference's text
    new: str  # the buggy text
    faulty: str  # the check that must lose points
    phrase: str  # a phrase of its message
    control: str  # a check of the same task that must keep full marks


BUGS = [
    Bug(
        "dcgan",
        "D step without detach",
        "fake_logits = D(fake.detach())",
        "fake_logits = D(G(sample_latent(len(real), real.device, rng)))",
        "train_step",
        "detach the fakes",
        "discriminator_loss",
    ),
    Bug(
        "cwgan_gp",
        "critic step without detach",
        "        with torch.no_grad():\n            fake = G(sample_latent(len(real), real.device, rng), y)",
        "        fake = G(sample_latent(len(real), real.device, rng), y)",
        "train_step",
        "detach the fakes",
        "gradient_penalty",
    ),
    Bug(
        "dcgan",
        "G step also steps D",
        "    loss_G.backward()\n    opt_G.step()",
        "    loss_G.backward()\n    opt_D.step()\n    opt_G.step()",
        "train_step",
        "changed D's weights",
        "discriminator_loss",
    ),
    Bug(
        "cwgan_gp",
        "G step also steps the critic",
        "    opt_G.step()\n",
        "    opt_G.step()\n    opt_C.step()\n",
        "train_step",
        "changed critic's weights",
        "gradient_penalty",
    ),
    Bug(
        "dcgan",
        "no zero_grad for D",
        "    opt_D.zero_grad()\n",
        "",
        "train_step",
        "zero the gradients",
        "discriminator_loss",
    ),
    Bug(
        "dcgan",
        "no zero_grad for G",
        "    opt_G.zero_grad()\n",
        "",
        "train_step",
        "zero the gradients",
        "generator_loss",
    ),
    Bug(
        "vanilla_gan",
        "no zero_grad for D",
        "        opt_D.zero_grad()\n",
        "",
        "train_step",
        "zero the gradients",
        "discriminator_loss",
    ),
    Bug(
        "cwgan_gp",
        "no zero_grad for C",
        "        opt_C.zero_grad()\n",
        "",
        "train_step",
        "zero the gradients",
        "gradient_penalty",
    ),
    Bug(
        "vanilla_gan",
        "k = 1 D step",
        "for real in real_batches:",
        "for real in real_batches[:1]:",
        "train_step",
        "make 2 D updates",
        "discriminator_loss",
    ),
    Bug(
        "wgan",
        "n_critic = 1",
        "for real in real_batches:",
        "for real in real_batches[:1]:",
        "train_step",
        "make 3 critic updates",
        "clip_weights",
    ),
    Bug(
        "cwgan_gp",
        "n_critic = 1",
        GP_LOOP,
        GP_LOOP.replace("zip(", "list(zip(").replace("True):", "True))[:1]:"),
        "train_step",
        "make 3 critic updates",
        "gradient_penalty",
    ),
    Bug(
        "vanilla_gan",
        "generator_loss argument ignored",
        "loss_G = generator_loss(D(",
        "loss_G = generator_loss_nonsaturating(D(",
        "train_step",
        "generator_loss passed to train_step",
        "discriminator_loss",
    ),
    Bug(
        "wgan",
        "no clipping in train_step",
        "        clip_weights(C, clip)\n",
        "",
        "train_step",
        "call clip_weights(C, clip) after every critic update",
        "clip_weights",
    ),
    Bug("wgan", "clip_weights clips weights only", CLIP, WEIGHTS_ONLY, "clip_weights", "biases", "critic_loss"),
    Bug(
        "wgan",
        "clip_weights rescales",
        "            parameter.clamp_(-c, c)",
        RESCALE,
        "clip_weights",
        "do not rescale",
        "train_step",
    ),
    Bug(
        "cdcgan",
        "D scores the fakes without their labels",
        "fake_logits = D(fake.detach(), y)",
        "fake_logits = D(fake.detach(), torch.zeros_like(y))",
        "train_step",
        "condition both networks",
        "discriminator_loss",
    ),
    Bug(
        "cwgan_gp",
        "critic scores the fakes without their labels",
        "get_WLoss_discriminator(C(real, y), C(fake, y))",
        "get_WLoss_discriminator(C(real, y), C(fake, torch.zeros_like(y)))",
        "train_step",
        "condition both networks",
        "gradient_penalty",
    ),
    Bug(
        "cdcgan",
        "G makes the fakes for random labels",
        "fake = G(sample_latent(len(real), real.device, rng), y)",
        "fake = G(sample_latent(len(real), real.device, rng), one_hot(torch.randint(0, 10, (len(real),))))",
        "train_step",
        "condition both networks",
        "discriminator_loss",
    ),
]


@pytest.mark.parametrize("bug", BUGS, ids=[bug.name for bug in BUGS])
def test_each_bug_costs_its_own_criterion(grade: SharedWorkers, bug: Bug) -> None:
    source = with_bug(bug.task, bug.old, bug.new)
    result = grade.grade(bug.task, bug.faulty, source)
    assert 0 < result.points < result.max_points, result.message
    assert bug.phrase in result.message and "; " not in result.message, result.message
    control = next(c for c in CATALOGUE[bug.task].checks if c.id == bug.control)
    if control.kind in load_all():  # a control of a kind written elsewhere may not exist yet
        assert_full(grade.grade(bug.task, bug.control, source))


def test_the_clip_weights_bug_also_shows_in_train_step_and_nowhere_else(grade: SharedWorkers) -> None:
    result = grade.grade("wgan", "train_step", with_bug("wgan", CLIP, WEIGHTS_ONLY))
    assert 0 < result.points < result.max_points
    assert result.message.startswith("call clip_weights(C, clip)") and "; " not in result.message


def test_returning_tensors_costs_only_the_result_criterion(grade: SharedWorkers) -> None:
    source = with_bug("dcgan", '"loss_D": loss_D.item()', '"loss_D": loss_D')
    result = grade.grade("dcgan", "train_step", source)
    assert 0 < result.points < result.max_points
    assert "loss_D is missing or not a number" in result.message


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
