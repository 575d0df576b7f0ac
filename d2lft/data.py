"""Reading the hotdog dataset: the book's augmentations, checked ImageFolders, DataLoaders."""

from __future__ import annotations

import os
from pathlib import Path

import torch
import torchvision
from torchvision import transforms

from .worlds import CLASSES, World, get_world, hotdog_dir

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
normalize = transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD)


def hotdog_augs(crop_size: int = 224, resize_size: int = 256) -> tuple[transforms.Compose, transforms.Compose]:
    """The book's (train_augs, test_augs); `Resize(resize_size)` keeps each image's aspect ratio."""
    train_augs = transforms.Compose(
        [
            transforms.RandomResizedCrop(crop_size),
            transforms.RandomHorizontalFlip(),
            transforms.ToTensor(),
            normalize,
        ]
    )
    test_augs = transforms.Compose(
        [
            transforms.Resize(resize_size),
            transforms.CenterCrop(crop_size),
            transforms.ToTensor(),
            normalize,
        ]
    )
    return train_augs, test_augs


def denormalize(x: torch.Tensor) -> torch.Tensor:
    """Undo `normalize` on a (..., 3, H, W) tensor, clamped to [0, 1] for display."""
    mean = torch.tensor(IMAGENET_MEAN, device=x.device).view(3, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=x.device).view(3, 1, 1)
    return (x * std + mean).clamp(0, 1)


def image_folder(root: str | os.PathLike, transform=None) -> torchvision.datasets.ImageFolder:
    """An `ImageFolder` over `root`, which must hold one non-empty folder per class in `CLASSES`."""
    root = Path(root)
    expected = f"{root}/{{{','.join(CLASSES)}}}/<images>"
    if not root.is_dir():
        raise FileNotFoundError(f"{root} does not exist; expected the layout {expected}.")
    found = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if found != sorted(CLASSES):
        raise FileNotFoundError(f"{root} holds the folders {found}; expected the layout {expected}.")
    return torchvision.datasets.ImageFolder(root, transform=transform)


def load_data_hotdog(
    batch_size: int,
    world: World | None = None,
    train_augs=None,
    test_augs=None,
    num_workers: int = 0,
) -> tuple[torch.utils.data.DataLoader, torch.utils.data.DataLoader]:
    """Return (train_iter, test_iter) over the world's hotdog dataset, with the book's augmentations."""
    world = world or get_world()
    default_train, default_test = hotdog_augs(world.crop_size, world.resize_size)
    root = hotdog_dir(world)
    train = image_folder(root / "train", train_augs or default_train)
    test = image_folder(root / "test", test_augs or default_test)
    train_iter = torch.utils.data.DataLoader(train, batch_size, shuffle=True, num_workers=num_workers)
    test_iter = torch.utils.data.DataLoader(test, batch_size, num_workers=num_workers)
    return train_iter, test_iter
