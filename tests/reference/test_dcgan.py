import numpy as np
import torch

from reference import dcgan


def test_network_shapes_and_ranges():
    G, D = dcgan.Generator(width=16), dcgan.Discriminator(width=16)
    images = G(torch.randn(5, 100))
    assert images.shape == (5, 1, 28, 28) and images.abs().max() <= 1
    assert D(images).shape == (5,)
    assert any(isinstance(m, torch.nn.ConvTranspose2d) for m in G.modules())


def test_losses_are_finite_at_extreme_logits():
    extreme = torch.tensor([-100.0, 100.0], requires_grad=True)
    loss = dcgan.discriminator_loss(extreme, extreme) + dcgan.generator_loss(extreme)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(extreme.grad).all()
    # A fake that D rejects with certainty (logit −100) still pulls G with the full slope of −1/B.
    fake = torch.tensor([-100.0], requires_grad=True)
    dcgan.generator_loss(fake).backward()
    assert fake.grad.item() == -1.0


def test_generate_contract():
    images = dcgan.generate(dcgan.Generator(width=16), 4, rng=torch.Generator().manual_seed(0))
    assert images.shape == (4, 28, 28) and images.dtype == np.float32
    assert 0 <= images.min() and images.max() <= 1


def test_train_step_leaves_d_unchanged_in_the_g_step():
    torch.manual_seed(0)
    G, D = dcgan.Generator(width=16), dcgan.Discriminator(width=16)
    opt_G = torch.optim.Adam(G.parameters(), lr=1e-3)
    opt_D = torch.optim.Adam(D.parameters(), lr=1e-3)
    after_d_step = {}
    opt_D.register_step_post_hook(
        lambda *_: after_d_step.update({n: p.detach().clone() for n, p in D.named_parameters()})
    )
    dcgan.train_step(G, D, opt_G, opt_D, torch.rand(8, 1, 28, 28) * 2 - 1)
    assert all(torch.equal(p, after_d_step[n]) for n, p in D.named_parameters())
