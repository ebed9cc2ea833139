"""Train a frozen classifier and write its weights and sidecar.

    python -m gankit.train_classifier fashion-mnist --device auto
    python -m gankit.train_classifier mnist --epochs 40

The run is seeded; the data stays on the device and batches are drawn by indexing it.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

import torch
import torch.nn.functional as F
from tqdm import tqdm

from gankit.classifier import (
    ARCHITECTURE,
    WEIGHTS_DIR,
    ClassifierCard,
    ClassifierCNN,
    accuracy_on_test_split,
    sha256_of,
    weights_paths,
)
from gankit.data import DATASETS, load_dataset, locate
from gankit.device import DEVICE_CHOICES, describe_device, resolve_device

DEFAULT_EPOCHS = {"fashion-mnist": 30, "mnist": 40}
MAX_SHIFT = 2  # pixels of random translation, in each direction


def augment(images: torch.Tensor, flip: bool, generator: torch.Generator) -> torch.Tensor:
    """Random integer shifts of up to MAX_SHIFT pixels (and horizontal flips), filled with background."""
    batch, _, height, width = images.shape  # (B, 1, 32, 32)
    shifts = torch.randint(-MAX_SHIFT, MAX_SHIFT + 1, (batch, 2), generator=generator, device=images.device)
    theta = torch.zeros(batch, 2, 3, device=images.device)
    theta[:, 0, 0] = 1.0
    theta[:, 1, 1] = 1.0
    theta[:, 0, 2] = 2.0 * shifts[:, 0] / width  # a whole-pixel shift in normalised coordinates
    theta[:, 1, 2] = 2.0 * shifts[:, 1] / height
    if flip:
        mirrored = torch.rand(batch, generator=generator, device=images.device) < 0.5
        theta[mirrored, 0, 0] = -1.0
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    # grid_sample fills with 0; shifting by +1 first makes that fill the background value −1.
    return F.grid_sample(images + 1.0, grid, mode="nearest", align_corners=False) - 1.0


def train(
    dataset: str, epochs: int, batch_size: int, lr: float, seed: int, device: torch.device
) -> tuple[ClassifierCNN, int]:
    """A trained ClassifierCNN (eval mode) and the number of training images it saw."""
    torch.manual_seed(seed)
    generator = torch.Generator(device=device).manual_seed(seed)
    images, labels = load_dataset(dataset, "train", size=32, device=device)  # (N, 1, 32, 32), (N,)
    model = ClassifierCNN().to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=5e-4)
    steps_per_epoch = len(images) // batch_size
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=epochs * steps_per_epoch)
    progress = tqdm(range(epochs), desc=f"train {dataset}", unit="epoch")
    for _ in progress:
        model.train()
        order = torch.randperm(len(images), generator=generator, device=device)
        for step in range(steps_per_epoch):
            batch = order[step * batch_size : (step + 1) * batch_size]
            x = augment(images[batch], flip=dataset == "fashion-mnist", generator=generator)
            loss = F.cross_entropy(model(x), labels[batch])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
        progress.set_postfix(loss=f"{loss.item():.3f}")
    return model.eval(), len(images)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m gankit.train_classifier",
        description="Train the frozen classifier for one data set and write <dataset>.pt and <dataset>.json.",
    )
    parser.add_argument("dataset", choices=DATASETS)
    parser.add_argument("--epochs", type=int, help="default: 30 for fashion-mnist, 40 for mnist")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=2e-3, help="peak learning rate of the one-cycle schedule")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", choices=DEVICE_CHOICES, default="auto")
    parser.add_argument("--out", type=Path, default=WEIGHTS_DIR, help=f"folder for the files (default {WEIGHTS_DIR})")
    args = parser.parse_args(argv)

    device = resolve_device(args.device)
    epochs = args.epochs or DEFAULT_EPOCHS[args.dataset]
    model, train_images = train(args.dataset, epochs, args.batch_size, args.lr, args.seed, device)
    accuracy = accuracy_on_test_split(model, args.dataset, device=device)

    args.out.mkdir(parents=True, exist_ok=True)
    weights, sidecar = weights_paths(args.dataset, args.out)
    torch.save({name: tensor.cpu() for name, tensor in model.state_dict().items()}, weights)
    ClassifierCard(
        architecture=ARCHITECTURE,
        dataset=args.dataset,
        image_size=32,
        data_source=locate(args.dataset).description,
        train_images=train_images,
        test_accuracy=round(accuracy, 5),
        sha256=sha256_of(weights),
        trained_with=shlex.join(["python", "-m", "gankit.train_classifier", *(sys.argv[1:] if argv is None else argv)]),
        device=describe_device(device),
        torch_version=torch.__version__,
    ).write(sidecar)
    print(f"{args.dataset}: test accuracy {accuracy:.2%} → {weights} ({weights.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
