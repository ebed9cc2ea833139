"""The two known 1-D densities both optimal-discriminator kinds play on (`optimal_d`, `trained_optimal_d`), and
their samples.

Samples are quantiles of the Gaussians rather than random draws: their means are close to the expectations,
so a D* that is right is never beaten by chance, and every grade sees the same inputs. Real and fake sample
counts differ, so a loss that averages the two batches together lands somewhere else.
"""

from __future__ import annotations

from statistics import NormalDist
from typing import Any

import numpy as np

DENSITIES = {"two gaussians": (NormalDist(0.0, 1.0), NormalDist(1.5, 0.75))}
N_REAL, N_FAKE = 2400, 800
# Fakes for p_g = p_data: 790, not 800 = N_REAL / 3, since then some bins would hold exactly a third of their real
# count, an optimum of D = ½, logit 0, exactly; with 790 every bin's optimum keeps ≥ 0.002 from logit 0.
N_SAME = 790
EQUAL_WEIGHT = 1.0  # the criterion on p_g = p_data, V = −log 4, in both kinds


def quantiles(density: NormalDist, n: int) -> np.ndarray:
    """n points whose empirical distribution is `density` up to 1/n: the midpoints of n equal-mass slices."""
    return np.array([density.inv_cdf((i + 0.5) / n) for i in range(n)])


def densities(params: dict[str, Any]) -> tuple[NormalDist, NormalDist]:
    """(p_data, p_g) as the check's `densities` parameter names them."""
    name = params.get("densities", "two gaussians")
    if name not in DENSITIES:
        raise ValueError(f"unknown densities {name!r}; known: {sorted(DENSITIES)}")
    return DENSITIES[name]
