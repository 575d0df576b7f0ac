"""Pretrained source models for both worlds, behind one call: `load_pretrained(arch)`.

- `hotdog` world: torchvision's weights API (`ResNet18_Weights.IMAGENET1K_V1`) and ImageNet's
  1000 category names. torch checks a weights file's SHA-256 only when it downloads it; a cached
  file is loaded unchecked, so every load here checks it first.
- `mini` world: the same torchvision architecture, pretrained on this machine on a synthetic
  source set of foods (`d2lft.synth.FOODS`, `hotdog` among them), built once and cached under
  `data/` with its checksum. Its images never overlap the mini hotdog dataset's.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
import os
import re
import time
import urllib.error
from pathlib import Path

import torch
import torchvision
from torch import nn
from tqdm.auto import tqdm

from . import synth
from .checkpoint import save_checkpoint
from .data import hotdog_augs
from .hub import file_hash
from .paths import data_dir
from .train import evaluate_accuracy
from .worlds import World, get_world

log = logging.getLogger("d2lft")

_HASH_IN_NAME = re.compile(r"-([a-f0-9]{8,})\.")  # torch.hub's convention: name-<sha256 prefix>.pth


class WeightsError(RuntimeError):
    """Pretrained weights are missing, corrupt, or cannot be downloaded."""


def weights_cache_path(url: str) -> Path:
    """Where torch.hub caches the file at `url`: `$TORCH_HOME/hub/checkpoints/<file name>`."""
    return Path(torch.hub.get_dir()) / "checkpoints" / url.rsplit("/", 1)[-1]


def verify_weights_file(path: str | os.PathLike, expected: str | None = None) -> None:
    """Check a weights file against `expected` (a SHA-256 or its prefix), else the prefix in its name."""
    path = Path(path)
    if expected is None:
        match = _HASH_IN_NAME.search(path.name)
        if not match:
            raise ValueError(f"{path.name} carries no SHA-256 prefix in its name (like resnet18-f37072fd.pth)")
        expected = match.group(1)
    actual = file_hash(path, "sha256")
    if not actual.startswith(expected):
        raise WeightsError(
            f"The weights file {path} is corrupt or was changed: its SHA-256 starts with {actual[: len(expected)]}, "
            f"expected {expected}. Delete it (rm '{path}') and run again to download or rebuild it."
        )


def load_pretrained(arch: str = "resnet18", world: World | None = None) -> tuple[nn.Module, list[str]]:
    """Return the world's pretrained `arch` (a torchvision model) and its category names."""
    world = world or get_world()
    if world.name == "mini":
        return _load_mini_source(arch)
    weights = torchvision.models.get_model_weights(arch)["IMAGENET1K_V1"]
    path = weights_cache_path(weights.url)
    if path.exists():
        verify_weights_file(path)
    try:
        model = torchvision.models.get_model(arch, weights=weights)
    except (urllib.error.URLError, OSError) as e:
        raise WeightsError(
            f"Could not download the {arch} ImageNet weights from {weights.url} ({e}). Offline? "
            f"Download that file on a machine with internet and place it at {path} "
            f"(or set D2LFT_WORLD=mini to use the offline stand-in)."
        ) from e
    return model, list(weights.meta["categories"])


# ----- the mini world's source model ---------------------------------------------------------

MINI_SOURCE_RECIPE = {
    "arch": "resnet18",
    "images_per_class": 200,
    "val_images_per_class": 40,
    "epochs": 8,
    "batch_size": 64,
    "lr": 0.1,  # SGD with momentum, one-cycle schedule, mean loss
    "weight_decay": 5e-4,
    "seed": 0,
}


def mini_source_categories() -> list[str]:
    """The mini source model's category names, in output order (like ImageNet's list, `hotdog` inside)."""
    return sorted(synth.FOODS)


def _mini_source_dir() -> Path:
    return data_dir() / "mini-source"


def _recipe_key(arch: str) -> str:
    code = inspect.getsource(build_mini_source) + inspect.getsource(_render_split)
    recipe = {
        **MINI_SOURCE_RECIPE,
        "arch": arch,
        "synth": synth.recipe_fingerprint(),
        "code": code,
        "torch": torch.__version__,
    }
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:16]


def _load_mini_source(arch: str) -> tuple[nn.Module, list[str]]:
    if arch != MINI_SOURCE_RECIPE["arch"]:
        raise ValueError(
            f"The mini world pretrains only {MINI_SOURCE_RECIPE['arch']}; build {arch} with "
            f"torchvision.models.get_model({arch!r}, weights=None) for its structure, or use D2LFT_WORLD=hotdog."
        )
    folder = _mini_source_dir()
    meta_path = folder / f"{arch}.json"
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    if meta.get("recipe") != _recipe_key(arch) or not (folder / meta.get("file", "-")).exists():
        meta = build_mini_source(arch)
    path = folder / meta["file"]
    verify_weights_file(path, meta["sha256"])
    model = torchvision.models.get_model(arch, weights=None, num_classes=len(meta["categories"]))
    model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return model, list(meta["categories"])


def _render_split(split: str, per_class: int, categories: list[str]) -> list[tuple]:
    return [
        (synth.render_food(food, rng, synth.random_size(rng)), label)
        for label, food in enumerate(categories)
        for i in range(per_class)
        for rng in [synth.image_rng(f"mini-source/{split}", food, i)]
    ]


class _Images(torch.utils.data.Dataset):
    def __init__(self, items: list[tuple], transform):
        self.items, self.transform = items, transform

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int):
        image, label = self.items[i]
        return self.transform(image), label


def build_mini_source(arch: str = "resnet18") -> dict:
    """Pretrain the mini world's source model on synthetic foods (a few minutes on a CPU) and cache it."""
    recipe, categories, start = {**MINI_SOURCE_RECIPE, "arch": arch}, mini_source_categories(), time.perf_counter()
    world = get_world("mini")
    train_augs, test_augs = hotdog_augs(world.crop_size, world.resize_size)
    generator = torch.Generator().manual_seed(recipe["seed"])
    torch.manual_seed(recipe["seed"])
    train = _Images(_render_split("train", recipe["images_per_class"], categories), train_augs)
    val = _Images(_render_split("val", recipe["val_images_per_class"], categories), test_augs)
    train_iter = torch.utils.data.DataLoader(train, recipe["batch_size"], shuffle=True, generator=generator)
    val_iter = torch.utils.data.DataLoader(val, 256)
    net = torchvision.models.get_model(arch, weights=None, num_classes=len(categories))
    trainer = torch.optim.SGD(net.parameters(), lr=recipe["lr"], momentum=0.9, weight_decay=recipe["weight_decay"])
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        trainer, recipe["lr"], total_steps=recipe["epochs"] * len(train_iter)
    )
    loss = nn.CrossEntropyLoss()
    with tqdm(total=recipe["epochs"] * len(train_iter), desc=f"pretraining the mini source {arch}", leave=False) as bar:
        for _ in range(recipe["epochs"]):
            net.train()
            for X, y in train_iter:
                trainer.zero_grad()
                loss(net(X), y).backward()
                trainer.step()
                scheduler.step()
                bar.update()
    val_acc = evaluate_accuracy(net, val_iter)
    folder = _mini_source_dir()
    folder.mkdir(parents=True, exist_ok=True)
    staged = save_checkpoint(net, folder / f".{arch}.staged.pth")
    digest = file_hash(staged, "sha256")
    name = f"{arch}-{digest[:8]}.pth"  # torch.hub's naming: the hash prefix travels with the file
    os.replace(staged, folder / name)
    meta = {
        "recipe": _recipe_key(arch),
        "file": name,
        "sha256": digest,
        "categories": categories,
        "val_acc": round(val_acc, 4),
        "seconds": round(time.perf_counter() - start, 1),
        "settings": recipe,
    }
    meta_tmp = folder / f".{arch}.json.part"
    meta_tmp.write_text(json.dumps(meta, indent=1))
    os.replace(meta_tmp, folder / f"{arch}.json")
    for old in folder.glob(f"{arch}-*.pth"):
        if old.name != name:
            old.unlink()
    log.info("mini source %s: val acc %.3f in %.0f s", arch, val_acc, meta["seconds"])
    return meta
