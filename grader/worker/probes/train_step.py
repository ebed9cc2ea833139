"""Training-step probes: the student's `train_step` on instrumented networks and optimizers, and
`clip_weights` on a grader-made critic. They return an event log and numbers; the parent judges them.

The trace of `train_step` records, in order: every forward of G and D (with the label argument of
conditional networks), every moment a gradient reaches G's parameters (with a fingerprint of D's weights at
that moment), and every optimizer step (which network, whether its gradients held NaN, D's fingerprint and
largest |parameter| just before). After each step the stepped network's gradients are set to NaN, so a
gradient that is not zeroed before the next backward shows up as NaN at the next step; the NaN is then
replaced by 0 there, so one missing `zero_grad` does not spoil the rest of the trace. Nothing is poisoned
before the first call: a student who zeroes right after each step instead of before each backward leaves
clean gradients between calls, and must not be marked down for it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from ..ops import WORKER, op
from ..values import describe, seed_everything, tensor

# Known generator losses the parent can hand to train_step in place of the student's own (a "spy").
GENERATOR_LOSSES: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "minimax": lambda logits: -F.softplus(logits).mean(),
    "nonsaturating": lambda logits: F.softplus(-logits).mean(),
}
MAX_RESULT_KEYS = 32


def _fingerprint(module: nn.Module) -> np.ndarray:
    """Three float64 numbers per parameter tensor (sum, sum of |·|, a sine-weighted sum): any update moves them."""
    rows = []
    with torch.no_grad():
        for parameter in module.parameters():
            flat = parameter.detach().flatten().cpu().double()
            weights = torch.sin(torch.arange(flat.numel(), dtype=torch.float64))
            rows.append([float(flat.sum()), float(flat.abs().sum()), float((flat * weights).sum())])
    return np.array(rows, dtype=np.float64).reshape(-1, 3)


def _largest(module: nn.Module) -> float:
    with torch.no_grad():
        return max((float(p.detach().abs().max()) for p in module.parameters() if p.numel()), default=0.0)


def _label_argument(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """The second argument of a conditional network's call, however it was passed."""
    if len(args) > 1:
        return args[1]
    return next(iter(kwargs.values()), None)


class Trace:
    """Hooks on G, D and their optimizers that append to one event log."""

    def __init__(
        self,
        G: nn.Module,
        D: nn.Module,
        optimizers: dict[str, torch.optim.Optimizer],
        conditional: bool,
    ) -> None:
        self.G, self.D, self.conditional = G, D, conditional
        self.events: list[dict[str, Any]] = []
        G.register_forward_pre_hook(self._forward("G"), with_kwargs=True)
        D.register_forward_pre_hook(self._forward("D"), with_kwargs=True)
        for parameter in G.parameters():
            if parameter.requires_grad:
                parameter.register_hook(self._gradient_reaches_G)
        for net, optimizer in optimizers.items():
            optimizer.register_step_pre_hook(self._before_step(net, optimizer))
            optimizer.register_step_post_hook(self._after_step(optimizer))

    def _forward(self, net: str) -> Callable[..., None]:
        def hook(module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
            event: dict[str, Any] = {"e": net, "grad_enabled": torch.is_grad_enabled()}
            if self.conditional:
                label = _label_argument(args, kwargs)
                event["y"] = describe(label) if label is not None else {"kind": "none"}
            self.events.append(event)

        return hook

    def _gradient_reaches_G(self, grad: torch.Tensor) -> None:
        # One event per backward pass is enough: every parameter of G fires, one after the other.
        if not self.events or self.events[-1]["e"] != "G_grad":
            self.events.append({"e": "G_grad", "d_fp": _fingerprint(self.D)})

    def _before_step(self, net: str, optimizer: torch.optim.Optimizer) -> Callable[..., None]:
        def hook(opt: torch.optim.Optimizer, args: Any, kwargs: Any) -> None:
            nan = False
            for parameter in _parameters(optimizer):
                if parameter.grad is not None and torch.isnan(parameter.grad).any():
                    nan = True
                    parameter.grad = torch.nan_to_num(parameter.grad, nan=0.0)
            self.events.append(
                {"e": "step", "net": net, "nan": nan, "d_fp": _fingerprint(self.D), "d_max": _largest(self.D)}
            )

        return hook

    def _after_step(self, optimizer: torch.optim.Optimizer) -> Callable[..., None]:
        def hook(opt: torch.optim.Optimizer, args: Any, kwargs: Any) -> None:
            for parameter in _parameters(optimizer):
                if parameter.grad is not None:
                    parameter.grad = torch.full_like(parameter.grad, float("nan"))

        return hook

    def spy(self, name: str) -> Callable[[torch.Tensor], torch.Tensor]:
        """A known generator loss that logs each call, passed as train_step's generator_loss."""
        formula = GENERATOR_LOSSES[name]

        def generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
            self.events.append({"e": "loss", "name": name})
            return formula(fake_logits)

        return generator_loss

    def snapshot(self, event: str, **extra: Any) -> None:
        self.events.append(
            {"e": event, "d_fp": _fingerprint(self.D), "g_fp": _fingerprint(self.G), "d_max": _largest(self.D), **extra}
        )


def _parameters(optimizer: torch.optim.Optimizer) -> list[torch.Tensor]:
    return [p for group in optimizer.param_groups for p in group["params"]]


def _build(cls: type, small: dict[str, int]) -> nn.Module:
    """The student's network with the small size knobs its constructor accepts (fast), defaults otherwise."""
    try:
        accepted = inspect.signature(cls).parameters
    except (TypeError, ValueError):
        accepted = {}
    return cls(**{name: value for name, value in small.items() if name in accepted}).to(WORKER.device)


def _optimizers(G: nn.Module, D: nn.Module, config: dict[str, Any]) -> dict[str, torch.optim.Optimizer]:
    if config["kind"] == "rmsprop":
        return {net: torch.optim.RMSprop(m.parameters(), lr=config["lr"]) for net, m in (("G", G), ("D", D))}
    betas = tuple(config["betas"])
    return {net: torch.optim.Adam(m.parameters(), lr=config["lr"], betas=betas) for net, m in (("G", G), ("D", D))}


def _describe_result(result: Any) -> dict[str, Any]:
    if type(result) is not dict:
        return {"kind": "object", "type": type(result).__name__}
    items = [(key, value) for key, value in result.items() if type(key) is str][:MAX_RESULT_KEYS]
    return {"kind": "dict", "items": {key: describe(value) for key, value in items}}


@op("train_step_trace")
def train_step_trace(
    module: str,
    generator: str,
    discriminator: str,
    conditional: bool,
    batched: bool,
    reals: np.ndarray,
    labels: np.ndarray,
    optimizer: dict[str, Any],
    step_kwargs: dict[str, Any],
    generator_losses: list[str] | None = None,
    small: dict[str, int] | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Call train_step once per leading index of `reals` (calls, n, m, 1, H, W), with n batches per call
    (`batched`) or the first one alone, the labels (calls, n, m) for conditional tasks, and the event log."""
    rng = seed_everything(seed)
    step = WORKER.attribute(module, "train_step")
    G = _build(WORKER.attribute(module, generator), small or {})
    D = _build(WORKER.attribute(module, discriminator), small or {})
    optimizers = _optimizers(G, D, optimizer)
    trace = Trace(G, D, optimizers, conditional)
    trace.snapshot("init")
    for call in range(len(reals)):
        batches = [tensor(batch) for batch in reals[call]]
        label_batches = [tensor(batch) for batch in labels[call]]
        args: list[Any] = [G, D, optimizers["G"], optimizers["D"], batches if batched else batches[0]]
        if conditional:
            args.append(label_batches if batched else label_batches[0])
        kwargs = dict(step_kwargs)
        if generator_losses:
            kwargs["generator_loss"] = trace.spy(generator_losses[call % len(generator_losses)])
        trace.events.append({"e": "call"})
        result = step(*args, rng=rng, **kwargs)
        trace.snapshot("end", result=_describe_result(result))
    return {"events": trace.events}


def _clip_critic() -> nn.Module:
    """A small critic with every kind of parameter: convolution and linear weights and biases, BatchNorm and
    LayerNorm affine parameters."""
    return nn.Sequential(
        nn.Conv2d(1, 3, 3, stride=2),
        nn.BatchNorm2d(3),
        nn.LeakyReLU(0.2),
        nn.Flatten(),
        nn.LayerNorm(12),
        nn.Linear(12, 1),
    )


@op("clip_weights")
def clip_weights(module: str, function: str, c: float, values: dict[str, np.ndarray]) -> dict[str, Any]:
    """Set the critic's parameters to `values` (by name), call `function(critic, c)`; return every parameter
    after it and whether each is still the same tensor object (clipping in place)."""
    critic = _clip_critic().to(WORKER.device)
    before = dict(critic.named_parameters())
    if set(before) != set(values):
        raise KeyError(f"the grader's critic has parameters {sorted(before)}, not {sorted(values)}")
    with torch.no_grad():
        for name, parameter in before.items():
            parameter.copy_(tensor(values[name]))
    WORKER.attribute(module, function)(critic, c)
    after = dict(critic.named_parameters())
    return {
        "parameters": {name: describe(parameter) for name, parameter in after.items()},
        "same_objects": {name: after.get(name) is parameter for name, parameter in before.items()},
    }
