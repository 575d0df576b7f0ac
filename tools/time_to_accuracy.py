"""`make bench`, part 2: how soon the book's recipe and the laptop recipe reach the same validation accuracy.

Images per second cannot show what the laptop recipe buys: it does less work per image (128-pixel
crops) and sees fewer images (a subset), so the question is time to accuracy. Both recipes fine-tune the
world's pretrained ResNet-18 with the book's optimizer (`fine_tuning_trainer`: lr 5e-5, the head 10x)
on the fast path, on the same machine, in one process, seed by seed (book, laptop, book, laptop, ...).
Both are measured on the same validation images: a stratified fifth of the training folder (seed 0),
each at its own test transform; the book's recipe trains on the other four fifths, the laptop recipe on
its subset of them (`LAPTOP`). The target is the book recipe's final validation accuracy minus 1 point;
the time is training seconds (validation passes are not counted), summed up to the first epoch at which
a run reaches the target. Run it in the hotdog world (the rehearsal's stand-ins offline): the mini world's
images are 37 px and tell nothing about 224.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import itertools
import statistics
import time

import torch
from torch import nn

from d2lft.devices import describe_cpu, try_gpu
from d2lft.fast import PRECISIONS, resolve_precision, train_fast
from d2lft.models import load_pretrained
from d2lft.recipe import fine_tuning_trainer, replace_fc
from d2lft.speed.decoded import load_data_hotdog_decoded
from d2lft.worlds import BOOK, CLASSES, LAPTOP, Recipe, get_world

TOLERANCE = 0.01  # "within 1 point of the book recipe's final validation accuracy"


def recipes(limit: int | None = None) -> dict[str, Recipe]:
    """The two recipes, training on at most `limit` images per class (for a quick check; None: as they are).
    Neither touches the test split here: both are measured on validation images."""
    subset = min(LAPTOP.per_class["train"], limit or LAPTOP.per_class["train"])
    return {
        "book": BOOK._replace(per_class={"train": limit, "test": 0} if limit else None),
        "laptop": LAPTOP._replace(per_class={"train": subset, "test": 0}),
    }


def reached(val_acc: list[float], seconds: list[float], target: float) -> tuple[int, float] | None:
    """(epoch, training seconds up to and including it) of the first epoch at `target` or above, else None."""
    for epoch, acc in enumerate(val_acc):
        if acc >= target:
            return epoch + 1, sum(seconds[: epoch + 1])
    return None


def time_to_accuracy(
    seeds: list[int], epochs: dict[str, int], lr: float, precision: str | None, limit: int | None = None
) -> dict:
    """Train both recipes at each seed on the world's training folder; return their histories and setup."""
    world, device = get_world(), try_gpu()
    precision = resolve_precision(device, precision)
    source, _ = load_pretrained("resnet18", world)
    plan = {name: r for name, r in recipes(limit).items() if name in epochs}
    loaders, setup = {}, {}
    start = time.perf_counter()
    for name, r in plan.items():  # the notebooks' loaders: one validation fifth, then the recipe's subset
        loaders[name] = load_data_hotdog_decoded(r.batch_size, dataclasses.replace(world, recipe=r), device, True)
        setup[name] = {"recipe": r, "images": len(loaders[name][0].indices), "epochs": epochs[name]}
    decode_seconds = time.perf_counter() - start
    validation = {tuple(val_iter.indices.tolist()) for _, val_iter in loaders.values()}
    assert len(validation) == 1, "the recipes must be judged on the same validation images"
    loss = nn.CrossEntropyLoss(reduction="none")
    runs: dict[str, list] = {name: [] for name in plan}
    for seed in seeds:
        for name in plan:
            torch.manual_seed(seed)
            net = replace_fc(copy.deepcopy(source), len(CLASSES))
            trainer = fine_tuning_trainer(net, lr, plan[name].batch_size)
            train_iter, val_iter = loaders[name]
            history = train_fast(net, train_iter, val_iter, loss, trainer, epochs[name], [device], False, precision,
                                 held_out="val")  # fmt: skip
            runs[name].append(history)
            print(f"seed {seed} {name:6}: " + ", ".join(
                f"{s:.0f} s {a:.3f}" for s, a in zip(itertools.accumulate(history.train_seconds), history.test_acc)
            ), flush=True)  # fmt: skip
    return {"seeds": seeds, "world": world, "device": device, "precision": precision, "setup": setup,
            "validation": len(validation.pop()), "decode_seconds": decode_seconds, "runs": runs}  # fmt: skip


def by_epoch(out: dict) -> None:
    """Print each recipe's validation accuracy by epoch: median and range over the seeds."""
    for name, histories in out["runs"].items():
        print(f"{name} validation accuracy by epoch, median (min-max over {len(histories)} seeds):")
        for epoch, accs in enumerate(zip(*(h.test_acc for h in histories))):
            print(f"  epoch {epoch + 1}: {statistics.median(accs):.3f} ({min(accs):.3f}-{max(accs):.3f})")


def report(out: dict) -> float | None:
    """Print the comparison, seed by seed and in medians; return the ratio of the medians (None: not reached,
    or only one recipe ran)."""
    print(f"validation: {out['validation']} training images held out (a stratified fifth), the same for both")
    for name, s in out["setup"].items():
        r = s["recipe"]
        print(f"{name:6}: {r.crop} px crops (resize {r.resize}), {s['images']} training images, "
              f"batch {r.batch_size}, up to {s['epochs']} epochs")  # fmt: skip
    print(f"device {out['device']}, fast path in {out['precision']}; images decoded once in "
          f"{out['decode_seconds']:.1f} s (not counted)")  # fmt: skip
    by_epoch(out)
    if "book" not in out["runs"] or "laptop" not in out["runs"]:
        return None  # one recipe: its accuracy by epoch only
    times: dict[str, list[float]] = {name: [] for name in out["runs"]}
    for k, book in enumerate(out["runs"]["book"]):
        final = book.test_acc[-1]
        target = final - TOLERANCE
        line = [f"seed {out['seeds'][k]}: target {target:.3f} (the book recipe's final {final:.3f} - {TOLERANCE})"]
        for name, histories in out["runs"].items():
            hit = reached(histories[k].test_acc, histories[k].train_seconds, target)
            if hit:
                times[name].append(hit[1])
                line.append(f"{name} after {hit[1]:.0f} s (epoch {hit[0]})")
            else:
                times[name].append(float("inf"))
                line.append(f"{name} not within {len(histories[k].test_acc)} epochs")
        print("; ".join(line))
    medians = {name: statistics.median(t) for name, t in times.items()}
    print(f"{'recipe':6} {'time to target, median (s)':>27} {'final val acc, median':>22}")
    for name, histories in out["runs"].items():
        final = statistics.median(h.test_acc[-1] for h in histories)
        print(f"{name:6} {medians[name]:27.0f} {final:22.3f}")
    if medians["laptop"] == float("inf"):
        print("ratio book/laptop time to accuracy: not reached (the laptop recipe missed the target)")
        return None
    ratio = medians["book"] / medians["laptop"]
    print(f"ratio book/laptop time to accuracy: {ratio:.1f}")
    return ratio


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="one run of each recipe per seed")
    parser.add_argument("--book-epochs", type=int, default=BOOK.epochs, help="the book's 5")
    parser.add_argument("--laptop-epochs", type=int, default=10,
                        help=f"at most; the laptop recipe's runs in the notebooks are {LAPTOP.epochs}")  # fmt: skip
    parser.add_argument("--limit", type=int, default=None, help="at most this many training images per class "
                        "in both recipes, for a quick check (default: the recipes' own)")  # fmt: skip
    parser.add_argument("--recipes", nargs="+", choices=("book", "laptop"), default=["book", "laptop"],
                        help="one alone: its accuracy by epoch (to choose the laptop recipe's epochs)")  # fmt: skip
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--precision", choices=PRECISIONS, default=None,
                        help="default: bf16 on CUDA GPUs, else fp32")  # fmt: skip
    args = parser.parse_args(argv)
    capability = torch.backends.cpu.get_cpu_capability()  # what ATen runs: AVX2 under ATEN_CPU_CAPABILITY=avx2
    print(f"time to accuracy: torch {torch.__version__}, {describe_cpu()}; ATen kernels: {capability}")
    world = get_world()
    print(f"world {world.name}" + (f" (stand-ins from {world.stand_in})" if world.stand_in else ""))
    epochs = {"book": args.book_epochs, "laptop": args.laptop_epochs}
    epochs = {name: n for name, n in epochs.items() if name in args.recipes}
    report(time_to_accuracy(args.seeds, epochs, args.lr, args.precision, args.limit))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
