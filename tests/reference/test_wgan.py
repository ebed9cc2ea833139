import torch

from reference import wgan


def test_losses_by_hand():
    real, fake = torch.tensor([1.0, 2.0]), torch.tensor([3.0, 5.0])
    assert wgan.critic_loss(real, fake).item() == 2.5
    assert wgan.generator_loss(fake).item() == -4.0


def test_critic_scores_are_unbounded():
    C = wgan.Critic(width=8)
    with torch.no_grad():
        for p in C.parameters():
            p.fill_(0.5)
    assert C(torch.ones(2, 1, 32, 32)).min() > 1  # no sigmoid squashes the score


def test_clip_weights_bounds_every_parameter_and_keeps_inner_values():
    C = wgan.Critic(width=8)
    with torch.no_grad():
        for p in C.parameters():
            p.uniform_(-1, 1)
    before = {n: p.detach().clone() for n, p in C.named_parameters()}
    wgan.clip_weights(C, c=0.05)
    for name, p in C.named_parameters():
        assert p.abs().max() <= 0.05
        inside = before[name].abs() <= 0.05
        assert torch.equal(p[inside], before[name][inside])


def test_train_step_runs_n_critic_updates_and_clips():
    torch.manual_seed(0)
    G, C = wgan.Generator(width=8), wgan.Critic(width=8)
    opt_G = torch.optim.RMSprop(G.parameters(), lr=5e-5)
    opt_C = torch.optim.RMSprop(C.parameters(), lr=5e-5)
    steps = []
    opt_C.register_step_post_hook(lambda *_: steps.append("C"))
    opt_G.register_step_post_hook(lambda *_: steps.append("G"))
    batches = [torch.rand(4, 1, 32, 32) * 2 - 1 for _ in range(3)]
    result = wgan.train_step(G, C, opt_G, opt_C, batches, clip=0.02)
    assert steps == ["C", "C", "C", "G"]
    assert all(p.abs().max() <= 0.02 for p in C.parameters())
    assert result["wasserstein"] == -result["loss_D"]
