"""The `interface` checks: every reference gets full marks, and each buggy variant loses points in the check that
names its fault (with a sentence that says so) while keeping full points in another check of the same task."""

from __future__ import annotations

import pytest

from grader.checks.interface import FUNCTIONS, NETWORKS, ROLES, parse_value
from tests.grader.checks.conftest import CATALOGUE, SharedWorkers, full, lost_only, with_bug


@pytest.fixture(scope="module")
def variants(shared_workers: SharedWorkers) -> SharedWorkers:
    return shared_workers


INTERFACE_CHECKS = {
    task_id: [check.id for check in task.checks if check.kind == "interface"] for task_id, task in CATALOGUE.items()
}


def test_every_catalogued_name_has_a_contract() -> None:
    for task in CATALOGUE.values():
        for check in task.checks:
            if check.kind == "interface":
                assert all(ROLES[name] in NETWORKS for name in check.params.get("networks", []))
                assert all(name in FUNCTIONS for name in check.params.get("functions", []))


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


def test_generator_that_ignores_labels(variants: SharedWorkers) -> None:
    source = with_bug("cdcgan", "torch.cat([z, 5.0 * y], dim=1)", "torch.cat([z, 0 * y], dim=1)")
    results = variants.results("cdcgan", ["interface", "interpolation", "optimizers"], source)
    lost_only(results["interface"], "Generator ignores y")
    assert full(results["interpolation"]) and full(results["optimizers"])


def test_discriminator_returning_a_column(variants: SharedWorkers) -> None:
    source = with_bug(
        "cdcgan",
        "self.unconditional(h).squeeze(1) + (self.embed(y) * h).sum(dim=1)",
        "self.unconditional(h) + (self.embed(y) * h).sum(dim=1, keepdim=True)",
    )
    results = variants.results("cdcgan", ["interface", "interpolation"], source)
    lost_only(results["interface"], "Discriminator", "(B,)")
    assert full(results["interpolation"])


def test_critic_with_a_sigmoid(variants: SharedWorkers) -> None:
    source = with_bug("wgan", "return self.body(x).squeeze(1)", "return torch.sigmoid(self.body(x).squeeze(1))")
    lost_only(variants.results("wgan", ["interface"], source)["interface"], "Critic", "no sigmoid")


def test_generate_without_mapping_to_unit_range(variants: SharedWorkers) -> None:
    source = with_bug("cdcgan", "return to_unit_numpy(images)", "return images.squeeze(1).numpy()")
    results = variants.results("cdcgan", ["interface", "interpolation"], source)
    lost_only(results["interface"], "generate", "[0, 1]")
    assert full(results["interpolation"])


def test_generate_returning_a_tensor(variants: SharedWorkers) -> None:
    source = with_bug("cdcgan", "return to_unit_numpy(images)", "return (images.squeeze(1) + 1) / 2")
    results = variants.results("cdcgan", ["interface", "interpolation"], source)
    lost_only(results["interface"], "numpy.ndarray")
    assert full(results["interpolation"])


def test_interpolate_with_wrong_endpoints(variants: SharedWorkers) -> None:
    source = with_bug("cdcgan", "z = (1 - t) * z0 + t * z1", "z = t * z0 + (1 - t) * z1")
    results = variants.results("cdcgan", ["interpolation", "interface"], source)
    lost_only(results["interpolation"], "first image", "G(z0, y0)")
    assert full(results["interface"])


def test_make_optimizers_with_a_wrong_learning_rate(variants: SharedWorkers) -> None:
    source = with_bug(
        "cdcgan",
        "torch.optim.Adam(D.parameters(), lr=1e-4, betas=(0.5, 0.999))",
        "torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))",
    )
    results = variants.results("cdcgan", ["optimizers", "interface"], source)
    lost_only(results["optimizers"], "opt_D", "learning rate")
    assert full(results["interface"])


def test_make_optimizers_over_the_wrong_network(variants: SharedWorkers) -> None:
    source = with_bug(
        "cdcgan",
        "torch.optim.Adam(G.parameters(), lr=1e-4, betas=(0.5, 0.999))",
        "torch.optim.Adam(D.parameters(), lr=1e-4, betas=(0.5, 0.999))",
    )
    lost_only(variants.results("cdcgan", ["optimizers"], source)["optimizers"], "opt_G", "other network")


def test_optimal_value_of_the_wrong_sign(variants: SharedWorkers) -> None:
    source = with_bug("optimal_d", "return -math.log(4.0)", "return math.log(4.0)")
    results = variants.results("optimal_d", ["optimal_value", "interface"], source)
    lost_only(results["optimal_value"], "optimal_value()")
    assert results["optimal_value"].points <= 0.25 * results["optimal_value"].max_points
    assert full(results["interface"])


def test_features_outside_eval_mode(variants: SharedWorkers) -> None:
    source = with_bug("evaluation", "with evaluating(model):", "with torch.no_grad():")
    results = variants.results("evaluation", ["extract_features", "interface"], source)
    lost_only(results["extract_features"], "eval mode")
    assert full(results["interface"])


def test_generated_accuracy_against_the_wrong_class(variants: SharedWorkers) -> None:
    source = with_bug(
        "evaluation", "(classifier(images).argmax(dim=1) == c)", "(classifier(images).argmax(dim=1) == 0)"
    )
    results = variants.results("evaluation", ["generated_accuracy", "interface"], source)
    assert results["generated_accuracy"].points == 0
    assert "correctly classified real images of the requested class" in results["generated_accuracy"].message
    assert full(results["interface"])


def test_a_function_that_raises_costs_its_criteria_only(variants: SharedWorkers) -> None:
    source = with_bug(
        "dcgan", "return to_unit_numpy(G(sample_latent(n, device, rng)))", "raise RuntimeError('not yet')"
    )
    result = variants.results("dcgan", ["interface"], source)["interface"]
    assert 0 < result.points < result.max_points
    assert "generate(G, n) raised RuntimeError: not yet" in result.message
