"""Rehearse the real `hotdog` world offline: stand-in files served from 127.0.0.1 to the course's own code.

The real world downloads the book's `hotdog.zip` and torchvision's ImageNet weights; neither can be
fetched here. `python -m tools.rehearsal` (or `make rehearse`) builds stand-ins for both and serves
them the way a classroom mirror would, so the notebooks run through the real code: `D2LFT_DATA_URL`
and the SHA-1-checked download and extraction, `D2LFT_WEIGHTS_URL` and torchvision's weights
loading, 224-pixel crops and batches of 128.

- `hotdog.zip`: the book's layout (`hotdog/{train,test}/{hotdog,not-hotdog}/`), its counts (1000 + 400
  images per class) and its file type, with drawn photos of varied sizes and aspect ratios;
- `resnet18-f37072fd.pth`: a 1000-way ResNet-18 under torchvision's file name: the mini world's source
  model (pretrained on 32-pixel crops of 12 drawn foods), trained on for a few minutes on 112-pixel
  crops of photo-sized drawings so that it knows foods at the real world's scale, its food rows then
  placed at their ImageNet indices (hotdog at 934), the other rows left random;
- `d2lft-stand-in.json`: the server's declaration that these are stand-ins, with their own checksums.
  The course accepts it only from 127.0.0.1 and only into caches of their own (`$D2LFT_DATA`,
  `$TORCH_HOME` under `build/rehearsal/`), so a stand-in never lands in a student's real cache, and
  every notebook's world banner says STAND-IN.
"""

from __future__ import annotations

import argparse
import http.server
import io
import json
import os
import sys
import threading
import zipfile
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import torch
import torchvision
from tqdm.auto import tqdm

from d2lft.devices import describe_cpu, has_native_bf16
from d2lft.models import load_pretrained
from d2lft.support.files import atomic_write, file_hash
from d2lft.support.paths import REPO_ROOT
from d2lft.worlds import CLASSES, HOTDOG_COUNTS, RECIPES, get_world
from d2lft.worlds.downloads import STAND_IN_MANIFEST
from d2lft.worlds.mini.dataset import hotdog_set_image
from d2lft.worlds.mini.pretrain import pretrain, render_split

from .course import course_notebooks, run_course

# Mini foods with an ImageNet category of their own; the others (cake, carrot, ...) have none.
IMAGENET_NAMES = {
    "baguette": "French loaf",
    "banana": "banana",
    "burger": "cheeseburger",
    "hotdog": "hotdog",
    "pizza": "pizza",
    "pretzel": "pretzel",
}
PHOTO_SIZES = (180, 500)  # the shorter side of a stand-in photo, in pixels; aspect ratios up to 2:1
# How the mini source learns photo-sized foods (measured: 12-way accuracy at 224 px 0.55 after 3 epochs
# of 100 images per food, 0.825 after 8 epochs of 200; 190 s on 2 cores with AVX512-BF16).
STAND_IN_RECIPE = {
    "version": 1,  # raise it when the stand-ins change: a mirror built by another recipe is rebuilt
    "source_photo_sizes": (112, 157),
    "crop_size": 112,
    "resize_size": 128,
    "images_per_class": 200,
    "val_images_per_class": 20,
    "epochs": 8,
    "batch_size": 64,
    "lr": 0.05,
    "weight_decay": 5e-4,
    "seed": 0,
}


def _jpeg(job: tuple[str, str, int]) -> bytes:
    split, label, index = job
    out = io.BytesIO()
    hotdog_set_image("rehearsal-hotdog", split, label, index, PHOTO_SIZES).save(out, "JPEG", quality=90)
    return out.getvalue()


def build_stand_in_archive(path: Path, counts: dict[str, int], workers: int | None = None) -> None:
    """Write a stand-in `hotdog.zip` with `counts` drawn photos per class and split, in the book's layout."""
    jobs = [(split, label, i) for split, n in counts.items() for label in CLASSES for i in range(n)]
    with atomic_write(path, "wb") as f, zipfile.ZipFile(f, "w", zipfile.ZIP_STORED) as archive:
        with ProcessPoolExecutor(workers or os.cpu_count()) as pool:
            photos = pool.map(_jpeg, jobs, chunksize=16)
            for (split, label, i), photo in tqdm(zip(jobs, photos), total=len(jobs), desc="drawing stand-in photos"):
                archive.writestr(f"hotdog/{split}/{label}/{i}.jpg", photo)


def build_stand_in_weights(path: Path, arch: str = "resnet18", recipe: dict = STAND_IN_RECIPE) -> dict:
    """Write a 1000-way `arch` state dict: the mini source trained on at photo scale (`recipe`; no
    training when its epochs are 0), its food rows at their ImageNet indices; return what was measured."""
    source, foods = load_pretrained(arch, get_world("mini"))
    measured = {"epochs": recipe["epochs"]}
    if recipe["epochs"]:
        train = render_split(
            "rehearsal-source", "train", recipe["images_per_class"], foods, recipe["source_photo_sizes"]
        )
        val = render_split(
            "rehearsal-source", "val", recipe["val_images_per_class"], foods, recipe["source_photo_sizes"]
        )
        bf16 = has_native_bf16()  # elsewhere bf16 is emulated and slower than fp32
        torch.manual_seed(recipe["seed"])
        history, _ = pretrain(source, train, val, recipe, "teaching the stand-in photo-sized foods",
                              torch.bfloat16 if bf16 else None)  # fmt: skip
        measured.update(val_acc=round(history.test_acc[-1], 3), seconds=round(sum(history.train_seconds)),
                        precision="bf16" if bf16 else "fp32", machine=describe_cpu())  # fmt: skip
    source.eval()
    imagenet = torchvision.models.get_model_weights(arch)["IMAGENET1K_V1"].meta["categories"]
    torch.manual_seed(0)
    net = torchvision.models.get_model(arch, weights=None, num_classes=len(imagenet))
    state = {k: v for k, v in source.state_dict().items() if not k.startswith("fc.")}
    net.load_state_dict(state, strict=False)
    with torch.no_grad():
        for row, food in enumerate(foods):
            if food in IMAGENET_NAMES:
                index = imagenet.index(IMAGENET_NAMES[food])
                net.fc.weight[index] = source.fc.weight[row]
                net.fc.bias[index] = source.fc.bias[row]
    with atomic_write(path, "wb") as f:
        torch.save(net.state_dict(), f)
    return measured


def build_mirror(
    folder: Path, counts: dict[str, int] | None = None, arch: str = "resnet18", recipe: dict = STAND_IN_RECIPE
) -> dict:
    """Build (once) the stand-in mirror in `folder`: the archive, the weights and the manifest; return it."""
    counts = dict(counts or HOTDOG_COUNTS)
    archive_recipe = {"images_per_class": counts, "photo_sizes": PHOTO_SIZES}
    stored = json.loads(
        json.dumps({"archive": archive_recipe, "weights": {**recipe, "arch": arch}})
    )  # as JSON reads it
    manifest_path = folder / STAND_IN_MANIFEST
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("recipe") == stored and all((folder / name).exists() for name in manifest["files"]):
            return manifest
    folder.mkdir(parents=True, exist_ok=True)
    archive = folder / "hotdog.zip"
    weights = folder / torchvision.models.get_model_weights(arch)["IMAGENET1K_V1"].url.rsplit("/", 1)[-1]
    build_stand_in_archive(archive, counts)
    measured = build_stand_in_weights(weights, arch, recipe)
    manifest = {
        "note": "Stand-ins for rehearsing the course offline (python -m tools.rehearsal): not the real files.",
        "recipe": stored,
        "files": {
            archive.name: {"sha1": file_hash(archive, "sha1"), "images_per_class": counts},
            weights.name: {"sha256": file_hash(weights, "sha256"), "stand_in_training": measured},
        },
    }
    with atomic_write(manifest_path, "w") as f:
        json.dump(manifest, f, indent=1)
    return manifest


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@contextmanager
def serve(folder: Path, port: int = 0) -> Iterator[str]:
    """Serve `folder` over HTTP on 127.0.0.1 (a free port unless `port` is given); yield its base URL."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), partial(_QuietHandler, directory=str(folder)))
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, args=(0.1,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()


def rehearsal_environment(url: str, out: Path) -> dict[str, str]:
    """The variables a rehearsal runs under: the hotdog world, the mirror, and caches of its own in `out`."""
    return {
        "D2LFT_WORLD": "hotdog",
        "D2LFT_DATA_URL": url,
        "D2LFT_WEIGHTS_URL": url,
        "D2LFT_DATA": str(out / "data"),
        "TORCH_HOME": str(out / "torch"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "build" / "rehearsal",
                        help="folder for the mirror, the rehearsal's caches and the course run "
                             "(default: build/rehearsal)")  # fmt: skip
    parser.add_argument("--per-class", type=int, nargs=2, metavar=("TRAIN", "TEST"),
                        default=(HOTDOG_COUNTS["train"], HOTDOG_COUNTS["test"]),
                        help="stand-in photos per class in each split (default: the book's 1000 400)")  # fmt: skip
    parser.add_argument("--stand-in-epochs", type=int, default=STAND_IN_RECIPE["epochs"],
                        help="epochs teaching the stand-in ResNet-18 photo-sized foods (0: none, for a quick check "
                             "of the code paths; its lessons about the source's knowledge then fail)")  # fmt: skip
    parser.add_argument("--notebooks", nargs="*", metavar="NAME",
                        help="run only the notebooks whose path contains one of these (default: all)")  # fmt: skip
    parser.add_argument("--serve", action="store_true",
                        help="only serve the mirror (for JupyterLab: export the variables it prints) "
                             "until Ctrl-C")  # fmt: skip
    parser.add_argument("--recipe", choices=tuple(RECIPES),
                        help="D2LFT_RECIPE for the notebooks (default: the book's on a GPU, "
                             "the laptop recipe on a CPU)")  # fmt: skip
    parser.add_argument("--timeout", type=int, default=3600, help="seconds allowed per cell")
    args = parser.parse_args(argv)
    counts = dict(zip(("train", "test"), args.per_class))
    out = args.out.resolve()
    build_mirror(out / "mirror", counts, recipe={**STAND_IN_RECIPE, "epochs": args.stand_in_epochs})
    with serve(out / "mirror") as url:
        environment = rehearsal_environment(url, out) | ({"D2LFT_RECIPE": args.recipe} if args.recipe else {})
        if args.serve:
            print("Serving the stand-in mirror. In another terminal:")
            print("\n".join(f"  export {k}={v}" for k, v in environment.items()))
            print("  make lab\nPress Ctrl-C to stop.")
            try:
                threading.Event().wait()
            except KeyboardInterrupt:
                return 0
        os.environ.update(environment)  # the notebooks' kernels inherit them
        notebooks = [p for p in course_notebooks() if not args.notebooks or any(n in str(p) for n in args.notebooks)]
        failures = run_course(out / "course", args.timeout, notebooks)
    print(f"rehearsal: {len(notebooks)} notebook(s), {failures} failed; see {out / 'course' / 'results.md'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
