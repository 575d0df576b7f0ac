"""Pretrained source models for both worlds, behind one call: `load_pretrained(arch)`.

- `hotdog` world: torchvision's weights API (`ResNet18_Weights.IMAGENET1K_V1`) and ImageNet's
  1000 category names.
- `mini` world: the same torchvision architecture, pretrained on drawn foods (`hotdog` among them)
  by `d2lft.worlds.mini.pretrain`, shipped in `data/mini-source/`.

Every weights file is checked against its SHA-256 before it is loaded (`d2lft.worlds.weights`), mirrors and
a rehearsal's stand-ins included.
"""

from __future__ import annotations

import urllib.error

import torch
import torchvision
from torch import nn

from .worlds import World, get_world
from .worlds.mini.pretrain import mini_source_file
from .worlds.weights import WeightsError, checked_imagenet_weights, verify_weights_file, weights_cache_path


def load_pretrained(arch: str = "resnet18", world: World | None = None) -> tuple[nn.Module, list[str]]:
    """Return the world's pretrained `arch` (a torchvision model) and its category names."""
    world = world or get_world()
    if world.name == "mini":
        path, meta = mini_source_file(arch)
        verify_weights_file(path, meta["sha256"])
        model = torchvision.models.get_model(arch, weights=None, num_classes=len(meta["categories"]))
        model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))  # float16 on disk -> float32
        return model, list(meta["categories"])
    weights = checked_imagenet_weights(arch)
    path = weights_cache_path(weights.url)
    try:
        model = torchvision.models.get_model(arch, weights=weights)
    except (urllib.error.URLError, OSError) as e:
        raise WeightsError(
            f"Could not download the {arch} ImageNet weights from {weights.url} ({e}). Offline? "
            f"Download that file on a machine with internet and place it at {path}, or set "
            f"D2LFT_WEIGHTS_URL to a mirror or folder that holds it (or D2LFT_WORLD=mini for the offline stand-in)."
        ) from e
    return model, list(weights.meta["categories"])


def photos_source_note(world: World) -> str:
    """What your photos are fine-tuned from in the offline world, and what that means for real photos ("" in
    the hotdog world, whose source is ImageNet's ResNet-18): said once where the photos path starts."""
    if world.name != "mini":
        return ""
    _, meta = mini_source_file("resnet18")
    return (
        "YOUR PHOTOS IN THE MINI WORLD: they are fine-tuned from the mini world's ResNet-18, pretrained offline on "
        f"{len(meta['categories'])} drawn foods\nat {meta['recipe']['crop_size']} px ({meta['val_acc']:.2f} "
        "validation accuracy on them), not on ImageNet's photos. Its features know drawn food (the practice folder's\n"
        "five foods are drawn too, though new to it); on real photos they know little (from this source's first,\n"
        "weaker version, a folder of three plainly different real objects stopped at 0.67 validation accuracy with\n"
        "every strategy). For real photos, run once with internet (D2LFT_WORLD=hotdog): the same code then starts\n"
        "from ImageNet."
    )
