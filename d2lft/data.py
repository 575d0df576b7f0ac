"""Reading the hotdog dataset: the book's augmentations, checked ImageFolders, DataLoaders."""

from __future__ import annotations

import copy
import logging
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
import torchvision
from PIL import Image, ImageFilter
from torchvision import transforms
from tqdm.auto import tqdm

from .devices import try_gpu
from .imagenet import normalize
from .support.files import build_once
from .support.images import BadImageError, load_image
from .support.paths import data_dir
from .worlds import CLASSES, World, get_world
from .worlds.downloads import download_extract
from .worlds.mini.dataset import make_mini_hotdog

log = logging.getLogger("d2lft")


def hotdog_dir(world: World | None = None) -> Path:
    """The world's dataset folder, `{train,test}/{hotdog,not-hotdog}/`, downloaded or generated on first use."""
    world = world or get_world()
    if world.name == "hotdog":
        return download_extract("hotdog")
    return make_mini_hotdog(data_dir() / "mini-hotdog", world.images_per_class)


def sketch(img: Image.Image) -> Image.Image:
    """A line drawing of a photo: its edges, dark on white, no colour or texture left. The same task in a
    domain far from the photos a source model learned on. Edges are found at 128 pixels on the shorter side
    at most (a large photo is drawn small and scaled back), so lines look alike at every photo size."""
    scale = min(1.0, 128 / min(img.size))
    small = img if scale == 1 else img.resize([round(side * scale) for side in img.size], Image.LANCZOS)
    short = min(small.size)
    gray = small.convert("L").filter(ImageFilter.GaussianBlur(max(1.0, short / 90)))
    edges = np.asarray(gray.filter(ImageFilter.FIND_EDGES), dtype=np.float32)
    lines = Image.fromarray((255 - np.clip(edges * 6, 0, 255)).astype(np.uint8))
    lines = lines.filter(ImageFilter.MinFilter(max(3, 2 * (short // 64) + 1)))
    return (lines if scale == 1 else lines.resize(img.size, Image.BILINEAR)).convert("RGB")


def recipe_dir(world: World | None = None) -> Path:
    """A folder of just the images the world's recipe uses, in the `{train,test}/<class>/` layout: the dataset
    itself, or the laptop recipe's subset, copied once into `data/hotdog-photos/`."""
    world = world or get_world()
    root = hotdog_dir(world)
    if not world.subset:
        return root

    def fill(staging: Path) -> None:
        for split, subset in zip(("train", "test"), hotdog_datasets(world)):
            for i in subset.indices:
                path, label = subset.dataset.samples[i]
                target = staging / split / CLASSES[label] / Path(path).name
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target)

    return build_once(data_dir() / "hotdog-photos", f"{sorted(world.subset.items())}\n", fill)


def sketch_dir(world: World | None = None) -> Path:
    """The images of `recipe_dir` as line drawings (`sketch_folder`), drawn once into `data/<world>-sketches/`:
    the same task, far from the photos the source model learned on."""
    world = world or get_world()
    return sketch_folder(recipe_dir(world), data_dir() / f"{world.name}-sketches", sorted(world.used_per_class.items()))


def sketch_folder(photos: Path, out: Path, key) -> Path:
    """Every image of the `{train,test}/<class>/` folder `photos` as a line drawing (`sketch`), in the same
    layout, drawn once into `out`, and again when `key` (what the images are) changes."""

    def fill(staging: Path) -> None:
        files = sorted(p for p in photos.rglob("*") if p.parent.name in CLASSES)
        for path in tqdm(files, desc="drawing sketches", leave=False):
            target = staging / path.relative_to(photos).with_suffix(".png")
            target.parent.mkdir(parents=True, exist_ok=True)
            sketch(load_image(path)).save(target)

    return build_once(out, f"sketch version 2, {key}\n", fill)


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
    return train_augs, resize_crop_normalize(crop_size, resize_size)


def resize_crop_normalize(
    crop_size: int = 224,
    resize_size: int = 256,
    mean: Sequence[float] | None = None,
    std: Sequence[float] | None = None,
) -> transforms.Compose:
    """The book's test-time transform: `Resize` (the shorter side, aspect kept), centre crop, ImageNet's
    normalisation (or `mean` and `std`). The test images, cached features and a kept model's predictions use it."""
    norm = normalize if mean is None else transforms.Normalize(mean, std)
    return transforms.Compose(
        [transforms.Resize(resize_size), transforms.CenterCrop(crop_size), transforms.ToTensor(), norm]
    )


class CheckedImageFolder(torchvision.datasets.ImageFolder):
    """An `ImageFolder` that reads with `load_image`; with `skip_bad`, bad files are skipped and listed in `skipped`."""

    def __init__(self, root: str | os.PathLike, transform=None, skip_bad: bool = False):
        super().__init__(root, transform=transform, loader=load_image)
        self.skipped: list[tuple[str, str]] = []
        if skip_bad:
            good = []
            for path, label in self.samples:
                try:
                    load_image(path)
                except BadImageError as e:
                    self.skipped.append((path, str(e)))
                else:
                    good.append((path, label))
            self.samples = self.imgs = good
            self.targets = [label for _, label in good]
            if self.skipped:
                log.warning("skipped %d unreadable images under %s", len(self.skipped), root)


def image_folder(root: str | os.PathLike, transform=None, skip_bad: bool = False) -> CheckedImageFolder:
    """A checked `ImageFolder` over `root`, which must hold one folder of images per class in `CLASSES`."""
    root = Path(root)
    expected = f"{root}/{{{','.join(CLASSES)}}}/<images>"
    if not root.is_dir():
        raise FileNotFoundError(f"{root} does not exist; expected the layout {expected}.")
    found = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if found != sorted(CLASSES):
        raise FileNotFoundError(f"{root} holds the folders {found}; expected the layout {expected}.")
    extensions = torchvision.datasets.folder.IMG_EXTENSIONS
    for label in CLASSES:
        if not any(p.suffix.lower() in extensions for p in (root / label).rglob("*") if p.is_file()):
            raise FileNotFoundError(f"{root / label} holds no images (looked for {', '.join(extensions)}).")
    return CheckedImageFolder(root, transform=transform, skip_bad=skip_bad)


def hotdog_splits(
    root: str | os.PathLike, train_augs=None, test_augs=None, skip_bad: bool = False
) -> tuple[CheckedImageFolder, CheckedImageFolder]:
    """The train and test `ImageFolder`s of a dataset laid out as `{train,test}/{hotdog,not-hotdog}/`."""
    root = Path(root)
    if missing := [split for split in ("train", "test") if not (root / split).is_dir()]:
        raise FileNotFoundError(
            f"{root} has no {' or '.join(missing)} folder; expected the layout "
            f"{root}/{{train,test}}/{{{','.join(CLASSES)}}}/<images>. "
            f"Delete {root} to download or generate it again."
        )
    return image_folder(root / "train", train_augs, skip_bad), image_folder(root / "test", test_augs, skip_bad)


VALIDATION_FRACTION = 0.2  # of each class's training images, held out to choose hyperparameters on


def deal(n: int, counts: Sequence[int], generator: torch.Generator) -> list[list[int]]:
    """Shuffle `range(n)` with `generator` and deal it out: `counts[k]` to hand `k`, the rest to a last hand.
    The course's one sampler: validation splits, a recipe's subset, a photo folder's splits."""
    order, hands, start = torch.randperm(n, generator=generator).tolist(), [], 0
    for k in counts:
        hands.append(order[start : start + k])
        start += k
    return [*hands, order[start:]]


def draw_per_class(targets: Sequence[int], count, seed: int) -> tuple[list[int], list[int]]:
    """Draw `count(n)` of each class's `n` indices with `seed` (`deal`, class by class): (drawn, the rest), each
    sorted. Stratified: the validation split, a recipe's subset, fewer training images of a photo folder."""
    generator = torch.Generator().manual_seed(seed)
    drawn, rest = [], []
    for label in sorted(set(targets)):
        members = [i for i, t in enumerate(targets) if t == label]
        picked, left = deal(len(members), [count(len(members))], generator)
        drawn += [members[j] for j in picked]
        rest += [members[j] for j in left]
    return sorted(drawn), sorted(rest)


def validation_split(
    targets: Sequence[int], fraction: float = VALIDATION_FRACTION, seed: int = 0
) -> tuple[list[int], list[int]]:
    """Split indices into (train, validation), stratified: `fraction` of each class, drawn with `seed`."""
    if not 0 < fraction < 1:
        raise ValueError(f"the validation fraction must lie between 0 and 1, not {fraction}")
    val_ids, train_ids = draw_per_class(targets, lambda n: max(1, round(fraction * n)), seed)
    return train_ids, val_ids


def split_indices(
    world: World, train_targets: Sequence[int], test_targets: Sequence[int], validation: bool = False
) -> tuple[list[int], list[int]]:
    """The (training, held-out) image indices the world's recipe uses: every image, or the laptop recipe's
    stratified subset of each split (drawn with seed 0, the same every run). With `validation`, the held-out
    images are the validation fifth of all the training images (`validation_split`), drawn before the subset,
    so that every recipe of a world is judged on the same images; the subset is drawn from the rest."""

    def used(ids: list[int], targets: Sequence[int], split: str) -> list[int]:
        if not world.subset:
            return ids
        drawn, _ = draw_per_class([targets[i] for i in ids], lambda n: min(n, world.subset[split]), seed=0)
        return [ids[i] for i in drawn]

    if validation:
        fit, val = validation_split(train_targets)
        return used(fit, train_targets, "train"), val
    every_train, every_test = list(range(len(train_targets))), list(range(len(test_targets)))
    return used(every_train, train_targets, "train"), used(every_test, test_targets, "test")


def without_transform(dataset):
    """The images of `dataset` (an ImageFolder, or a Subset of one: a loader's `.dataset`) as they are on
    disk, in the same order: for showing the images behind a loader's predictions."""
    if isinstance(dataset, torch.utils.data.Subset):
        return torch.utils.data.Subset(without_transform(dataset.dataset), dataset.indices)
    plain = copy.copy(dataset)
    plain.transform = None
    return plain


def image_files(dataset) -> list[tuple[str, int]]:
    """The files behind `dataset` (an ImageFolder, or a Subset of one: a loader's `.dataset`) as (path,
    label) pairs, in the same order: for asking which file a prediction was about."""
    if isinstance(dataset, torch.utils.data.Subset):
        files = image_files(dataset.dataset)
        return [files[i] for i in dataset.indices]
    return list(dataset.samples)


def hotdog_datasets(
    world: World | None = None, train_augs=None, test_augs=None, skip_bad: bool = False, validation: bool = False
) -> tuple[torch.utils.data.Subset, torch.utils.data.Subset]:
    """The (training, held-out) images the world's recipe uses, with the book's augmentations by default: every
    image, or the laptop recipe's subset (`split_indices`); with `validation`, the held-out images are the
    validation fifth of the training images, seen through the test transform. Each is a `Subset` of an
    `ImageFolder`. Every loader of the course starts here: the book's, the decode-once cache, DDP."""
    world = world or get_world()
    default_train, default_test = hotdog_augs(world.crop_size, world.resize_size)
    train, test = hotdog_splits(hotdog_dir(world), train_augs or default_train, test_augs or default_test, skip_bad)
    train_ids, held_out_ids = split_indices(world, train.targets, test.targets, validation)
    if validation:
        held_out = copy.copy(train)  # the same files, seen through the test transform
        held_out.transform = test.transform
        test = held_out
    return torch.utils.data.Subset(train, train_ids), torch.utils.data.Subset(test, held_out_ids)


def load_data_hotdog(
    batch_size: int,
    world: World | None = None,
    train_augs=None,
    test_augs=None,
    num_workers: int | None = None,
    skip_bad: bool = False,
    validation: bool = False,
) -> tuple[torch.utils.data.DataLoader, torch.utils.data.DataLoader]:
    """Return (train_iter, test_iter) over the world's hotdog dataset, with the book's augmentations.

    `validation=True` returns (train_iter, val_iter) instead: the training images split by
    `validation_split` (seed 0), the held-out fifth with the test transform; the test set is not touched.
    `num_workers=None` picks `loader_options(try_gpu())`: worker processes and pinned memory on a GPU.
    """
    world = world or get_world()
    train, test = hotdog_datasets(world, train_augs, test_augs, skip_bad, validation)
    options = loader_options(try_gpu()) if num_workers is None else {"num_workers": num_workers}
    train_iter = torch.utils.data.DataLoader(train, batch_size, shuffle=True, **options)
    test_iter = torch.utils.data.DataLoader(test, batch_size, **options)
    return train_iter, test_iter


def loader_options(device: torch.device) -> dict:
    """DataLoader settings for training on `device`.

    On a GPU, worker processes decode and augment while it computes, into pinned memory (so that
    `.to(device, non_blocking=True)` overlaps the copy); on a CPU, none: its cores are busy training.
    """
    if device.type != "cuda":
        return {"num_workers": 0}
    return {"num_workers": min(8, os.cpu_count() or 1), "pin_memory": True}
