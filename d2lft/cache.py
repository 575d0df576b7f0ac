"""A decode-once image cache: every file decoded and resized once into uint8 tensors kept in memory.

Reading a JPEG, decoding it and resizing it costs more than the network on a GPU, and a good share
of each step on a CPU. `DecodedImageFolder` does it once per file (shorter side resized to
`short_side`, aspect ratio kept) and then augments each sample from memory with tensor transforms
(`cached_augs`). The cache is keyed by the files' paths, sizes and modification times, so changing
a file builds it again. Random crops are cut from the resized image rather than the original,
which is the one difference from the book's PIL pipeline.
"""

from __future__ import annotations

import hashlib
import os

import numpy as np
import torch
from PIL import Image
from torchvision.transforms import v2
from tqdm.auto import tqdm

from .data import IMAGENET_MEAN, IMAGENET_STD, load_image

_DECODED: dict[str, list[torch.Tensor]] = {}  # fingerprint -> decoded images, shared by every dataset in the process


def decode_resized(path: str | os.PathLike, short_side: int) -> torch.Tensor:
    """Read one image (any mode) and return it as a uint8 (3, H, W) tensor with min(H, W) == short_side."""
    img = load_image(path)
    w, h = img.size
    scale = short_side / min(w, h)
    size = (max(short_side, round(w * scale)), max(short_side, round(h * scale)))
    img = img.resize(size, Image.BILINEAR, reducing_gap=None if scale >= 1 else 2.0)
    return torch.from_numpy(np.asarray(img).copy()).permute(2, 0, 1).contiguous()


def files_fingerprint(paths: list[str], short_side: int) -> str:
    """A hash of the files' paths, sizes and modification times, and the decode size."""
    digest = hashlib.sha1(str(short_side).encode())
    for path in paths:
        stat = os.stat(path)
        digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


class DecodedImageFolder(torch.utils.data.Dataset):
    """An `ImageFolder`'s samples decoded once (shorter side `short_side`), transformed from memory."""

    def __init__(self, folder, short_side: int, transform=None):
        self.samples, self.classes, self.targets = list(folder.samples), folder.classes, list(folder.targets)
        self.transform = transform
        self.fingerprint = files_fingerprint([path for path, _ in self.samples], short_side)
        if self.fingerprint not in _DECODED:
            _DECODED.clear()  # keep one cache in memory: the folders in use now
            images = [decode_resized(p, short_side) for p, _ in tqdm(self.samples, desc="decoding once", leave=False)]
            _DECODED[self.fingerprint] = images
        self.images = _DECODED[self.fingerprint]

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int):
        image = self.images[i]
        return (self.transform(image) if self.transform else image), self.targets[i]


def cached_augs(crop_size: int) -> tuple[v2.Compose, v2.Compose]:
    """The book's (train, test) augmentations as tensor transforms for `DecodedImageFolder` samples."""
    to_float = [v2.ToDtype(torch.float32, scale=True), v2.Normalize(IMAGENET_MEAN, IMAGENET_STD)]
    train = v2.Compose([v2.RandomResizedCrop(crop_size, antialias=True), v2.RandomHorizontalFlip(), *to_float])
    test = v2.Compose([v2.CenterCrop(crop_size), *to_float])
    return train, test
