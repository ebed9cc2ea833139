"""Drive any GAN task's own `train_step` from its task.toml: build the networks and optimizers, feed batches
drawn from data kept on the device, and record what the report plots.

This is the one place that builds a task's optimizers and calls its train_step in the task's call form
(`[training]`: one real batch or a list of `d_steps`, labels after the images for conditional tasks, the keyword
arguments): the reference (`python -m reference.train`), the grader's training stage and train-step probe in the
sandbox, and the notebook's training cell (written from `optimizer_source` and `train_step_source`) all use it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import torch
import torch.nn as nn

from gankit.catalogue import Optimizer, Task, Training, read_training
from gankit.common import NUM_CLASSES, evaluating, one_hot, sample_latent
from gankit.signature import RNG, accepts_keyword, call, documented_values


@dataclass(frozen=True)
class GanSpec:
    """What a training run needs of its task: the call form and the names in the roles it trains. Built from the
    catalogue (`of`) or from plain values sent into the sandbox (`from_plain`), where no task.toml is read."""

    training: Training
    conditional: bool
    generator: str
    discriminator: str
    train_step: str
    optimizers: str | None  # the student's function that builds them; None: built from training.optimizer
    step_optional: tuple[tuple[str, Any], ...]  # train_step's documented optional parameters and defaults

    @classmethod
    def of(cls, task: Task) -> GanSpec:
        if task.training is None:
            raise KeyError(f"task {task.id} has no [training] section")
        builder = task.with_role("optimizers")
        step = task.playing("train_step")
        return cls(
            training=task.training,
            conditional=task.conditional,
            generator=task.playing("generator").name,
            discriminator=task.playing("discriminator", "critic").name,
            train_step=step.name,
            optimizers=builder.name if builder else None,
            step_optional=tuple(step.optional),
        )

    def to_plain(self) -> dict[str, Any]:
        optimizer = self.training.optimizer
        return {
            "real": self.training.real,
            "result": list(self.training.result),
            "optimizer": {"kind": optimizer.kind, "lr": optimizer.lr, "betas": optimizer.betas},
            "d_steps": self.training.d_steps,
            "kwargs": dict(self.training.kwargs),
            "conditional": self.conditional,
            "generator": self.generator,
            "discriminator": self.discriminator,
            "train_step": self.train_step,
            "optimizers": self.optimizers,
            "step_optional": [list(pair) for pair in self.step_optional],
        }

    @classmethod
    def from_plain(cls, plain: dict[str, Any]) -> GanSpec:
        return cls(
            training=read_training(plain),
            conditional=bool(plain["conditional"]),
            generator=plain["generator"],
            discriminator=plain["discriminator"],
            train_step=plain["train_step"],
            optimizers=plain["optimizers"],
            step_optional=tuple((str(name), default) for name, default in plain["step_optional"]),
        )


def optimizer_lines(spec: GanSpec) -> list[str]:
    """The code that builds (opt_G, opt_D) as `build_optimizers` does, for the notebook's training cell."""
    if spec.optimizers is not None:
        return [f"opt_G, opt_D = {spec.optimizers}(G, D)"]
    wanted = spec.training.optimizer
    if wanted.kind == "rmsprop":
        settings = f"lr={wanted.lr!r}"
        built = "torch.optim.RMSprop({}.parameters(), " + settings + ")"
    else:
        settings = f"lr={wanted.lr!r}, betas={tuple(wanted.betas or (0.9, 0.999))!r}"
        built = "torch.optim.Adam({}.parameters(), " + settings + ")"
    return [f"opt_G = {built.format('G')}", f"opt_D = {built.format('D')}"]


def train_step_line(spec: GanSpec, reals: str, labels: str) -> str:
    """The call `call_train_step` makes, as code, for the notebook's training cell: `reals` and `labels` are the
    expressions that hold the real batch (or list of batches) and its labels."""
    arguments = ["G", "D", "opt_G", "opt_D", reals, *([labels] if spec.conditional else [])]
    arguments += [f"{name}={value!r}" for name, value in spec.training.kwargs.items()]
    return f"{spec.train_step}({', '.join(arguments)})"


def build_networks(
    spec: GanSpec, module: ModuleType, device: torch.device | str, width: int | None = None
) -> tuple[nn.Module, nn.Module]:
    """(G, D) on `device`, with their default arguments unless a `width` is asked for (a budget's or a benchmark's
    knob); a class whose constructor takes no `width` is built with its defaults."""

    def build(cls: type) -> nn.Module:
        accepts = accepts_keyword(cls, "width")
        return (cls(width=width) if width is not None and accepts else cls()).to(device)

    return build(getattr(module, spec.generator)), build(getattr(module, spec.discriminator))


def optimizer_for(spec: Optimizer, parameters: Iterable[nn.Parameter]) -> torch.optim.Optimizer:
    """The optimizer `[training.optimizer]` states, over `parameters`."""
    if spec.kind == "rmsprop":
        return torch.optim.RMSprop(parameters, lr=spec.lr)
    return torch.optim.Adam(parameters, lr=spec.lr, betas=spec.betas or (0.9, 0.999))


def build_optimizers(
    spec: GanSpec, module: ModuleType | None, G: nn.Module, D: nn.Module
) -> tuple[torch.optim.Optimizer, torch.optim.Optimizer]:
    """(opt_G, opt_D): the student's own optimizer-building function where the task names one and `module` is
    given, else the optimizers `[training.optimizer]` states (the train-step probe passes no module, so its
    judgement does not depend on the student's make_optimizers, whose own check judges that)."""
    if spec.optimizers is not None and module is not None:
        return getattr(module, spec.optimizers)(G, D)
    wanted = spec.training.optimizer
    return optimizer_for(wanted, G.parameters()), optimizer_for(wanted, D.parameters())


def call_train_step(
    spec: GanSpec,
    step: Callable[..., Any],
    networks: Sequence[Any],
    reals: list[torch.Tensor],
    labels: list[torch.Tensor],
    given: dict[str, Any],
    module: ModuleType | None = None,
) -> Any:
    """`step(G, D, opt_G, opt_D, real[, labels], ...)` in the task's call form: `reals` and `labels` hold
    `d_steps` batches (one for `real = "batch"`, passed as it is), followed by the documented optional
    parameters the function accepts, with the task's keyword arguments and `given` (rng, a generator loss)."""
    args: list[Any] = [*networks, reals if spec.training.batched else reals[0]]
    if spec.conditional:
        args.append(labels if spec.training.batched else labels[0])
    values = {**spec.training.kwargs, **given}
    return call(step, args, documented_values(spec.step_optional, values, module))


@torch.no_grad()
def sample_images(conditional: bool, G: nn.Module, labels: torch.Tensor, z: torch.Tensor | None = None) -> torch.Tensor:
    """G's images (N, 1, H, W) for integer `labels` (N,) (ignored by unconditional tasks), G in eval mode."""
    device = next(G.parameters()).device
    z = sample_latent(len(labels), device) if z is None else z.to(device)
    with evaluating(G):
        return G(z, one_hot(labels).to(device)) if conditional else G(z)


@dataclass
class GanRun:
    """One training run of a task's module: networks, optimizers, data on the device, and the history."""

    spec: GanSpec
    module: ModuleType
    images: torch.Tensor  # (N, 1, H, W) on the device
    labels: torch.Tensor  # (N,) on the device
    batch_size: int
    seed: int = 0
    width: int | None = None  # None: the networks' own default
    history: list[dict[str, float]] = field(default_factory=list)
    snapshots: list[tuple[float, torch.Tensor]] = field(default_factory=list)

    def __post_init__(self) -> None:
        device = self.images.device
        torch.manual_seed(self.seed)
        self.G, self.D = build_networks(self.spec, self.module, device, self.width)
        self.opt_G, self.opt_D = build_optimizers(self.spec, self.module, self.G, self.D)
        self.rng = torch.Generator(device=device).manual_seed(self.seed)
        self.batches_per_step = self.spec.training.d_steps
        self.steps_per_epoch = max(1, len(self.images) // (self.batch_size * self.batches_per_step))
        # One fixed latent code (and class 0 for conditional tasks) whose image is tracked across training.
        fixed = torch.Generator().manual_seed(self.seed + 1)
        self.fixed_z = sample_latent(1, "cpu", fixed).to(device)
        self._order = torch.empty(0, dtype=torch.long, device=device)

    @property
    def step(self) -> int:
        return len(self.history)

    @property
    def epoch(self) -> float:
        return self.step / self.steps_per_epoch

    def _next_batches(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """d_steps batches drawn without replacement from a fresh permutation each epoch."""
        needed = self.batch_size * self.batches_per_step
        if len(self._order) < needed:
            self._order = torch.randperm(len(self.images), device=self.images.device, generator=self.rng)
        chosen, self._order = self._order[:needed], self._order[needed:]
        return [(self.images[i], self.labels[i]) for i in chosen.split(self.batch_size)]

    def train_step(self) -> dict[str, float]:
        """Call the module's train_step once in the task's form and append its result to the history."""
        batches = self._next_batches()
        networks = (self.G, self.D, self.opt_G, self.opt_D)
        step = getattr(self.module, self.spec.train_step)
        reals, labels = [x for x, _ in batches], [y for _, y in batches]
        result = call_train_step(self.spec, step, networks, reals, labels, {RNG: self.rng}, self.module)
        record = {"step": self.step + 1, "epoch": (self.step + 1) / self.steps_per_epoch, **result}
        self.history.append(record)
        return record

    def snapshot(self) -> None:
        """Record the fixed latent code's current image (H, W) in [-1, 1]."""
        label = torch.zeros(1, dtype=torch.long)
        image = sample_images(self.spec.conditional, self.G, label, self.fixed_z)[0, 0].cpu()
        self.snapshots.append((self.epoch, image))

    def samples_per_class(self, n_per_class: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
        """n_per_class images per class (conditional) or 10·n_per_class images (unconditional, labels −1)."""
        labels = torch.arange(NUM_CLASSES).repeat_interleave(n_per_class)
        z = sample_latent(len(labels), "cpu", torch.Generator().manual_seed(seed))
        images = sample_images(self.spec.conditional, self.G, labels, z)
        return images, labels if self.spec.conditional else torch.full_like(labels, -1)

    def state_dict(self) -> dict[str, Any]:
        return {
            "G": self.G.state_dict(),
            "D": self.D.state_dict(),
            "opt_G": self.opt_G.state_dict(),
            "opt_D": self.opt_D.state_dict(),
            "rng": self.rng.get_state(),
            "order": self._order,
            "history": self.history,
            "snapshots": self.snapshots,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.G.load_state_dict(state["G"])
        self.D.load_state_dict(state["D"])
        self.opt_G.load_state_dict(state["opt_G"])
        self.opt_D.load_state_dict(state["opt_D"])
        self.rng.set_state(state["rng"])
        self._order = state["order"].to(self.images.device)
        self.history = state["history"]
        self.snapshots = state["snapshots"]
