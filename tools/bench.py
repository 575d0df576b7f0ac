"""`make bench`: the book's `d2l.train_ch13` against d2lft's fast path, side by side in one process.

Same data (the active world's hotdog images, a fixed subset), same model (the world's pretrained
ResNet-18 with a new head), the book's recipe at 224 px. Runs alternate (d2l, fast, d2l, fast, ...)
so that a busy machine slows both alike, each repeat with its own seed; the medians are compared.
Prints images/s (training images over the wall time of the whole call, evaluation included), the
seconds per run, peak memory and final test accuracy, and ends with `ratio fast/d2l images/s: X.XX`.
The fast path's images are decoded before the runs start (reported, not counted); on a GPU they
are kept and augmented there.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import dataclasses
import io
import os
import statistics
import threading
import time
import warnings

import torch
from torch import nn
from torch.utils.data import DataLoader, Subset

from d2lft.data import hotdog_datasets
from d2lft.devices import describe_cpu, try_gpu
from d2lft.fast import PRECISIONS, resolve_precision, train_fast
from d2lft.metrics import evaluate_accuracy
from d2lft.models import load_pretrained
from d2lft.recipe import fine_tuning_trainer, replace_fc
from d2lft.speed.decoded import DecodedImageFolder, DecodedLoader
from d2lft.worlds import Recipe, get_world


class PeakMemory:
    """Peak resident memory of this process (CPU) or peak allocated GPU memory, while the block runs."""

    def __init__(self, device: torch.device):
        self.device, self.peak = device, 0

    def _rss(self) -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    def _watch(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self._rss())

    def __enter__(self) -> PeakMemory:
        if self.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(self.device)
        else:
            self.peak, self._stop = self._rss(), threading.Event()
            self._thread = threading.Thread(target=self._watch, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.device.type == "cuda":
            self.peak = torch.cuda.max_memory_allocated(self.device)
        else:
            self._stop.set()
            self._thread.join()


def _reused(subset: Subset, n: int) -> Subset:
    """`subset` with its images used again, in turn, until there are `n` (a small world's, with fresh crops)."""
    return Subset(subset.dataset, [subset.indices[k % len(subset)] for k in range(n)])


def bench(
    images: int, test_images: int, epochs: int, repeats: int, batch_size: int, lr: float, precision: str | None = None
) -> dict:
    from d2l import torch as d2l

    world, device = get_world(), try_gpu()
    precision = resolve_precision(device, precision)
    # the book's sizes in every world; a stratified subset of each split, as the notebooks' loaders draw theirs
    recipe = Recipe("bench", 224, 256, batch_size, {"train": images // 2, "test": test_images // 2}, epochs)
    world = dataclasses.replace(world, recipe=recipe)
    source, _ = load_pretrained("resnet18", world)
    loss = nn.CrossEntropyLoss(reduction="none")
    cuda = device.type == "cuda"
    train_set, test_set = (_reused(s, n) for s, n in zip(hotdog_datasets(world), (images, test_images)))
    book_train = DataLoader(train_set, batch_size, shuffle=True)  # as d2l's notebook: no worker processes
    book_test = DataLoader(test_set, batch_size)
    start = time.perf_counter()  # decoded once, then kept on the device and augmented there
    fast_train, fast_test = (
        DecodedLoader(DecodedImageFolder(s.dataset, recipe.resize), batch_size, recipe.crop, train, device, s.indices)
        for s, train in ((train_set, True), (test_set, False))
    )
    cache_seconds = time.perf_counter() - start
    distinct = len(set(train_set.indices))
    if distinct < len(train_set):
        print(f"the {world.name} world has {distinct} training images: each is used about "
              f"{len(train_set) / distinct:.1f} times per epoch, with fresh crops")  # fmt: skip

    def run(kind: str, seed: int) -> dict:
        torch.manual_seed(seed)
        net = replace_fc(copy.deepcopy(source), 2)
        trainer = fine_tuning_trainer(net, lr, batch_size)
        out = io.StringIO()
        with PeakMemory(device) as memory, contextlib.redirect_stdout(out):
            start = time.perf_counter()
            if kind == "d2l":
                with warnings.catch_warnings():  # d2l 1.0.3's own: a scalar from a tensor with grad, a 1-epoch xlim
                    warnings.filterwarnings("ignore", category=UserWarning, module=r"d2l\.")
                    d2l.train_ch13(net, book_train, book_test, loss, trainer, epochs, devices=[device])
            else:
                history = train_fast(net, fast_train, fast_test, loss, trainer, epochs, [device], False, precision)
            if cuda:
                torch.cuda.synchronize()
            seconds = time.perf_counter() - start
        # d2l's loop returns nothing: its final test accuracy is measured again here, outside the timing
        test_acc = history.test_acc[-1] if kind == "fast" else evaluate_accuracy(net, book_test, device)
        return {
            "images_per_sec": images * epochs / seconds,
            "seconds": seconds,
            "peak_mb": memory.peak / 2**20,
            "test_acc": test_acc,
        }

    results: dict[str, list[dict]] = {"d2l": [], "fast": []}
    for r in range(repeats):
        for kind in results:
            results[kind].append(run(kind, seed=r))
            last = results[kind][-1]
            print(f"run {r + 1}/{repeats} {kind:4}: {last['images_per_sec']:7.1f} images/s, {last['seconds']:6.1f} s, "
                  f"peak {last['peak_mb']:7.0f} MB, test acc {last['test_acc']:.3f}", flush=True)  # fmt: skip
    return {"world": world.name, "device": device, "precision": precision, "cache_seconds": cache_seconds,
            "results": results}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    gpu = torch.cuda.is_available()
    parser.add_argument("--images", type=int, default=2000 if gpu else 640, help="training images per epoch")
    parser.add_argument("--test-images", type=int, default=800 if gpu else 128)
    parser.add_argument("--epochs", type=int, default=5 if gpu else 1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument(
        "--precision",
        choices=PRECISIONS,
        default=None,
        help="the fast path's precision (default: bf16 on CUDA GPUs, else fp32)",
    )
    args = parser.parse_args(argv)
    if args.images // args.batch_size < 5:
        parser.error("d2l.train_ch13 needs at least 5 batches per epoch: raise --images or lower --batch-size")
    setup = f"{args.images} training images x {args.epochs} epoch(s), batch {args.batch_size}, 224 px"
    print(f"torch {torch.__version__}, {describe_cpu()}; {setup}; {args.repeats} repeats")
    out = bench(args.images, args.test_images, args.epochs, args.repeats, args.batch_size, args.lr, args.precision)
    print(f"device {out['device']}, world {out['world']}, fast path in {out['precision']}; "
          f"decode-once cache built in {out['cache_seconds']:.1f} s (not counted)")  # fmt: skip
    print(f"{'path':6} {'images/s':>9} {'s/run':>7} {'peak MB':>8} {'test acc (min-max)':>20}")
    medians = {}
    for kind, runs in out["results"].items():
        medians[kind] = statistics.median(r["images_per_sec"] for r in runs)
        accs = [r["test_acc"] for r in runs]
        peak = statistics.median(r["peak_mb"] for r in runs)
        spread = f"{statistics.median(accs):8.3f} ({min(accs):.3f}-{max(accs):.3f})"
        seconds = statistics.median(r["seconds"] for r in runs)
        print(f"{kind:6} {medians[kind]:9.1f} {seconds:7.1f} {peak:8.0f} {spread}")
    print(f"ratio fast/d2l images/s: {medians['fast'] / medians['d2l']:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
