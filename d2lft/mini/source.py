"""The mini world's source model: a torchvision ResNet-18 pretrained on drawn foods, shipped with the course.

It stands in for ImageNet: 12 food categories (`hotdog` among them, as ImageNet has one), drawn by
`d2lft.mini.drawing` with seeds that never overlap the mini hotdog dataset's, and trained by a fixed
recipe. It was built once and is shipped in `data/mini-source/` with its recipe, SHA-256 and the
machine it was built on, so every machine fine-tunes from the same weights; it is rebuilt only when
the recipe (an explicit version and its values, not a hash of this code) no longer matches.
`python -m d2lft.mini` rebuilds it (minutes on a CPU).
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import time
from pathlib import Path

import torch
import torchvision
from torch import nn
from torchvision import transforms

from ..data import hotdog_augs
from ..devices import describe_cpu
from ..files import atomic_write
from ..metrics import Accumulator, History, accuracy, evaluate_accuracy
from ..paths import REPO_ROOT, data_dir
from ..train import divergence_error, fit
from . import drawing

log = logging.getLogger("d2lft")

MINI_SOURCE_RECIPE = {
    "version": 2,  # raise it when the training code below changes what it builds
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
# machine fine-tunes from the same weights; `python -m d2lft.mini` rebuilds it (minutes on a CPU).
SHIPPED_MINI_SOURCE = REPO_ROOT / "data" / "mini-source"


def mini_source_categories() -> list[str]:
    """The mini source model's category names, in output order (like ImageNet's list, `hotdog` inside)."""
    return sorted(drawing.FOODS)


def _recipe(arch: str) -> dict:
    return {**MINI_SOURCE_RECIPE, "arch": arch, "drawing_version": drawing.DRAWING_VERSION}


def _valid_meta(folder: Path, arch: str) -> dict | None:
    meta_path = folder / f"{arch}.json"
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    if meta.get("recipe") == _recipe(arch) and (folder / meta.get("file", "-")).exists():
        return meta
    return None


def mini_source_file(arch: str = "resnet18") -> tuple[Path, dict]:
    """The source model's weights file and its metadata: built here, else shipped, else built now."""
    if arch != MINI_SOURCE_RECIPE["arch"]:
        raise ValueError(
            f"The mini world pretrains only {MINI_SOURCE_RECIPE['arch']}; build {arch} with "
            f"torchvision.models.get_model({arch!r}, weights=None) for its structure, or use D2LFT_WORLD=hotdog."
        )
    folder = data_dir() / "mini-source"
    for candidate in dict.fromkeys([folder, SHIPPED_MINI_SOURCE]):  # built here first, else the shipped one
        meta = _valid_meta(candidate, arch)
        if meta:
            folder = candidate
            break
    else:
        meta = build_mini_source(arch)
    return folder / meta["file"], meta


def render_split(namespace: str, split: str, per_class: int, categories: list[str],
                 short_range: tuple[int, int] = (72, 112)) -> list[tuple]:  # fmt: skip
    """`per_class` drawn photos of each food in `categories`, labelled by its index, as (image, label) pairs."""
    return [
        (drawing.render_food(food, rng, drawing.random_size(rng, short_range)), label)
        for label, food in enumerate(categories)
        for i in range(per_class)
        for rng in [drawing.image_rng(f"{namespace}/{split}", food, i)]
    ]


class _Images(torch.utils.data.Dataset):
    def __init__(self, items: list[tuple], transform):
        self.items, self.transform = items, transform

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int):
        image, label = self.items[i]
        return self.transform(image), label


def pretrain(net: nn.Module, train: list[tuple], val: list[tuple], recipe: dict, desc: str,
             autocast: torch.dtype | None = None) -> tuple[History, torch.utils.data.Dataset]:  # fmt: skip
    """Train `net` on (image, label) pairs with SGD + momentum and a one-cycle schedule (mean loss), as the
    `recipe` says (crop and resize sizes, the smallest crop's share of the photo (default the book's 0.08),
    epochs, batch size, lr, weight decay, seed for the shuffle),
    on the CPU, optionally under `autocast` (torch.bfloat16); return its History and the validation set.
    Random crops draw from torch's global generator: seed it before building `net`."""
    train_augs, test_augs = hotdog_augs(recipe["crop_size"], recipe["resize_size"])
    crop = transforms.RandomResizedCrop(recipe["crop_size"], scale=(recipe.get("crop_scale", 0.08), 1))
    train_augs.transforms[0] = crop
    generator = torch.Generator().manual_seed(recipe["seed"])
    train, val = _Images(train, train_augs), _Images(val, test_augs)
    train_iter = torch.utils.data.DataLoader(train, recipe["batch_size"], shuffle=True, generator=generator)
    trainer = torch.optim.SGD(net.parameters(), lr=recipe["lr"], momentum=0.9, weight_decay=recipe["weight_decay"])
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        trainer, recipe["lr"], total_steps=recipe["epochs"] * len(train_iter)
    )
    loss, history = nn.CrossEntropyLoss(), History(devices="[cpu]")
    # Its own generator: a DataLoader without one draws its base seed from the global RNG, which would
    # shift every later random crop and make the per-epoch validation change what is built.
    val_iter = torch.utils.data.DataLoader(val, 256, generator=torch.Generator())

    def train_epoch(epoch: int, bar) -> Accumulator:
        bar.set_description(f"{desc}, epoch {epoch + 1}/{recipe['epochs']}")
        metric, epoch_start = Accumulator(5), time.perf_counter()  # loss sum, correct, examples, predictions, s
        net.train()
        for i, (X, y) in enumerate(train_iter):
            trainer.zero_grad()
            with torch.autocast("cpu", autocast or torch.bfloat16, enabled=autocast is not None):
                pred = net(X)
                l = loss(pred, y)  # noqa: E741 (the book's name)
            if not torch.isfinite(l):
                raise divergence_error(l.item(), epoch, i, len(train_iter), trainer)
            l.backward()
            trainer.step()
            scheduler.step()
            metric.add(l * y.numel(), accuracy(pred, y), y.numel(), y.numel(), 0.0)
            bar.update()
        metric.add(0, 0, 0, 0, time.perf_counter() - epoch_start)
        return metric

    # the book's one loop; its "test acc" is the source's own validation set
    fit(history, recipe["epochs"], len(train_iter), train_epoch, lambda: evaluate_accuracy(net, val_iter))
    return history, val


def build_mini_source(arch: str = "resnet18", folder: Path | None = None) -> dict:
    """Pretrain the mini world's source model on synthetic foods (minutes on a CPU); store it in `folder`."""
    recipe, categories, start = _recipe(arch), mini_source_categories(), time.perf_counter()
    train = render_split("mini-source", "train", recipe["images_per_class"], categories)
    val = render_split("mini-source", "val", recipe["val_images_per_class"], categories)
    torch.manual_seed(recipe["seed"])
    net = torchvision.models.get_model(arch, weights=None, num_classes=len(categories))
    _, val = pretrain(net, train, val, recipe, f"pretraining the mini source {arch}")
    return store_mini_source(net, arch, val, time.perf_counter() - start, folder or data_dir() / "mini-source")


def store_mini_source(net: nn.Module, arch: str, val, seconds: float, folder: Path) -> dict:
    """Write the source model in float16 (half the size; loaded back as float32) with its recipe, hash and origin."""
    half = {k: v.half() if v.is_floating_point() else v for k, v in net.state_dict().items()}
    net.load_state_dict(half)  # what is stored is what is measured
    val_acc = evaluate_accuracy(net, torch.utils.data.DataLoader(val, 256))
    buffer = io.BytesIO()
    torch.save(half, buffer)
    digest = hashlib.sha256(buffer.getvalue()).hexdigest()
    name = f"{arch}-{digest[:8]}.pth"  # torch.hub's naming: the hash prefix travels with the file
    with atomic_write(folder / name, "wb") as f:
        f.write(buffer.getvalue())
    meta = {
        "recipe": _recipe(arch),
        "file": name,
        "sha256": digest,
        "dtype": "float16",
        "categories": mini_source_categories(),
        "val_acc": round(val_acc, 4),
        "built_on": f"{describe_cpu()}; torch {torch.__version__}",
        "seconds": round(seconds, 1),
    }
    with atomic_write(folder / f"{arch}.json", "w") as f:
        f.write(json.dumps(meta, indent=1) + "\n")
    for old in folder.glob(f"{arch}-*.pth"):
        if old.name != name:
            old.unlink()
    log.info("mini source %s: val acc %.3f in %.0f s", arch, val_acc, seconds)
    return meta


def main(argv: list[str] | None = None) -> int:
    """Rebuild the mini world's source model from its recipe (to check it, or after changing the recipe)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m d2lft.mini", description=main.__doc__)
    parser.add_argument("--into", type=Path, default=SHIPPED_MINI_SOURCE, help="folder (default: the shipped one)")
    args = parser.parse_args(argv)
    meta = build_mini_source("resnet18", args.into)
    print(f"{args.into / meta['file']}: val acc {meta['val_acc']:.3f}, {meta['seconds']:.0f} s on {meta['built_on']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
