"""The source models' weights files, each checked against its SHA-256 before it is loaded.

torch checks a weights file's SHA-256 only when it downloads it; a cached file is loaded unchecked, so
every load of the course checks it first: torchvision's ImageNet files (in torch's cache, or fetched from
`$D2LFT_WEIGHTS_URL`, a mirror's base URL or a folder, under the same check), a rehearsal's stand-in
(declared with its own SHA-256 by `d2lft.worlds.downloads.stand_in`, accepted only into a separate
`$TORCH_HOME`), and the mini source's file (`d2lft.worlds.mini.source`).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import torch
import torchvision

from ..support.files import file_hash
from ..support.settings import setting
from .downloads import DownloadError, download_url, mirrored, stand_in

_HASH_IN_NAME = re.compile(r"-([a-f0-9]{8,})\.")  # torch.hub's convention: name-<sha256 prefix>.pth


class WeightsError(RuntimeError):
    """Pretrained weights are missing, corrupt, or cannot be downloaded."""


def weights_cache_path(url: str) -> Path:
    """Where torch.hub caches the file at `url`: `$TORCH_HOME/hub/checkpoints/<file name>`."""
    return Path(torch.hub.get_dir()) / "checkpoints" / url.rsplit("/", 1)[-1]


def _hash_in_name(path: Path) -> str:
    match = _HASH_IN_NAME.search(path.name)
    if not match:
        raise ValueError(f"{path.name} carries no SHA-256 prefix in its name (like resnet18-f37072fd.pth)")
    return match.group(1)


def verify_weights_file(path: str | os.PathLike, expected: str | None = None) -> None:
    """Check a weights file against `expected` (a SHA-256 or its prefix), else the prefix in its name."""
    path = Path(path)
    expected = expected or _hash_in_name(path)
    actual = file_hash(path, "sha256")
    if not actual.startswith(expected):
        raise WeightsError(
            f"The weights file {path} is corrupt or was changed: its SHA-256 starts with {actual[: len(expected)]}, "
            f"expected {expected}. Delete it (rm '{path}') and run again to download or rebuild it."
        )


def fetch_weights(url: str, path: Path, mirror: str, expected: str | None = None) -> Path:
    """torchvision's weights file `url`, fetched from `mirror` (a base URL or a folder) into torch's cache at
    `path`, kept only if its SHA-256 starts with `expected`, by default the prefix in its name, as torch
    checks the real download."""
    expects = "the rehearsal's manifest expects" if expected else f"{path.name} names"
    try:
        return download_url(mirrored(url, mirror), path, expected or _hash_in_name(path), "sha256", expects=expects)
    except DownloadError as e:
        raise WeightsError(f"{e} (the mirror comes from D2LFT_WEIGHTS_URL={mirror})") from e


def checked_imagenet_weights(arch: str) -> torchvision.models.WeightsEnum:
    """torchvision's ImageNet weights of `arch`, with their file in torch's cache checked (or fetched from
    `$D2LFT_WEIGHTS_URL` and checked as it arrives); a file not cached yet is downloaded and checked by torch."""
    weights = torchvision.models.get_model_weights(arch)["IMAGENET1K_V1"]
    path = weights_cache_path(weights.url)
    mirror = setting("D2LFT_WEIGHTS_URL") or ""
    declared = stand_in(mirrored(weights.url, mirror), "TORCH_HOME") if mirror else None
    expected = declared["sha256"] if declared else None  # None: the prefix in the file's name
    if mirror and not path.exists():  # a classroom's or a region's copy of torchvision's files
        fetch_weights(weights.url, path, mirror, expected)  # checked as it arrives
    elif path.exists():
        verify_weights_file(path, expected)
    return weights
