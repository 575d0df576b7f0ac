"""The two data worlds behind one API: `hotdog` (the book's real data) and `mini` (generated offline).

`D2LFT_WORLD` picks one; unset, the real `hotdog` world is used when its files are cached or its
server answers, else `mini`. Every notebook prints the world it runs in.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tqdm.auto import tqdm

from . import synth
from .hub import DATA_HUB, download_extract
from .paths import data_dir

WORLDS = ("hotdog", "mini")
CLASSES = ("hotdog", "not-hotdog")  # ImageFolder sorts them: hotdog -> 0, not-hotdog -> 1
MINI_COUNTS = {"train": 150, "test": 100}  # images per class and split
_COMPLETE_MARKER = ".d2lft-complete"


@dataclass(frozen=True)
class World:
    """A data world: its name, why it was chosen, and the image sizes its recipe uses."""

    name: str
    reason: str
    crop_size: int  # what the network sees: RandomResizedCrop / CenterCrop
    resize_size: int  # the test transform's Resize before CenterCrop
    images_per_class: dict[str, int]  # per split
    batch_size: int  # the fine-tuning recipe's: about 16 steps per epoch in both worlds, as in the book

    def __str__(self) -> str:
        if self.name == "hotdog":
            what = ["the book's hotdog photos and torchvision's ImageNet weights (downloaded once)"]
        else:
            what = [
                "a synthetic stand-in generated on this machine, offline: the book's layout and code,",
                "smaller images, and numbers that differ from the book's (set D2LFT_WORLD=hotdog",
                "on a machine with internet for the real dataset)",
            ]
        counts = ", ".join(f"{n} {split}" for split, n in self.images_per_class.items())
        lines = [
            f"DATA WORLD: {self.name.upper()}   ({self.reason})",
            *what,
            f"images per class: {counts}; crops of {self.crop_size} px; batch size {self.batch_size}",
        ]
        rule = "=" * max(len(line) for line in lines)
        return "\n".join([rule, *lines, rule])


# (crop, resize, batch size): mini keeps the book's 256/224 ratio at 32 px and has 300 training images,
# small enough that every notebook trains in a minute or two on a 2-core laptop CPU without AVX-512;
# batches of 32 give 10 steps per epoch (the book: 16, 2000 images in batches of 128).
_RECIPES = {"hotdog": (224, 256, 128), "mini": (32, 37, 32)}
HOTDOG_COUNTS = {"train": 1000, "test": 400}


def hotdog_cached() -> bool:
    """True when the book's hotdog zip or its extracted folder is already under `data/`."""
    return (data_dir() / "hotdog.zip").exists() or (data_dir() / "hotdog").is_dir()


def hotdog_reachable(timeout: float = 3.0) -> bool:
    """True when the book's data server answers a HEAD request for the hotdog zip."""
    request = urllib.request.Request(DATA_HUB["hotdog"][0], method="HEAD")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def get_world(name: str | None = None) -> World:
    """Return the world named `name`, else `$D2LFT_WORLD`, else `hotdog` if cached or reachable, else `mini`."""
    if name is None and os.environ.get("D2LFT_WORLD"):
        name, reason = os.environ["D2LFT_WORLD"].strip().lower(), "D2LFT_WORLD"
    elif name is not None:
        reason = "chosen in code"
    elif hotdog_cached():
        name, reason = "hotdog", "auto: its files are cached"
    elif hotdog_reachable():
        name, reason = "hotdog", "auto: its server is reachable"
    else:
        name, reason = "mini", "auto: hotdog is neither cached nor reachable"
    if name not in WORLDS:
        raise ValueError(f"Unknown data world {name!r}: set D2LFT_WORLD to one of {WORLDS}, or unset it.")
    counts = HOTDOG_COUNTS if name == "hotdog" else MINI_COUNTS
    crop, resize, batch_size = _RECIPES[name]
    reason = f"{reason}={name}" if reason == "D2LFT_WORLD" else reason
    return World(name, reason, crop, resize, dict(counts), batch_size)


def course_seed() -> int:
    """The notebooks' random seed: `$D2LFT_SEED` if set (to re-check a lesson with other draws), else 0."""
    value = os.environ.get("D2LFT_SEED", "0").strip() or "0"
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"D2LFT_SEED must be an integer, not {value!r}: unset it or set e.g. D2LFT_SEED=1.") from None


def hotdog_dir(world: World | None = None) -> Path:
    """Return the world's dataset folder, laid out as `{train,test}/{hotdog,not-hotdog}/`."""
    world = world or get_world()
    if world.name == "hotdog":
        return download_extract("hotdog")
    return make_mini_hotdog(data_dir() / "mini-hotdog")


def make_mini_hotdog(folder: str | os.PathLike, counts: dict[str, int] | None = None) -> Path:
    """Generate (once) the mini world's hotdog dataset into `folder`; return `folder`."""
    folder, counts = Path(folder), counts or MINI_COUNTS
    stamp = f"drawing version {synth.DRAWING_VERSION}, {sorted(counts.items())}\n"
    marker = folder / _COMPLETE_MARKER
    if marker.exists() and marker.read_text() == stamp:
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}-"))
    others = [food for food in synth.FOODS if food != "hotdog"]
    jobs = [(split, label, i) for split, n in counts.items() for label in CLASSES for i in range(n)]
    try:
        for split, label, i in tqdm(jobs, desc="generating mini hotdog dataset", leave=False):
            rng = synth.image_rng(f"mini-hotdog/{split}", label, i)
            food = "hotdog" if label == "hotdog" else others[i % len(others)]
            image = synth.render_food(food, rng, synth.random_size(rng))
            out = staging / split / label / f"{i:04d}.jpg"
            out.parent.mkdir(parents=True, exist_ok=True)
            image.save(out, quality=90)
        (staging / _COMPLETE_MARKER).write_text(stamp)
        if folder.exists():
            shutil.rmtree(folder)  # stale: an older recipe, other counts, or a half-written folder
        os.replace(staging, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder
