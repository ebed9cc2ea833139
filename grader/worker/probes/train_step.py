"""The training-step probe: the student's `train_step` on instrumented networks and optimizers. It returns an
event log and numbers; the parent judges them.

While `train_step` runs, the student's module-level losses, penalty and clipping are replaced by the task's
trusted ones (`trusted.SUBSTITUTES`, by the formula names the parent sends), so a wrong loss costs only its
own check and the trace shows what the step does with the right ones. The trace records, in order:
- every forward of G and D (with the label argument of conditional networks);
- per backward pass (autograd's graph task id): which network's parameters it reached and whether their
  gradients were zero or unset when it arrived (`fresh`: zeroed before this backward); the gradient that
  reached D's scores of real images, of G's images and of other inputs (interpolates), summed per kind,
  whose signs tell a D loss (real pushed up, fake down) from a G loss (fake pushed up) and descent from
  ascent; and the scale with which each trusted loss entered it (1: `loss.backward()`, −1: ascent);
- every optimizer step (which network, D's fingerprint and largest |parameter| before and after it).
Gradients are left as the student's code makes them, so the trace is the student's own training.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn as nn

from gankit.signature import RNG, parameters
from gankit.training import GanSpec, build_optimizers, call_train_step

from .. import trusted
from ..ops import WORKER, op
from ..values import describe, seed_everything, tensor

MAX_RESULT_KEYS = 32
SAME_ROW = 1e-6  # D's input rows that differ from a real (or G's) row by less are that row


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


def _rows_in(x: torch.Tensor, pool: list[torch.Tensor]) -> torch.Tensor:
    """(B,) bool: which rows of x equal a row of one of the tensors in `pool` (same per-sample shape)."""
    found = torch.zeros(len(x), dtype=torch.bool, device=x.device)
    flat = x.detach().flatten(1)
    for other in pool:
        other = other.detach().flatten(1)
        if other.shape[1] == flat.shape[1]:
            found |= ((flat[:, None, :] - other[None, :, :]).abs().amax(dim=2) < SAME_ROW).any(dim=1)
    return found


def _bind(names: list[str], args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    """The student's call of their function as arguments of the trusted one: by position, then by name, and
    keyword arguments under the student's own names (`lambda_gp=`) for the places still open, in order."""
    bound = dict(zip(names, args, strict=False))
    bound.update({name: value for name, value in kwargs.items() if name in names and name not in bound})
    unmatched = [value for name, value in kwargs.items() if name not in names]
    open_places = [name for name in names if name not in bound]
    bound.update(zip(open_places, unmatched, strict=False))
    return bound


def _task_id() -> int:
    return int(torch._C._current_graph_task_id())


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
        self.reals: list[torch.Tensor] = []  # the current call's real batches
        self.fakes: list[torch.Tensor] = []  # what G returned in the current call
        self._passes: dict[tuple[int, str], dict[str, Any]] = {}
        G.register_forward_pre_hook(self._forward("G"), with_kwargs=True)
        D.register_forward_pre_hook(self._forward("D"), with_kwargs=True)
        G.register_forward_hook(self._generated)
        D.register_forward_hook(self._scored)
        for net, network in (("G", G), ("D", D)):
            for parameter in network.parameters():
                if parameter.requires_grad:
                    parameter.register_hook(self._reaches(net, parameter))
        for net, optimizer in optimizers.items():
            optimizer.register_step_pre_hook(self._before_step(net))
            optimizer.register_step_post_hook(self._after_step)

    def start_call(self, reals: list[torch.Tensor]) -> None:
        self.reals, self.fakes = reals, []
        self.events.append({"e": "call"})

    def _forward(self, net: str) -> Callable[..., None]:
        def hook(module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
            event: dict[str, Any] = {"e": net}
            if self.conditional:
                label = _label_argument(args, kwargs)
                event["y"] = describe(label) if label is not None else {"kind": "none"}
            self.events.append(event)

        return hook

    def _generated(self, module: nn.Module, args: Any, output: Any) -> None:
        if isinstance(output, torch.Tensor):
            self.fakes.append(output.detach())

    def _scored(self, module: nn.Module, args: tuple[Any, ...], output: Any) -> None:
        """Tag D's output rows as real, fake or other and follow the gradient that comes back into them."""
        if not args or not isinstance(args[0], torch.Tensor) or not isinstance(output, torch.Tensor):
            return
        if not output.requires_grad or output.numel() % len(args[0]):
            return
        real = _rows_in(args[0], self.reals)
        fake = _rows_in(args[0], self.fakes) & ~real
        other = ~(real | fake)

        def hook(grad: torch.Tensor) -> None:
            per_row = grad.detach().reshape(len(real), -1).sum(dim=1).double()
            self.events.append(
                {
                    "e": "out",
                    "task": _task_id(),
                    "real": float(per_row[real].sum()) if real.any() else None,
                    "fake": float(per_row[fake].sum()) if fake.any() else None,
                    "other": bool(other.any()),
                }
            )

        output.register_hook(hook)

    def _reaches(self, net: str, parameter: torch.Tensor) -> Callable[[torch.Tensor], None]:
        def hook(grad: torch.Tensor) -> None:
            # A leaf's hook runs before the gradient is added to .grad: what is there now was left over.
            fresh = parameter.grad is None or not bool(parameter.grad.any())
            key = (_task_id(), net)
            event = self._passes.get(key)
            if event is None:
                event = self._passes[key] = {"e": "grad", "task": key[0], "net": net, "fresh": fresh}
                self.events.append(event)
            event["fresh"] = event["fresh"] and fresh

        return hook

    def _before_step(self, net: str) -> Callable[..., None]:
        def hook(opt: torch.optim.Optimizer, args: Any, kwargs: Any) -> None:
            self.events.append({"e": "step", "net": net, "d_fp": _fingerprint(self.D), "d_max": _largest(self.D)})

        return hook

    def _after_step(self, opt: torch.optim.Optimizer, args: Any, kwargs: Any) -> None:
        step = next(e for e in reversed(self.events) if e["e"] == "step")
        step["d_after"] = _fingerprint(self.D)

    def substitute(self, formula: str, passed: bool = False) -> Callable[..., Any]:
        """The trusted `formula`, logging each call (`passed`: handed to train_step as an argument) and the scale
        with which its value enters a backward pass."""
        function = trusted.SUBSTITUTES[formula]
        names = list(inspect.signature(function).parameters)

        def substitute(*args: Any, **kwargs: Any) -> Any:
            self.events.append({"e": "loss_call", "name": formula, "passed": passed})
            value = function(**_bind(names, args, kwargs))
            if isinstance(value, torch.Tensor) and value.requires_grad:
                value.register_hook(
                    lambda grad: self.events.append(
                        {"e": "loss", "task": _task_id(), "name": formula, "scale": float(grad.sum())}
                    )
                )
            return value

        return substitute

    def snapshot(self, event: str, **extra: Any) -> None:
        self.events.append(
            {"e": event, "d_fp": _fingerprint(self.D), "g_fp": _fingerprint(self.G), "d_max": _largest(self.D), **extra}
        )


def _build(cls: type, small: dict[str, int]) -> nn.Module:
    """The student's network with the small size knobs its constructor accepts (fast), defaults otherwise."""
    named = {p.name for p in parameters(cls) or []}  # by name only: a **kwargs constructor keeps its defaults
    return cls(**{name: value for name, value in small.items() if name in named}).to(WORKER.device)


def _describe_result(result: Any) -> dict[str, Any]:
    if type(result) is not dict:
        return {"kind": "object", "type": type(result).__name__}
    items = [(key, value) for key, value in result.items() if type(key) is str][:MAX_RESULT_KEYS]
    return {"kind": "dict", "items": {key: describe(value) for key, value in items}}


class Substituted:
    """The student's module with some names replaced for the duration of a `with` block."""

    def __init__(self, module: Any, replacements: dict[str, Any]) -> None:
        self.module, self.replacements = module, replacements
        self.saved: dict[str, Any] = {}

    def __enter__(self) -> None:
        for name, value in self.replacements.items():
            self.saved[name] = getattr(self.module, name, None)
            setattr(self.module, name, value)

    def __exit__(self, *exc: Any) -> None:
        for name, value in self.saved.items():
            setattr(self.module, name, value)


@op("train_step_trace")
def train_step_trace(
    module: str,
    spec: dict[str, Any],
    reals: np.ndarray,
    labels: np.ndarray,
    substitutes: dict[str, str],
    generator_losses: list[str] | None = None,
    small: dict[str, int] | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Call train_step once per leading index of `reals` (calls, n, m, 1, H, W), in the task's call form
    (`GanSpec`: n batches per call, or the first one alone), with the labels (calls, n, m) of conditional tasks,
    optimizers built from the task's optimizer spec (never the student's builder), the student's names in
    `substitutes` replaced by trusted formulas, and, where `generator_losses` is given, those trusted generator
    losses in turn for the function-valued optional parameter; returns the event log."""
    rng = seed_everything(seed)
    gan = GanSpec.from_plain(spec)
    loaded = WORKER.module(module)
    step = WORKER.attribute(module, gan.train_step)
    G = _build(WORKER.attribute(module, gan.generator), small or {})
    D = _build(WORKER.attribute(module, gan.discriminator), small or {})
    opt_G, opt_D = build_optimizers(gan, None, G, D)
    trace = Trace(G, D, {"G": opt_G, "D": opt_D}, gan.conditional)
    replacements = {name: trace.substitute(formula) for name, formula in substitutes.items()}
    trace.snapshot("init")
    with Substituted(loaded, replacements):
        for index in range(len(reals)):
            batches = [tensor(batch) for batch in reals[index]]
            label_batches = [tensor(batch) for batch in labels[index]]
            given: dict[str, Any] = {RNG: rng}
            if generator_losses:
                loss = trace.substitute(generator_losses[index % len(generator_losses)], passed=True)
                given.update({name: loss for name, default in gan.step_optional if isinstance(default, str)})
            trace.start_call(batches)
            result = call_train_step(gan, step, (G, D, opt_G, opt_D), batches, label_batches, given, loaded)
            trace.snapshot("end", result=_describe_result(result))
    return {"events": trace.events}
