"""Brief training inside the sandbox: the student's own networks, optimizers and `train_step`, on the real data
the parent put in /inputs, for exactly the task's number of steps. Returns numbers and images only; the parent
scores them. A NaN, an exception or the CPU-time safety net ends training early and says so.

The safety net counts this process's CPU seconds, not the wall clock's: another job on the machine slows the
clock, not the count, so only networks far larger than the statement's ever reach it."""

from __future__ import annotations

import math
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch

from gankit.common import NUM_CLASSES, evaluating, one_hot, sample_latent
from gankit.training import GanRun, GanSpec, sample_images

from ..ops import WORKER, op
from ..values import load_images, seed_everything

SNAPSHOTS = 8
INTERPOLATION_STEPS = 6


def _unit_images(images: torch.Tensor) -> np.ndarray:
    """(N, 1, H, W) in [-1, 1] → float32 (N, H, W), left unclipped so the parent can check the range."""
    return images.detach().float().cpu()[:, 0].numpy()


def _record(result: Any) -> dict[str, float]:
    """train_step's dict as plain floats; anything else is the student's error."""
    if not isinstance(result, dict):
        raise TypeError(f"train_step must return a dict, got {type(result).__name__}")
    record = {}
    for key, value in result.items():
        number = float(value.detach().reshape(()) if isinstance(value, torch.Tensor) else value)
        record[str(key)] = number
    return record


def _interpolations(G: torch.nn.Module, size: int) -> np.ndarray:
    """Three strips from G(z0, y0) to G(z1, y1), noise and labels interpolated linearly (conditional tasks)."""
    generator = torch.Generator().manual_seed(7)
    pairs = [(0, 9), (1, 7), (5, 8)]
    strips = []
    weights = torch.linspace(0, 1, INTERPOLATION_STEPS + 2).reshape(-1, 1)
    for start, end in pairs:
        z0, z1 = sample_latent(2, "cpu", generator)
        z = (1 - weights) * z0 + weights * z1
        y = (1 - weights) * one_hot(start) + weights * one_hot(end)
        device = next(G.parameters()).device
        with evaluating(G):
            strips.append(_unit_images(G(z.to(device), y.to(device))))
    return np.stack(strips).reshape(len(pairs), INTERPOLATION_STEPS + 2, size, size)


class CpuLimitReached(BaseException):
    """Raised where train_step is when the stage's CPU seconds are spent; a BaseException, so the student's own
    `except Exception` does not swallow it."""


@contextmanager
def cpu_time_limit(seconds: float) -> Iterator[None]:
    """Raise CpuLimitReached once this process has used `seconds` of CPU time, even inside one long call:
    the profiling timer counts CPU time of every thread, and a busy machine does not advance it."""

    def reached(signum: int, frame: object) -> None:
        raise CpuLimitReached

    previous = signal.signal(signal.SIGPROF, reached)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)


def _train(run: GanRun, steps: int, cpu_seconds: float) -> tuple[list[dict[str, float]], str]:
    """(history, why training stopped early or ""); the CPU-time safety net ends it silently, short of `steps`."""
    snapshot_every = max(1, steps // SNAPSHOTS)
    history: list[dict[str, float]] = []
    try:
        with cpu_time_limit(cpu_seconds):
            for step in range(1, steps + 1):
                try:
                    record = _record(run.train_step())
                except Exception as error:  # noqa: BLE001 - the student's error ends training, it is the result
                    why = f"train_step raised {type(error).__name__} at step {step}: {str(error)[:300]}"
                    return history, why
                history.append(record)
                if not all(math.isfinite(value) for value in record.values()):
                    return history, f"a loss became NaN or infinite at step {step}"
                if step % snapshot_every == 0:
                    run.snapshot()
    except CpuLimitReached:
        pass
    return history, ""


@op("train_gan")
def train_gan(
    module: str,
    spec: dict[str, Any],
    images: str,
    labels: str,
    steps: int,
    batch_size: int,
    width: int | None,
    cpu_seconds: float,
    seed: int,
    per_class: int,
) -> dict[str, Any]:
    seed_everything(seed)
    device = torch.device(WORKER.device)
    data = load_images(images)  # (N, 1, H, W), kept on the device: indexing beats a DataLoader
    targets = torch.from_numpy(np.load(labels, allow_pickle=False)).to(device)
    gan = GanSpec.from_plain(spec)
    run = GanRun(gan, WORKER.module(module), data, targets, batch_size, seed=seed, width=width)
    started = time.process_time()
    history, stopped = _train(run, steps, cpu_seconds)
    train_seconds = time.process_time() - started
    size = data.shape[-1]
    class_labels = torch.arange(NUM_CLASSES).repeat_interleave(per_class)
    z = sample_latent(len(class_labels), "cpu", torch.Generator().manual_seed(seed + 11))
    samples = sample_images(gan.conditional, run.G, class_labels, z)
    keys = sorted({key for record in history for key in record})
    result: dict[str, Any] = {
        "steps_done": len(history),
        "stopped": stopped,
        "train_seconds": train_seconds,
        "history": {key: np.array([record.get(key, np.nan) for record in history], dtype=np.float64) for key in keys},
        "samples": _unit_images(samples),
        "snapshot_steps": [int(round(epoch * run.steps_per_epoch)) for epoch, _ in run.snapshots],
        "snapshots": np.stack([image.numpy() for _, image in run.snapshots]).astype(np.float32)
        if run.snapshots
        else np.zeros((0, size, size), dtype=np.float32),
    }
    if gan.conditional:
        result["interpolations"] = _interpolations(run.G, size)
    return result
