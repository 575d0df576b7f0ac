"""The mini world's source model: a torchvision ResNet-18 pretrained on drawn foods, shipped with the course.

It stands in for ImageNet: 12 food categories (`hotdog` among them, as ImageNet has one), drawn by
`d2lft.worlds.mini.drawing` with seeds that never overlap the mini hotdog dataset's, and trained by a fixed
recipe (`d2lft.worlds.mini.pretrain`). It was built once and is shipped in `data/mini-source/` with its
recipe, SHA-256 and the machine it was built on, so every machine fine-tunes from the same weights; it is
rebuilt only when the recipe (an explicit version and its values, not a hash of the code) no longer
matches. This module says where it is and whether it is current.
"""

from __future__ import annotations

import json
from pathlib import Path

from ...support.paths import REPO_ROOT, data_dir
from . import drawing

MINI_SOURCE_RECIPE = {
    "version": 2,  # raise it when the training code (`pretrain`) changes what it builds
    "arch": "resnet18",
    "crop_size": 32,  # the mini world's
    "resize_size": 37,
    # Crops of at least a quarter of the photo (the book's RandomResizedCrop goes down to 8%): at 32 px an 8%
    # crop is a 9-pixel patch, often table only. Version 1 (200 images per class, 10 epochs, 8% crops)
    # reached 0.56 validation accuracy; this one reaches about 0.95, a source that knows its task as
    # ImageNet's ResNet-18 knows its own.
    "crop_scale": 0.25,
    "images_per_class": 400,
    "val_images_per_class": 40,
    "epochs": 20,
    "batch_size": 64,
    "lr": 0.1,  # SGD with momentum, one-cycle schedule, mean loss
    "weight_decay": 5e-4,
    "seed": 0,
}
# The repository ships the source model built once from this recipe (`data/mini-source/`), so every
# machine fine-tunes from the same weights; `python -m d2lft.worlds.mini` rebuilds it (minutes on a CPU).
SHIPPED_MINI_SOURCE = REPO_ROOT / "data" / "mini-source"


def mini_source_categories() -> list[str]:
    """The mini source model's category names, in output order (like ImageNet's list, `hotdog` inside)."""
    return sorted(drawing.FOODS)


def recipe_for(arch: str) -> dict:
    """The recipe a source of `arch` is built by and checked against (with the drawings' version)."""
    return {**MINI_SOURCE_RECIPE, "arch": arch, "drawing_version": drawing.DRAWING_VERSION}


def _valid_meta(folder: Path, arch: str) -> dict | None:
    meta_path = folder / f"{arch}.json"
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    if meta.get("recipe") == recipe_for(arch) and (folder / meta.get("file", "-")).exists():
        return meta
    return None


def find_mini_source(arch: str = "resnet18") -> tuple[Path, dict] | None:
    """The source model's weights file and its metadata, built here (`data_dir()`) or else shipped; None when
    neither matches the recipe."""
    if arch != MINI_SOURCE_RECIPE["arch"]:
        raise ValueError(
            f"The mini world pretrains only {MINI_SOURCE_RECIPE['arch']}; build {arch} with "
            f"torchvision.models.get_model({arch!r}, weights=None) for its structure, or use D2LFT_WORLD=hotdog."
        )
    for folder in dict.fromkeys([data_dir() / "mini-source", SHIPPED_MINI_SOURCE]):
        if meta := _valid_meta(folder, arch):
            return folder / meta["file"], meta
    return None
