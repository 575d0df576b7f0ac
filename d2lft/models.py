"""Pretrained source models for both worlds, behind one call: `load_pretrained(arch)`.

- `hotdog` world: torchvision's weights API (`ResNet18_Weights.IMAGENET1K_V1`) and ImageNet's
  1000 category names. torch checks a weights file's SHA-256 only when it downloads it; a cached
  file is loaded unchecked, so every load here checks it first. `$D2LFT_WEIGHTS_URL` (a mirror's
  base URL, or a folder) serves the same files, under the same check.
- A rehearsal (`tools/rehearsal.py`) serves a stand-in file under torchvision's name from 127.0.0.1 and
  declares its own SHA-256 (`d2lft.worlds.downloads.stand_in`), accepted only into a separate `$TORCH_HOME`.
- `mini` world: the same torchvision architecture, pretrained on drawn foods (`hotdog` among them)
  by `d2lft.worlds.mini.source`, shipped in `data/mini-source/`; its SHA-256 is checked the same way.
"""

from __future__ import annotations

import os
import re
import urllib.error
from pathlib import Path

import torch
import torchvision
from torch import nn

from .files import file_hash
from .settings import setting
from .worlds import World, get_world
from .worlds.downloads import DownloadError, download_url, mirrored, stand_in
from .worlds.mini.pretrain import mini_source_file

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


def load_pretrained(arch: str = "resnet18", world: World | None = None) -> tuple[nn.Module, list[str]]:
    """Return the world's pretrained `arch` (a torchvision model) and its category names."""
    world = world or get_world()
    if world.name == "mini":
        path, meta = mini_source_file(arch)
        verify_weights_file(path, meta["sha256"])
        model = torchvision.models.get_model(arch, weights=None, num_classes=len(meta["categories"]))
        model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))  # float16 on disk -> float32
        return model, list(meta["categories"])
    weights = torchvision.models.get_model_weights(arch)["IMAGENET1K_V1"]
    path = weights_cache_path(weights.url)
    mirror = setting("D2LFT_WEIGHTS_URL") or ""
    declared = stand_in(mirrored(weights.url, mirror), "TORCH_HOME") if mirror else None
    expected = declared["sha256"] if declared else None  # None: the prefix in the file's name
    if mirror and not path.exists():  # a classroom's or a region's copy of torchvision's files
        fetch_weights(weights.url, path, mirror, expected)  # checked as it arrives
    elif path.exists():
        verify_weights_file(path, expected)
    try:
        model = torchvision.models.get_model(arch, weights=weights)
    except (urllib.error.URLError, OSError) as e:
        raise WeightsError(
            f"Could not download the {arch} ImageNet weights from {weights.url} ({e}). Offline? "
            f"Download that file on a machine with internet and place it at {path}, or set "
            f"D2LFT_WEIGHTS_URL to a mirror or folder that holds it (or D2LFT_WORLD=mini for the offline stand-in)."
        ) from e
    return model, list(weights.meta["categories"])


def photos_source_note(world: World) -> str:
    """What your photos are fine-tuned from in the offline world, and what that means for real photos ("" in
    the hotdog world, whose source is ImageNet's ResNet-18): said once where the photos path starts."""
    if world.name != "mini":
        return ""
    _, meta = mini_source_file("resnet18")
    return (
        "YOUR PHOTOS IN THE MINI WORLD: they are fine-tuned from the mini world's ResNet-18, pretrained offline on "
        f"{len(meta['categories'])} drawn foods\nat {meta['recipe']['crop_size']} px ({meta['val_acc']:.2f} "
        "validation accuracy on them), not on ImageNet's photos. It suits the drawn practice folder; on real photos\n"
        "its features know little (from this source's first, weaker version, a folder of three plainly different real\n"
        "objects stopped at 0.67 validation accuracy with every strategy). For real photos, run once with internet\n"
        "(D2LFT_WORLD=hotdog): the same code then starts from ImageNet."
    )
