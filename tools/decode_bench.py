"""`python -m tools.decode_bench`: what reading a folder of phone photos costs, before and after.

Writes `--photos` JPEGs of `--size` (default 100 of 4000 x 3000, a phone's 12 megapixels; a smooth scene
with sensor-like noise, every third stored sideways with EXIF orientation 6) into `--folder`, then reads
them all at the short side a recipe resizes to (`--short-side`, default 146: the laptop recipe's) in three
ways, alternating, `--repeats` times:

- whole: every photo decoded at full size, then resized (`decode_resized(..., gap=None)`, as before draft mode);
- draft: decoded at 1/2, 1/4 or 1/8 of its size by the JPEG decoder (`d2lft.speed.decoded.DRAFT_GAP`), then resized;
- disk cache: the second run's path, the decoded folder read back from `data/decoded`-style storage.

Prints the machine, each way's median seconds for the whole folder and per photo, and the ratios.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from d2lft.devices import describe_cpu
from d2lft.speed import decoded


def write_photos(folder: Path, count: int, size: tuple[int, int], seed: int = 0) -> list[Path]:
    """`count` phone-like JPEGs in `folder/photos/` (made once: existing ones of the right size are kept)."""
    rng = np.random.default_rng(seed)
    w, h = size
    paths = []
    for i in range(count):
        path = folder / "photos" / f"{i:03d}.jpg"
        paths.append(path)
        if path.exists():
            with Image.open(path) as existing:
                if existing.size == (w, h):
                    continue
        path.parent.mkdir(parents=True, exist_ok=True)
        scene = Image.fromarray(rng.integers(0, 256, (12, 16, 3), dtype=np.uint8)).resize((w, h), Image.BICUBIC)
        pixels = np.asarray(scene, dtype=np.int16) + rng.normal(0, 6, (h, w, 1)).astype(np.int16)
        photo = Image.fromarray(pixels.clip(0, 255).astype(np.uint8))
        exif = Image.Exif()
        if i % 3 == 0:  # a portrait shot, stored sideways as phones do
            exif[0x0112] = 6
        photo.save(path, quality=90, exif=exif)
    return paths


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=100)
    parser.add_argument("--size", type=int, nargs=2, default=(4000, 3000), metavar=("WIDTH", "HEIGHT"))
    parser.add_argument("--short-side", type=int, default=146)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--folder", type=Path, default=Path(tempfile.gettempdir()) / "d2lft-decode-bench")
    args = parser.parse_args(argv)
    print(f"machine: {describe_cpu()}; torch threads {torch.get_num_threads()}")
    start = time.perf_counter()
    paths = write_photos(args.folder, args.photos, tuple(args.size))
    megabytes = sum(p.stat().st_size for p in paths) / 1e6
    print(f"{len(paths)} JPEGs of {args.size[0]} x {args.size[1]} ({megabytes / len(paths):.1f} MB each) in "
          f"{args.folder / 'photos'} (ready in {time.perf_counter() - start:.0f} s)")  # fmt: skip
    cache = args.folder / "decoded"
    seconds: dict[str, list[float]] = {"whole": [], "draft": [], "disk cache": []}
    for _ in range(args.repeats):
        start = time.perf_counter()
        whole = [decoded.decode_resized(p, args.short_side, gap=None) for p in paths]
        seconds["whole"].append(time.perf_counter() - start)
        start = time.perf_counter()
        draft = [decoded.decode_resized(p, args.short_side) for p in paths]
        seconds["draft"].append(time.perf_counter() - start)
        decoded._to_disk(cache / "bench.pt", draft)
        start = time.perf_counter()
        again = decoded._from_disk(cache / "bench.pt")
        seconds["disk cache"].append(time.perf_counter() - start)
    assert again is not None and [t.shape for t in again] == [t.shape for t in whole]
    difference = statistics.mean((a.float() - b.float()).abs().mean().item() for a, b in zip(whole, draft))
    median = {way: statistics.median(s) for way, s in seconds.items()}
    print(f"reading {len(paths)} photos at a short side of {args.short_side} px, median of {args.repeats}:")
    for way, s in median.items():
        print(f"  {way:10} {s:7.2f} s   {1000 * s / len(paths):7.1f} ms per photo")
    print(f"draft vs whole: the pixels differ by {difference:.2f} of 255 on average")
    print(
        f"ratio whole/draft: {median['whole'] / median['draft']:.1f}x; "
        f"ratio whole/disk cache: {median['whole'] / median['disk cache']:.0f}x"
    )


if __name__ == "__main__":
    main()
