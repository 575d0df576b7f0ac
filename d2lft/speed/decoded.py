"""The decode-once pipeline: images decoded once, kept in memory (and on the GPU when there is one),
augmented a batch at a time.

Reading a JPEG, decoding it and resizing it costs more than the network on a GPU, and a good share
of each step on a CPU. `DecodedImageFolder` does it once per file (shorter side resized to
`short_side`, aspect ratio kept, as the book's `Resize(256)`), and `DecodedLoader` serves batches
from those uint8 tensors on any device: the book's augmentations, cut and resized there, batch by
batch (`augment_batch`). The cache is keyed by the files' paths, sizes and modification times, so
changing a file builds it again; given a `cache_dir`, it is also kept on disk, so that the next run
(a photo folder's, say) does not decode again. A large JPEG is decoded at a reduced size (`DRAFT_GAP`).
Random crops are cut from the resized image rather than the original, which is the one difference
from the book's PIL pipeline.
"""

from __future__ import annotations

import hashlib
import math
import os
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.nn import functional as F
from torchvision import transforms
from torchvision.transforms.v2 import functional as TF
from tqdm.auto import tqdm

from ..data import hotdog_datasets
from ..imagenet import imagenet_stats
from ..support.files import atomic_write
from ..support.images import load_image
from ..worlds import World, get_world

# (fingerprint, device) -> decoded images, shared by every dataset in the process. Four entries hold
# a train and a test split both in CPU memory and on one GPU; older ones are dropped first.
_DECODED: OrderedDict[tuple[str, str], list[torch.Tensor]] = OrderedDict()
_KEEP = 4
# A JPEG is decoded at 1/2, 1/4 or 1/8 of its size while its shorter side stays at least DRAFT_GAP times the
# size it is resized to: Pillow's `reducing_gap`, whose documentation calls a gap of 3 or more indistinguishable
# from resampling the full image in most cases. A 12-megapixel photo for the laptop recipe's 146 px is decoded
# at 1/4; the mini world's small drawings are read whole.
DRAFT_GAP = 3
DECODER = f"pillow-draft-{DRAFT_GAP}"  # part of the cache key: a new way of decoding builds the caches again
_KEEP_ON_DISK = 16  # decoded splits kept in a `cache_dir` (a photo folder has three); least recently used go first


def decode_resized(path: str | os.PathLike, short_side: int, gap: int | None = DRAFT_GAP) -> torch.Tensor:
    """Read one image (any mode) and return it as a uint8 (3, H, W) tensor with min(H, W) == short_side; a
    JPEG decoded at a reduced size that keeps `gap` times the short side (`gap=None`: decoded whole)."""
    img = load_image(path, draft=(gap * short_side, gap * short_side) if gap else None)
    w, h = img.size
    scale = short_side / min(w, h)
    size = (max(short_side, round(w * scale)), max(short_side, round(h * scale)))
    img = img.resize(size, Image.BILINEAR, reducing_gap=None if scale >= 1 else 2.0)
    return torch.from_numpy(np.asarray(img).copy()).permute(2, 0, 1).contiguous()


def files_fingerprint(paths: list[str], short_side: int) -> str:
    """A hash of the files' paths, sizes and modification times, and the decode size."""
    digest = hashlib.sha1(f"{DECODER}\0{short_side}".encode())
    for path in paths:
        stat = os.stat(path)
        digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _from_disk(file: Path) -> list[torch.Tensor] | None:
    """The decoded images kept in `file`, or None when there is none or it cannot be read (it is decoded again)."""
    try:
        images = torch.load(file, weights_only=True)
    except FileNotFoundError:
        return None
    except Exception as e:  # noqa: BLE001 (a cache: whatever went wrong, decoding again repairs it)
        print(f"The decoded-image cache {file} cannot be read ({type(e).__name__}): decoding again.")
        return None
    os.utime(file)  # recently used: pruned last
    return images


def _to_disk(file: Path, images: list[torch.Tensor]) -> None:
    """Keep `images` in `file` (atomically), and only the `_KEEP_ON_DISK` most recently used caches beside it."""
    with atomic_write(file) as f:
        torch.save(images, f)
    kept = sorted(file.parent.glob("*.pt"), key=_last_used, reverse=True)
    for old in kept[_KEEP_ON_DISK:]:
        old.unlink(missing_ok=True)


def _last_used(file: Path) -> float:
    try:
        return file.stat().st_mtime
    except FileNotFoundError:  # pruned meanwhile by another process
        return 0.0


def _decoded(
    fingerprint: str, paths: list[str], short_side: int, device: torch.device, cache_dir: Path | None = None
) -> list[torch.Tensor]:
    """The images of `paths` decoded at `short_side`, on `device`: from memory, from `cache_dir` on disk, or
    decoded (or copied) now."""
    key = (fingerprint, str(device))
    if key not in _DECODED:
        if device.type == "cpu":
            file = Path(cache_dir) / f"{fingerprint}.pt" if cache_dir else None
            images = _from_disk(file) if file else None
            if images is None:
                images = [decode_resized(p, short_side) for p in tqdm(paths, desc="decoding once", leave=False)]
                if file:
                    _to_disk(file, images)
        else:  # copied from the CPU cache, decoded first if need be
            cpu = _decoded(fingerprint, paths, short_side, torch.device("cpu"), cache_dir)
            images = [image.to(device) for image in cpu]
        _DECODED[key] = images
        while len(_DECODED) > _KEEP:
            _DECODED.popitem(last=False)
    _DECODED.move_to_end(key)
    return _DECODED[key]


class DecodedImageFolder(torch.utils.data.Dataset):
    """An `ImageFolder`'s samples decoded once (shorter side `short_side`), transformed from memory; with
    `cache_dir`, kept there on disk too, for the next run."""

    def __init__(self, folder, short_side: int, transform=None, cache_dir: str | os.PathLike | None = None):
        self.samples, self.classes, self.targets = list(folder.samples), folder.classes, list(folder.targets)
        self.short_side, self.transform, self.cache_dir = short_side, transform, cache_dir
        self.paths = [path for path, _ in self.samples]
        self.fingerprint = files_fingerprint(self.paths, short_side)
        self.images = _decoded(self.fingerprint, self.paths, short_side, torch.device("cpu"), cache_dir)

    def images_on(self, device: torch.device) -> list[torch.Tensor]:
        """The decoded uint8 images on `device`: this folder's own in CPU memory, else copied there once and kept
        for the next caller."""
        device = torch.device(device)
        if device.type == "cpu":
            return self.images
        return _decoded(self.fingerprint, self.paths, self.short_side, device, self.cache_dir)

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int):
        image = self.images[i]
        return (self.transform(image) if self.transform else image), self.targets[i]


class JoinedDecoded(torch.utils.data.Dataset):
    """Several `DecodedImageFolder`s of the same classes as one (training + validation images, say), without
    decoding anything again."""

    def __init__(self, *parts: DecodedImageFolder):
        self.parts, self.classes = parts, parts[0].classes
        self.samples = [sample for part in parts for sample in part.samples]
        self.targets = [target for part in parts for target in part.targets]
        self.images = self.images_on(torch.device("cpu"))

    def images_on(self, device: torch.device) -> list[torch.Tensor]:
        return [image for part in self.parts for image in part.images_on(device)]

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int):
        return self.images[i], self.targets[i]


def augment_batch(
    images: Sequence[torch.Tensor],
    crop_size: int,
    train: bool,
    scale: tuple[float, float] = (0.08, 1.0),
    ratio: tuple[float, float] = (3 / 4, 4 / 3),
) -> torch.Tensor:
    """The book's augmentations for a batch of uint8 (3, H, W) images on one device; a normalised float batch.

    `train`: RandomResizedCrop (boxes drawn by torchvision's own `get_params`, from the global RNG)
    and RandomHorizontalFlip; else CenterCrop. Then ToTensor's scaling and `normalize`. For a batch of
    one, the random draws are those of the book's per-image pipeline, in the same order.
    """
    if train:
        crops = []
        for image in images:
            top, left, height, width = transforms.RandomResizedCrop.get_params(image, list(scale), list(ratio))
            crop = image[None, :, top : top + height, left : left + width].float()
            crops.append(
                F.interpolate(crop, (crop_size, crop_size), mode="bilinear", align_corners=False, antialias=True)
            )
        x = torch.cat(crops)
        flip = (torch.rand(len(images)) < 0.5).to(x.device, non_blocking=True)
        x = torch.where(flip[:, None, None, None], x.flip(-1), x)
    else:
        x = torch.stack([TF.center_crop(image, [crop_size, crop_size]) for image in images]).float()
    mean, std = imagenet_stats(x.device)
    return (x / 255 - mean) / std


class DecodedLoader:
    """Batches (X, y) from a `DecodedImageFolder`, with the images kept on `device` and augmented there.

    Stands in for a `DataLoader` in `train_fast`: `len()` is the number of batches, and `train=True`
    shuffles (from the global RNG) and augments as the book's `train_augs`; else in order, centre
    crops as `test_augs`. `indices` picks a subset of the folder.
    """

    def __init__(
        self,
        folder: DecodedImageFolder,
        batch_size: int,
        crop_size: int,
        train: bool,
        device: torch.device | str = "cpu",
        indices: Sequence[int] | None = None,
    ):
        self.device = torch.device(device)
        if self.device.type == "cuda" and self.device.index is None:  # "cuda" and "cuda:0": one copy, not two
            self.device = torch.device("cuda", torch.cuda.current_device())
        self.images = folder.images_on(self.device)
        self.targets = torch.tensor(folder.targets, device=self.device)
        self.indices = torch.arange(len(self.images)) if indices is None else torch.as_tensor(indices)
        self.batch_size, self.crop_size, self.train = batch_size, crop_size, train

    def __len__(self) -> int:
        return math.ceil(len(self.indices) / self.batch_size)

    def __iter__(self):
        order = self.indices[torch.randperm(len(self.indices))] if self.train else self.indices
        for batch in order.split(self.batch_size):
            X = augment_batch([self.images[i] for i in batch.tolist()], self.crop_size, self.train)
            yield X, self.targets[batch.to(self.device, non_blocking=True)]


def load_data_hotdog_decoded(
    batch_size: int, world: World | None = None, device: torch.device | str = "cpu", validation: bool = False
) -> tuple[DecodedLoader, DecodedLoader]:
    """`load_data_hotdog`'s (train_iter, test_iter), or with `validation` (train_iter, val_iter), served
    from the decode-once cache on `device`."""
    world = world or get_world()
    train_set, held_out_set = hotdog_datasets(world, validation=validation)
    train = DecodedImageFolder(train_set.dataset, world.resize_size)
    # the validation images are training files: decoded once, served without augmentation
    held_out = train if validation else DecodedImageFolder(held_out_set.dataset, world.resize_size)
    return (
        DecodedLoader(train, batch_size, world.crop_size, True, device, train_set.indices),
        DecodedLoader(held_out, batch_size, world.crop_size, False, device, held_out_set.indices),
    )
