"""Drive any GAN task's own `train_step` from its task.toml: build the networks and optimizers, feed batches
drawn from data kept on the device, and record what the report plots.

The same runner serves the reference (`python -m reference.train`) and a student's module, so a task's
call form lives in one place: `training.d_steps` present means train_step takes lists of that many batches,
and `conditional` means integer labels follow the images.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import torch
import torch.nn as nn

from gankit.catalogue import Task
from gankit.common import NUM_CLASSES, evaluating, one_hot, sample_latent
from gankit.signature import RNG, accepts_keyword, call, documented_values


def build_networks(
    task: Task, module: ModuleType, device: torch.device, width: int | None = None
) -> tuple[nn.Module, nn.Module]:
    """(G, D) on `device`, with their default arguments unless a `width` is asked for (a budget's or a benchmark's
    knob); a class whose constructor takes no `width` is built with its defaults."""

    def build(cls: type) -> nn.Module:
        accepts = accepts_keyword(cls, "width")
        return (cls(width=width) if width is not None and accepts else cls()).to(device)

    return build(module.Generator), build(getattr(module, task.training["discriminator"]))


def build_optimizers(
    task: Task, module: ModuleType, G: nn.Module, D: nn.Module
) -> tuple[torch.optim.Optimizer, torch.optim.Optimizer]:
    """(opt_G, opt_D) as task.toml's [training] says: the student's make_optimizers, Adam or RMSprop."""
    config = task.training
    if config["optimizer"] == "make_optimizers":
        return module.make_optimizers(G, D)
    if config["optimizer"] == "adam":
        betas = tuple(config.get("betas", (0.9, 0.999)))
        return tuple(torch.optim.Adam(net.parameters(), lr=config["lr"], betas=betas) for net in (G, D))
    return tuple(torch.optim.RMSprop(net.parameters(), lr=config["lr"]) for net in (G, D))


@torch.no_grad()
def sample_images(task: Task, G: nn.Module, labels: torch.Tensor, z: torch.Tensor | None = None) -> torch.Tensor:
    """G's images (N, 1, H, W) for integer `labels` (N,) (ignored by unconditional tasks), G in eval mode."""
    device = next(G.parameters()).device
    z = sample_latent(len(labels), device) if z is None else z.to(device)
    with evaluating(G):
        return G(z, one_hot(labels).to(device)) if task.conditional else G(z)


@dataclass
class GanRun:
    """One training run of a task's module: networks, optimizers, data on the device, and the history."""

    task: Task
    module: ModuleType
    images: torch.Tensor  # (N, 1, H, W) on the device
    labels: torch.Tensor  # (N,) on the device
    batch_size: int
    seed: int = 0
    width: int | None = None  # None: the networks' own default
    # train_step's documented optional parameters (name, default); None: read from the task's signature
    step_optional: list[tuple[str, Any]] | None = None
    history: list[dict[str, float]] = field(default_factory=list)
    snapshots: list[tuple[float, torch.Tensor]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.step_optional is None:
            self.step_optional = self.task.optional_parameters("train_step")
        device = self.images.device
        torch.manual_seed(self.seed)
        self.G, self.D = build_networks(self.task, self.module, device, self.width)
        self.opt_G, self.opt_D = build_optimizers(self.task, self.module, self.G, self.D)
        self.rng = torch.Generator(device=device).manual_seed(self.seed)
        self.batches_per_step = self.task.training.get("d_steps", 1)
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
        reals = [x for x, _ in batches]
        labels = [y for _, y in batches]
        if "d_steps" not in self.task.training:
            reals, labels = reals[0], labels[0]
        args: list[Any] = [self.G, self.D, self.opt_G, self.opt_D, reals]
        if self.task.conditional:
            args.append(labels)
        given = {**self.task.training.get("step_kwargs", {}), RNG: self.rng}
        optional = documented_values(self.step_optional, given, self.module)
        result = call(self.module.train_step, args, optional)
        record = {"step": self.step + 1, "epoch": (self.step + 1) / self.steps_per_epoch, **result}
        self.history.append(record)
        return record

    def snapshot(self) -> None:
        """Record the fixed latent code's current image (H, W) in [-1, 1]."""
        label = torch.zeros(1, dtype=torch.long)
        image = sample_images(self.task, self.G, label, self.fixed_z)[0, 0].cpu()
        self.snapshots.append((self.epoch, image))

    def samples_per_class(self, n_per_class: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
        """n_per_class images per class (conditional) or 10·n_per_class images (unconditional, labels −1)."""
        labels = torch.arange(NUM_CLASSES).repeat_interleave(n_per_class)
        z = sample_latent(len(labels), "cpu", torch.Generator().manual_seed(seed))
        images = sample_images(self.task, self.G, labels, z)
        return images, labels if self.task.conditional else torch.full_like(labels, -1)

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
