"""The training data path: the reference's train_step fed from data resident on the device (what the grader's
training stage and `reference.train` do: the whole split moved once, batches indexed on the device) against a
torch DataLoader that batches on the CPU and copies every batch over, in steps per second.

    python bench/data_path.py --device cuda                 # cdcgan, its [budgets.cuda] batch, 300 steps each
    python bench/data_path.py --device cpu --steps 20 --batch-size 16   # a quick look on the CPU
"""

from __future__ import annotations

import argparse
import importlib
import time

import torch
from torch.utils.data import DataLoader, TensorDataset

from gankit.catalogue import load_catalogue
from gankit.data import load_dataset
from gankit.device import DEVICE_CHOICES, describe_device, resolve_device
from gankit.training import GanRun, GanSpec


def steps_per_second(run: GanRun, steps: int, device: torch.device) -> float:
    run.train_step()  # the first step builds what later steps reuse (cuDNN plans, dynamo's import)
    if device.type == "cuda":
        torch.cuda.synchronize()
    started = time.perf_counter()
    for _ in range(steps):
        run.train_step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return steps / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", default="cdcgan")
    parser.add_argument("--device", choices=DEVICE_CHOICES, default="auto")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--batch-size", type=int, help="default: the task's budget for the device")
    parser.add_argument("--loader-workers", type=int, default=2, help="the DataLoader's worker processes")
    args = parser.parse_args()
    device = resolve_device(args.device)
    task = load_catalogue()[args.task]
    batch = args.batch_size or task.budget(device.type).batch_size
    module = importlib.import_module(f"reference.{task.id}")
    spec = GanSpec.of(task)
    images, labels = load_dataset(task.dataset, "train", size=task.image_size)  # on the CPU
    print(f"{task.id} on {describe_device(device)}: batch {batch}, {args.steps} steps each")

    resident = GanRun(spec, module, images.to(device), labels.to(device), batch)
    print(f"  data resident on the device   {steps_per_second(resident, args.steps, device):8.1f} steps/s")

    loader = DataLoader(
        TensorDataset(images, labels),
        batch_size=batch,
        shuffle=True,
        drop_last=True,
        num_workers=args.loader_workers,
        pin_memory=device.type == "cuda",
        persistent_workers=args.loader_workers > 0,
    )
    stream = iter(())

    def next_batches() -> list[tuple[torch.Tensor, torch.Tensor]]:
        nonlocal stream
        chosen = []
        for _ in range(fed.batches_per_step):
            pair = next(stream, None)
            if pair is None:
                stream = iter(loader)
                pair = next(stream)
            chosen.append((pair[0].to(device, non_blocking=True), pair[1].to(device, non_blocking=True)))
        return chosen

    fed = GanRun(spec, module, images[:batch].to(device), labels[:batch].to(device), batch)
    fed._next_batches = next_batches  # the same train_step, only where its batches come from differs
    print(f"  DataLoader, copied per batch  {steps_per_second(fed, args.steps, device):8.1f} steps/s")


if __name__ == "__main__":
    main()
