import json

import pytest

from reference.train import gan_tasks, main

REPORT_FIGURES = {"losses.png", "d_accuracy.png", "samples.png", "fixed_latent.png", "tsne.png"}


def test_every_gan_task_can_be_trained():
    assert gan_tasks() == ["cdcgan", "cwgan_gp", "dcgan", "vanilla_gan", "wgan"]


@pytest.mark.slow
def test_cdcgan_run_writes_every_figure_and_resumes(tmp_path, capsys):
    args = ["cdcgan", "--device", "cpu", "--batch-size", "16", "--tsne-per-class", "20", "--out", str(tmp_path)]
    main([*args, "--steps", "3"])
    figures = {p.name for p in tmp_path.glob("*.png")}
    assert figures == REPORT_FIGURES | {"generated_accuracy.png", "interpolation.png"}
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["steps"] == 3 and 0 <= metrics["conditional_accuracy"] <= 1
    assert metrics["frechet_distance_to_test"] > 0

    main([*args, "--steps", "5"])
    assert "resuming cdcgan from" in capsys.readouterr().out
    assert json.loads((tmp_path / "metrics.json").read_text())["steps"] == 5


@pytest.mark.slow
def test_unconditional_critic_run_has_no_accuracy_figures(tmp_path):
    args = ["wgan", "--device", "cpu", "--batch-size", "8", "--steps", "2", "--tsne-per-class", "10"]
    main([*args, "--out", str(tmp_path)])
    figures = {p.name for p in tmp_path.glob("*.png")}
    assert figures == REPORT_FIGURES - {"d_accuracy.png"}
    assert "conditional_accuracy" not in json.loads((tmp_path / "metrics.json").read_text())
