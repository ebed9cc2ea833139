import copy

import pytest
import torch
import torch.nn as nn

from gankit.catalogue import TASKS_DIR, load_task
from gankit.classifier import load_frozen_classifier
from gankit.data import load_dataset
from reference import adversarial


@pytest.fixture(scope="module")
def mnist():
    """The frozen MNIST classifier and the first 300 test digits (about 30 of them 4s)."""
    model, _ = load_frozen_classifier("mnist")
    images, labels = load_dataset("mnist", "test")
    return model, images[:300], labels[:300]


def assert_within_budget(x_adv: torch.Tensor, x: torch.Tensor, eps: float) -> None:
    assert x_adv.shape == x.shape and x_adv.dtype == x.dtype
    assert (x_adv - x).abs().amax().item() <= eps + 1e-6
    assert x_adv.min() >= -1 and x_adv.max() <= 1
    assert not x_adv.requires_grad


def test_most_fours_become_nines_within_eps_0_3(mnist):
    model, images, labels = mnist
    fours = images[labels == 4]
    x_adv = adversarial.targeted_attack(model, fours, 9, eps=0.3, steps=20)
    assert_within_budget(x_adv, fours, 0.3)
    assert (model(fours).argmax(dim=1) == 4).all()
    assert (model(x_adv).argmax(dim=1) == 9).float().mean() >= 0.9


@pytest.mark.parametrize("start", ["black", "white", "uniform"])
def test_budget_and_range_hold_from_the_edges_of_the_range(mnist, start):
    model = mnist[0]
    x = {
        "black": torch.full((4, 1, 28, 28), -1.0),
        "white": torch.full((4, 1, 28, 28), 1.0),
        "uniform": torch.rand(4, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1,
    }[start]
    assert_within_budget(adversarial.targeted_attack(model, x, 9, eps=0.2, steps=5), x, 0.2)


def test_per_sample_targets_x_and_model_left_unchanged_and_no_grad_context():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 10)).eval()  # parameters require grad
    before = copy.deepcopy(model.state_dict())
    x = torch.rand(3, 1, 28, 28) * 2 - 1
    x_copy = x.clone()
    with torch.no_grad():
        x_adv = adversarial.targeted_attack(model, x, torch.tensor([1, 2, 3]), eps=0.5, steps=10)
    assert_within_budget(x_adv, x, 0.5)
    assert torch.equal(x, x_copy)
    assert all(torch.equal(model.state_dict()[name], t) for name, t in before.items())
    assert all(p.requires_grad and p.grad is None for p in model.parameters())
    assert not model.training
    assert model(x_adv).argmax(dim=1).tolist() == [1, 2, 3]


def test_one_step_descends_the_target_loss_to_the_edge_of_the_ball():
    """A linear model: the gradient of CE towards the target has a known sign, so x_adv is known exactly."""
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 10, bias=False)).eval()
    with torch.no_grad():
        model[1].weight.zero_()
        model[1].weight[9] = torch.linspace(-1, 1, 784)  # class 9 likes the pixels at the end of the image
    x = torch.zeros(1, 1, 28, 28)
    x_adv = adversarial.targeted_attack(model, x, 9, eps=0.1, steps=1)
    # Descending CE(·, 9) raises logit 9: pixels with positive weight brighten by eps, negative ones darken.
    expected = 0.1 * torch.sign(model[1].weight[9]).view(1, 1, 28, 28)
    assert torch.allclose(x_adv, expected)


def test_attack_experiments_report_the_three_cases(mnist):
    model, images, labels = mnist
    results = adversarial.attack_experiments(model, images, labels, rng=torch.Generator().manual_seed(0))
    assert set(results) == {"four_to_nine", "noise_to_nine", "zero_to_nine"}
    n_fours = int((labels == 4).sum())
    assert results["four_to_nine"]["adversarial"].shape == (n_fours, 1, 28, 28)
    assert results["noise_to_nine"]["original"].shape == (n_fours, 1, 28, 28)
    assert torch.equal(results["zero_to_nine"]["original"], torch.full((1, 1, 28, 28), -1.0))
    for result in results.values():
        assert_within_budget(result["adversarial"], result["original"], adversarial.DEFAULT_EPS)
        assert 0.0 <= result["success_rate"] <= 1.0
    assert results["four_to_nine"]["success_rate"] >= 0.9
    assert results["zero_to_nine"]["success_rate"] == 1.0


def test_task_toml_gives_each_experiment_its_own_budget():
    task = load_task(TASKS_DIR / "adversarial")
    attack = next(c for c in task.checks if c.kind == "attack")
    assert attack.params["eps"] <= 0.3
    experiments = [e["name"] for e in attack.params["experiments"]]
    assert experiments == ["four_to_nine", "noise_to_nine", "zero_to_nine"]
