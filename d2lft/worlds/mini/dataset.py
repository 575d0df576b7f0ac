"""The mini world's datasets, drawn once on this machine: the hotdog set in the book's folder layout, and
a folder of "your photos" (several foods, one folder per class) for notebook 06."""

from __future__ import annotations

import os
from pathlib import Path

from PIL import Image
from tqdm.auto import tqdm

from ... import worlds
from ...support.files import build_once
from . import drawing

_OTHERS = [food for food in drawing.FOODS if food != "hotdog"]


def hotdog_set_image(
    namespace: str, split: str, label: str, index: int, short_range: tuple[int, int] = (72, 112)
) -> Image.Image:
    """Image `index` of class `label` in a drawn hotdog set (`namespace` keeps sets apart): a hotdog, or
    another food in turn, its shorter side in `short_range` pixels."""
    rng = drawing.image_rng(f"{namespace}/{split}", label, index)
    return drawing.render_food(drawn_food(label, index), rng, drawing.random_size(rng, short_range))


def drawn_food(label: str, index: int) -> str:
    """The food that image `index` of class `label` in a drawn hotdog set shows: a hotdog, or the other
    foods in turn (its file is `<label>/<index>.jpg`)."""
    return "hotdog" if label == "hotdog" else _OTHERS[index % len(_OTHERS)]


def make_mini_hotdog(folder: str | os.PathLike, counts: dict[str, int] | None = None) -> Path:
    """Generate (once) the mini world's hotdog dataset into `folder`; return `folder`.

    Keyed on `drawing.DRAWING_VERSION` and the counts: a folder made by another recipe, or left
    half-written, is generated again; one that matches is used as it is.
    """
    counts = counts or worlds.MINI_COUNTS
    jobs = [(split, label, i) for split, n in counts.items() for label in worlds.CLASSES for i in range(n)]

    def fill(staging: Path) -> None:
        for split, label, i in tqdm(jobs, desc="generating mini hotdog dataset", leave=False):
            out = staging / split / label / f"{i:04d}.jpg"
            out.parent.mkdir(parents=True, exist_ok=True)
            hotdog_set_image("mini-hotdog", split, label, i).save(out, quality=90)

    stamp = f"drawing version {drawing.DRAWING_VERSION}, {sorted(counts.items())}\n"
    return build_once(folder, stamp, fill)


# "Your photos" in the mini world: five foods the source model never saw (`drawing.NEW_FOOD_DRAWERS`), four of
# them golden-brown bakes alike in colour, one named with a space, as a student's folder might be.
MINI_PHOTOS = {
    "cookie": "cookie", "croissant": "croissant", "ice cream": "ice_cream", "taco": "taco", "waffle": "waffle"
}  # fmt: skip
MINI_PHOTOS_PER_CLASS = 60


def make_mini_photos(folder: str | os.PathLike, per_class: int = MINI_PHOTOS_PER_CLASS) -> Path:
    """Generate (once) a stand-in for a student's photo folder, `folder/<class>/*.jpg`; return `folder`.

    Foods the source model never saw, drawn from seeds of their own, at varied sizes."""
    jobs = [(label, i) for label in MINI_PHOTOS for i in range(per_class)]

    def fill(staging: Path) -> None:
        for label, i in tqdm(jobs, desc="generating the mini world's photo folder", leave=False):
            rng = drawing.image_rng("mini-photos", label, i)
            out = staging / label / f"IMG_{i:04d}.jpg"
            out.parent.mkdir(parents=True, exist_ok=True)
            drawing.render_food(MINI_PHOTOS[label], rng, drawing.random_size(rng, (72, 160))).save(out, quality=90)

    stamp = f"drawing version {drawing.DRAWING_VERSION}, {sorted(MINI_PHOTOS)}, {per_class} per class\n"
    return build_once(folder, stamp, fill)
