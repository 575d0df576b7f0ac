"""Your own photos: any folder of classes, checked, and split the same way every time.

Two layouts are read, class names coming from the folder names (sorted, as `ImageFolder` numbers them):

- `root/<class>/...`: every image of each class, split here into train, validation and test, stratified
  (each class in the same proportions) and drawn with a seed;
- `root/train/<class>/...` and `root/test/<class>/...`: your own test set is kept, and a stratified part
  of `train` is drawn for validation.

The split is saved (`data/splits/`, written atomically) and read back next time, so the test images stay
test images across sessions: files added later are drawn into the splits in the same proportions, files
deleted are dropped, and nothing else moves. Hidden files and folders (`.DS_Store`,
`.ipynb_checkpoints/`) and files that are not images by their name (`Thumbs.db`, `notes.txt`) are
skipped and listed; what cannot be used stops with an error that names the folder and the fix.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torchvision.datasets.folder import IMG_EXTENSIONS

from .data import deal, draw_per_class, recipe_dir
from .support.files import atomic_write
from .support.images import HEIF_SUFFIXES, load_image
from .support.paths import data_dir
from .worlds import World, get_world
from .worlds.mini.dataset import make_mini_photos

IMAGE_SUFFIXES = (*IMG_EXTENSIONS, ".gif", *HEIF_SUFFIXES)  # torchvision's, GIFs (their first frame), iPhones
SPLITS = ("train", "val", "test")
FRACTIONS = {"val": 0.15, "test": 0.15}  # of each class; the rest trains
SPLIT_VERSION = 1


class FolderError(ValueError):
    """A photo folder that cannot be used as it is: the message names the folder and what to change."""


@dataclass
class PhotoFolder(torch.utils.data.Dataset):
    """One split of a photo folder, shaped like an `ImageFolder`: `samples`, `targets`, `classes`, `transform`."""

    root: Path
    classes: list[str]
    samples: list[tuple[str, int]]
    transform: object = None

    @property
    def targets(self) -> list[int]:
        return [label for _, label in self.samples]

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, i: int):
        path, label = self.samples[i]
        image = load_image(path)
        return (self.transform(image) if self.transform else image), label


@dataclass
class PhotoSplits:
    """A photo folder read and split: its classes, each split's files, and what was skipped or changed."""

    root: Path
    layout: str  # "classes" (root/<class>/) or "train-test" (root/{train,test}/<class>/)
    classes: list[str]
    files: dict[str, list[tuple[str, int]]]  # split -> (path relative to root, label), sorted
    split_file: Path
    skipped: list[str] = field(default_factory=list)  # relative paths that are not images by their name
    changes: list[str] = field(default_factory=list)  # what differs from the saved split, in words

    def dataset(self, split: str, transform=None) -> PhotoFolder:
        """The images of `split` ("train", "val" or "test") as a dataset, with `transform`."""
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, not {split!r}")
        samples = [(str(self.root / path), label) for path, label in self.files[split]]
        return PhotoFolder(self.root, list(self.classes), samples, transform)

    def with_fewer_training_images(self, per_class: int, seed: int = 0) -> PhotoSplits:
        """These splits with at most `per_class` training images of each class, drawn with `seed`; validation
        and test unchanged, so that runs on less data are measured on the same images."""
        files = self.files["train"]
        picked, _ = draw_per_class([label for _, label in files], lambda n: min(n, per_class), seed)
        return dataclasses.replace(self, files={**self.files, "train": [files[i] for i in picked]})

    def counts(self) -> dict[str, list[int]]:
        """Images per class (in `classes` order) in each split."""
        return {s: [sum(1 for _, t in self.files[s] if t == k) for k in range(len(self.classes))] for s in SPLITS}


def _visible(path: Path) -> bool:
    return not path.name.startswith(".")


def images_under(folder: Path, root: Path, skipped: list[str]) -> list[str]:
    """Image files under `folder` (any depth, hidden entries skipped), as paths relative to `root`, sorted."""
    found = []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=True):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            relative = str((Path(dirpath) / name).relative_to(root))
            (found if Path(name).suffix.lower() in IMAGE_SUFFIXES else skipped).append(relative)
    return sorted(found)


def _class_folders(folder: Path, root: Path) -> list[Path]:
    if not folder.is_dir():
        raise FolderError(f"{folder} is not a folder. Point to a folder laid out as {_LAYOUTS.format(root=root)}.")
    return sorted((p for p in folder.iterdir() if p.is_dir() and _visible(p)), key=lambda p: p.name)


_LAYOUTS = "{root}/<class>/<images> (one folder per class) or {root}/train/<class>/ and {root}/test/<class>/"


def scan(root: str | os.PathLike) -> tuple[str, list[str], dict[str, dict[str, list[str]]], list[str]]:
    """Read the layout: (layout, classes, {part: {class: relative image paths}}, skipped files and folders).

    `part` is "all" for `root/<class>/`, else "train", "test" and, if there is one, "val". Raises
    `FolderError` for fewer than two classes, a class with no images, or held-out classes training lacks.
    """
    root = Path(root).expanduser()
    if not root.exists():
        raise FolderError(f"{root} does not exist. Point to a folder laid out as {_LAYOUTS.format(root=root)}.")
    top = {p.name for p in _class_folders(root, root)}
    layout = "train-test" if {"train", "test"} <= top else "classes"
    if layout == "classes":
        parts = {"all": root}
    else:
        parts = {s: root / s for s in SPLITS if s in top}
    skipped: list[str] = []
    if layout == "train-test":
        skipped += sorted(f"{n}/" for n in top - set(parts))  # other folders beside train/ and test/
    found: dict[str, dict[str, list[str]]] = {}
    for part, folder in parts.items():
        found[part] = {p.name: images_under(p, root, skipped) for p in _class_folders(folder, root)}
        skipped += sorted(str(p.relative_to(root)) for p in folder.iterdir() if p.is_file() and _visible(p))
    classes = sorted(found["train" if layout == "train-test" else "all"])
    where = root / "train" if layout == "train-test" else root
    if len(classes) < 2:
        what = f"only the class folder {classes[0]!r}" if classes else "no class folders"
        raise FolderError(
            f"{where} holds {what}: a classifier needs at least 2 classes. Put each class's images in a "
            f"folder of its own under {where}, e.g. {where}/cats/ and {where}/dogs/."
        )
    for part, by_class in found.items():
        if empty := [c for c, files in by_class.items() if not files]:
            raise FolderError(
                f"{parts[part]} has class folders with no images: {', '.join(empty)} (image files end in "
                f"{', '.join(IMAGE_SUFFIXES)}). Add images to them or remove the folders."
            )
        if part in ("test", "val") and (extra := sorted(set(by_class) - set(classes))):
            raise FolderError(
                f"{parts[part]} has classes that {root / 'train'} lacks: {', '.join(extra)}. Add training images "
                f"for them, or remove them from {part}/."
            )
    return layout, classes, found, sorted(skipped)


def _draw(files: Sequence[str], counts: dict[str, int], seed: int, salt: str) -> dict[str, list[str]]:
    """Deal `files` into the splits of `counts` (the rest to train), in an order drawn from `seed` and `salt`."""
    key = int.from_bytes(hashlib.sha256(f"{seed}:{salt}".encode()).digest()[:8], "little")
    *hands, rest = deal(len(files), list(counts.values()), torch.Generator().manual_seed(key))
    dealt = {split: sorted(files[i] for i in hand) for split, hand in zip(counts, hands)}
    return {**dealt, "train": sorted(files[i] for i in rest)}


def _held_out(n: int, fractions: dict[str, float]) -> dict[str, int]:
    """How many of a class's `n` images each held-out split gets: its fraction, at least one."""
    return {split: max(1, round(fraction * n)) for split, fraction in fractions.items()}


def _deal(files: list[str], saved: dict[str, list[str]] | None, fractions: dict, seed: int, name: str):
    """One class's files by split, and what changed: the saved split kept for files still there, new files
    drawn into the held-out splits up to their share; without a saved split, all drawn."""
    if saved is None:
        return _draw(files, _held_out(len(files), fractions), seed, name), []
    on_disk, splits = set(files), ("train", *fractions)  # the splits drawn from these files
    old = {s: [f for f in saved.get(s, []) if f in on_disk] for s in splits}
    kept = {f for s in splits for f in old[s]}
    new = [f for f in files if f not in kept]
    gone = sum(len(saved.get(s, [])) for s in splits) - len(kept)
    target = _held_out(len(files), fractions)
    need = {s: max(0, target[s] - len(old[s])) for s in fractions}
    while sum(need.values()) > len(new):  # fewer new files than the held-out splits lack
        need[max(need, key=need.get)] -= 1
    dealt = _draw(new, need, seed, name + ":added")
    changes = [f"{name}: {len(new)} new image(s) drawn into the splits"] if new else []
    changes += [f"{name}: {gone} image(s) no longer on disk, dropped from the splits"] if gone else []
    return {s: sorted(old[s] + dealt.get(s, [])) for s in splits}, changes


def split_file_for(root: Path, seed: int) -> Path:
    """Where the split of the photo folder `root` is saved: `data/splits/<name>-<hash of its path>-seed<seed>.json`."""
    digest = hashlib.sha1(str(root.resolve()).encode()).hexdigest()[:10]
    return data_dir() / "splits" / f"{root.resolve().name}-{digest}-seed{seed}.json"


def photo_splits(root: str | os.PathLike, seed: int = 0, fractions: dict[str, float] | None = None) -> PhotoSplits:
    """Read the photo folder `root` and return its train/val/test split: the saved one, else a new one, saved.

    A new split is stratified: each class gives `fractions` of its images (default `FRACTIONS`, at least
    one each) to validation and test, drawn with `seed`; with your own `test/` folder only validation is
    drawn (from `train/`), and with your own `val/` folder nothing is. Raises `FolderError` when a class
    has too few images for one in every split drawn.
    """
    root = Path(root).expanduser()
    layout, classes, found, skipped = scan(root)
    fractions = dict(fractions or FRACTIONS)
    drawn = {s: f for s, f in fractions.items() if s not in found or layout == "classes"}
    pool = found["all"] if layout == "classes" else found["train"]
    needed = 1 + len(drawn)
    if short := {c: len(files) for c, files in pool.items() if len(files) < needed}:
        listed = ", ".join(f"{c} ({n})" for c, n in sorted(short.items()))
        raise FolderError(
            f"{root}: these classes have too few images for {needed} splits ({needed} images at least, one "
            f"for training and one for each of {', '.join(drawn)}): {listed}. Add images to them (a few "
            f"dozen per class is a better start), or remove those class folders."
        )
    path = split_file_for(root, seed)
    saved = _read_saved(path, layout, fractions)
    changes = [] if saved is not None or not path.exists() else ["the layout changed: a new split was drawn"]
    files: dict[str, list[tuple[str, int]]] = {s: [] for s in SPLITS}
    for label, name in enumerate(classes):
        dealt, changed = _deal(pool[name], None if saved is None else saved.get(name, {}), drawn, seed, name)
        changes += changed
        for s in SPLITS:  # drawn here, or your own test/ (and val/) folder's
            files[s] += [(f, label) for f in (dealt[s] if s in dealt else found.get(s, {}).get(name, []))]
    if saved is not None and (removed := sorted(set(saved) - set(classes))):
        changes.append(f"class folders no longer there: {', '.join(removed)}")
    files = {s: sorted(files[s]) for s in SPLITS}
    if saved is None or changes:
        _write(path, root, layout, seed, fractions, classes, files)
    return PhotoSplits(root, layout, classes, files, path, skipped, changes)


def _read_saved(path: Path, layout: str, fractions: dict) -> dict[str, dict[str, list[str]]] | None:
    """The saved split as {class: {split: files}}, or None if there is none for this layout."""
    if not path.exists():
        return None
    try:
        saved = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise FolderError(f"The saved split {path} cannot be read ({e}). Delete it to draw a new split.") from e
    if (saved.get("version"), saved.get("layout")) != (SPLIT_VERSION, layout):
        return None
    if saved.get("fractions") != fractions:
        raise FolderError(
            f"{path} saved a split with the fractions {saved.get('fractions')}, not {fractions}: pass those, or "
            f"delete the file to draw a new split (the old test images may then land in training)."
        )
    by_class: dict[str, dict[str, list[str]]] = {}
    for split, names in saved["files"].items():
        for f in names:
            by_class.setdefault(saved["labels"][f], {}).setdefault(split, []).append(f)
    return by_class


def _write(path: Path, root: Path, layout: str, seed: int, fractions: dict, classes: list[str], files: dict) -> None:
    record = {
        "version": SPLIT_VERSION,
        "root": str(root.resolve()),
        "layout": layout,
        "seed": seed,
        "fractions": fractions,
        "classes": classes,
        "files": {s: [f for f, _ in files[s]] for s in SPLITS},
        "labels": {f: classes[label] for s in SPLITS for f, label in files[s]},
    }
    with atomic_write(path, "w") as f:
        json.dump(record, f, indent=1, ensure_ascii=False)


def example_photos(world: World | None = None) -> Path:
    """A photo folder to practise on until you point to your own: five drawn foods the mini world's source
    never saw (`root/<class>/`), or the book's photos in the hotdog world (`root/{train,test}/<class>/`; with the
    laptop recipe, copies of its subset: `d2lft.data.recipe_dir`)."""
    world = world or get_world()
    if world.name == "mini":
        return make_mini_photos(data_dir() / "mini-photos")
    return recipe_dir(world)
