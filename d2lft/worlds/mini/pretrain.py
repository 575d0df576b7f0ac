"""Pretraining the mini world's source model (`d2lft.worlds.mini.source`) by its recipe, through the
course's one epoch loop (`d2lft.train.fit`): the only module of `d2lft.worlds` that sits above the training
code. `python -m d2lft.worlds.mini` rebuilds the shipped model (minutes on a CPU); the rehearsal pretrains
its stand-in ImageNet model here too.
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

from ...data import hotdog_augs
from ...devices import describe_cpu
from ...metrics import Accumulator, History, accuracy, evaluate_accuracy
from ...support.files import atomic_write
from ...support.paths import data_dir
from ...train import divergence_error, fit
from . import drawing
from .source import SHIPPED_MINI_SOURCE, find_mini_source, mini_source_categories, recipe_for

log = logging.getLogger("d2lft")


def mini_source_file(arch: str = "resnet18") -> tuple[Path, dict]:
    """The source model's weights file and its metadata: built here, else shipped, else built now."""
    if found := find_mini_source(arch):
        return found
    meta = build_mini_source(arch)
    return data_dir() / "mini-source" / meta["file"], meta


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
    recipe, categories, start = recipe_for(arch), mini_source_categories(), time.perf_counter()
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
        "recipe": recipe_for(arch),
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

    parser = argparse.ArgumentParser(prog="python -m d2lft.worlds.mini", description=main.__doc__)
    parser.add_argument("--into", type=Path, default=SHIPPED_MINI_SOURCE, help="folder (default: the shipped one)")
    args = parser.parse_args(argv)
    meta = build_mini_source("resnet18", args.into)
    print(f"{args.into / meta['file']}: val acc {meta['val_acc']:.3f}, {meta['seconds']:.0f} s on {meta['built_on']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
