"""Training a 1-D discriminator with the student's discriminator loss.

The discriminator is a table of logits, one per bin of the real line, and a sample's logit is its bin's
entry. The BCE loss then separates into one convex problem per bin whose optimum is exactly
D = p_data / (p_data + p_g) for that bin's empirical densities, so the parent can compare the trained table
with the optimum without any approximation error from the model. Adam (scale-invariant, so the halved loss
trains the same way) runs on all samples at once: a few hundred cheap steps. The table starts where the parent
says, off logit 0 (see `grader.checks.probing`): there autograd gives some correct losses no slope at all.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..ops import WORKER, op
from ..values import describe, failure, seed_everything, tensor

BETAS = (0.9, 0.999)
EPSILON = 1e-8


@op("fit_logit_table")
def fit_logit_table(
    module: str,
    function: str,
    real_bins: np.ndarray,
    fake_bins: np.ndarray,
    initial: np.ndarray,
    steps: int,
    lr: float,
    seed: int = 0,
) -> dict[str, Any]:
    """Minimise `function(table[real_bins], table[fake_bins])` over the table, from `initial`; return the first
    loss (so the parent can say why nothing trained, an exception included) and, when it was a tensor with a
    graph, the trained table."""
    seed_everything(seed)
    loss_function = WORKER.attribute(module, function)
    real_index, fake_index = tensor(real_bins), tensor(fake_bins)
    table = tensor(initial).float().requires_grad_(True)
    first: dict[str, Any] | None = None
    # Adam written out: torch.optim's first step imports torch._dynamo, over a second on a busy CPU.
    mean, square = torch.zeros_like(table), torch.zeros_like(table)
    for step in range(1, steps + 1):
        try:
            loss = loss_function(table[real_index], table[fake_index])
            if first is None:
                first = describe(loss)
                if type(loss) is not torch.Tensor or loss.grad_fn is None or loss.numel() != 1:
                    return {"loss": first}
            (gradient,) = torch.autograd.grad(loss.reshape(()), table)
        except Exception as error:  # noqa: BLE001 - the student's exception is the answer
            return {"loss": failure(error)}
        with torch.no_grad():
            mean.mul_(BETAS[0]).add_(gradient, alpha=1 - BETAS[0])
            square.mul_(BETAS[1]).addcmul_(gradient, gradient, value=1 - BETAS[1])
            # A linear decay of the step lets Adam settle on the optimum instead of hovering around it.
            size = lr * (1 - (step - 1) / steps) / (1 - BETAS[0] ** step)
            table.sub_(size * mean / ((square / (1 - BETAS[1] ** step)).sqrt() + EPSILON))
    return {"loss": first, "table": describe(table.detach())}
