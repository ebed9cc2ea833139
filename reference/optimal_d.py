"""The optimal discriminator and the value of the GAN game (seed 000 Task 1, seed 004 Q3.1).

For a fixed G, V(D, G) = E_x~p_data[log D(x)] + E_z[log(1 − D(G(z)))] is maximised pointwise by
D*(x) = p_data(x) / (p_data(x) + p_g(x)). When p_g = p_data, D* ≡ ½ and V = −log 4, the global optimum of G.
Everything here works on probabilities (not logits): densities in, D's outputs in (0, 1).
"""

from __future__ import annotations

import math

import torch


def optimal_discriminator(p_data: torch.Tensor, p_g: torch.Tensor) -> torch.Tensor:
    """D*(x) = p_data(x) / (p_data(x) + p_g(x)), elementwise, for density values of the same shape.

    Densities are non-negative and not both zero at a point; the result has their shape, values in [0, 1].
    """
    # BEGIN SOLUTION
    return p_data / (p_data + p_g)
    # END SOLUTION


def gan_value(d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
    """Monte-Carlo V(D, G) = mean log D(x) + mean log(1 − D(G(z))), a 0-d tensor that keeps the graph.

    d_real: D's probabilities on real samples (N,); d_fake: on generated samples (M,), any N and M,
    values in (0, 1). Each expectation is averaged over its own batch.
    """
    # BEGIN SOLUTION
    # log1p(−d) keeps log(1 − d) accurate when d is tiny.
    return torch.log(d_real).mean() + torch.log1p(-d_fake).mean()
    # END SOLUTION


def optimal_value() -> float:
    """V(D*, G*) = −log 4 ≈ −1.386: D* ≡ ½ once p_g = p_data, and log ½ + log ½ = −log 4."""
    # BEGIN SOLUTION
    return -math.log(4.0)
    # END SOLUTION
