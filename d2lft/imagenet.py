"""ImageNet's normalisation, which every pretrained torchvision model expects of its inputs."""

from __future__ import annotations

import functools

import torch
from torchvision import transforms

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
normalize = transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD)


@functools.cache
def imagenet_stats(device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """`normalize`'s mean and std as (3, 1, 1) tensors on `device`, copied there once (a copy to a GPU waits)."""
    mean = torch.tensor(IMAGENET_MEAN, device=device).view(3, 1, 1)
    return mean, torch.tensor(IMAGENET_STD, device=device).view(3, 1, 1)


def denormalize(x: torch.Tensor) -> torch.Tensor:
    """Undo `normalize` on a (..., 3, H, W) tensor, clamped to [0, 1] for display."""
    mean, std = imagenet_stats(x.device)
    return (x * std + mean).clamp(0, 1)
