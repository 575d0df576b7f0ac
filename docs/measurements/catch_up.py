"""Where full fine-tuning and scratch catch up with the probe: notebook 07's grid with more images and steps.

    python docs/measurements/catch_up.py [--sizes 30 100 300] [--seeds 0 1] [--steps 200] [--targets near far]
                                         [--name catch-up] [--only LABEL ...] [--append] [--plot-only]

Notebook 07 runs its grid within the test budget (at most 85 training images per class, 18 steps). This
script draws a larger hotdog set from the same generator as the mini world's (`make_mini_hotdog`, the
first 100 images per split are the mini world's own): 360 training images per class (306 once a photo
folder's validation part is drawn) and 200 test images, and their line drawings (`d2lft.data.sketch`). It
trains on `--sizes` training images per class (drawn with each seed): the probe (a head on cached
features, 30 epochs), the last stage (`layer4` and the head at the book's rates, the rest frozen with its
BatchNorm in eval mode), full fine-tuning with the book's recipe (base rate 5e-5, the head at 10x), full
fine-tuning at ten times that rate (the head still at 10x that), and scratch (the book's scratch recipe:
5e-4 for every layer), each for `--steps` steps whatever the size. It prints the test accuracy of every
run (on all 400 test images), writes the runs to `NAME.jsonl` beside this script, and draws
docs/images/NAME.png (`-` as `_`).
The mini world, two threads.
"""

import argparse
import contextlib
import io
import json
import math
import sys
import time
from pathlib import Path
from statistics import mean

import torch

import d2lft
from d2lft import strategies
from d2lft.devices import describe_cpu
from d2lft.folders import photo_splits
from d2lft.worlds.mini.dataset import make_mini_hotdog

HERE = Path(__file__).resolve().parent
IMAGES = HERE.parent / "images"
COUNTS = {"train": 360, "test": 200}  # per class: a photo folder's validation part (15%) leaves 306 to train on
CPU = torch.device("cpu")
RUNS = [  # label, strategy, the book's base rate
    ("probe", "probe", 5e-5),
    ("last stage", "last-stage", 5e-5),  # layer4 and the head, at the book's rates; the rest frozen
    ("full, book's rate", "full", 5e-5),
    ("full, 10x rate", "full", 5e-4),
    ("scratch", "scratch", 5e-5),  # strategies.train gives scratch ten times the base rate: the book's 5e-4
]


def plot(records: list[dict], sizes: list[int], name: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
    for ax, target in zip(axes, ("near: photos", "far: line drawings")):
        if not any(r["target"] == target for r in records):
            ax.set_visible(False)
            continue
        for (label, _, _), style in zip(RUNS, ("o-", "v:", "s-", "D--", "^-")):
            by_size = [[r["accuracy"] for r in records if (r["target"], r["run"], r["n"]) == (target, label, n)]
                       for n in sizes]  # fmt: skip
            if not any(by_size):
                continue
            ns = [n for n, a in zip(sizes, by_size) if a]
            by_size = [a for a in by_size if a]
            line = ax.plot(ns, [mean(a) for a in by_size], style, label=label)[0]
            low, high = [min(a) for a in by_size], [max(a) for a in by_size]
            ax.fill_between(ns, low, high, color=line.get_color(), alpha=0.15)
        ax.axhline(0.5, color="gray", lw=0.8, ls=":")
        ax.set(title=target, xscale="log", ylim=(0.4, 1.0), xlabel="training images per class")
        ax.set_xticks(sizes, [str(n) for n in sizes])
        ax.minorticks_off()
    axes[0].set_ylabel("test accuracy (400 images)")
    seeds = sorted({r["seed"] for r in records})
    steps = records[0]["steps"]
    fig.suptitle(f"mini world: mean and range over seeds {seeds}; every run but the probe {steps} steps", fontsize=10)
    axes[0].legend(fontsize="small")
    plt.tight_layout()
    IMAGES.mkdir(exist_ok=True)
    out = IMAGES / f"{name.replace('-', '_')}.png"
    fig.savefig(out, dpi=110)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[30, 100, 300])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--targets", nargs="+", default=["near", "far"], choices=("near", "far"))
    parser.add_argument("--name", default="catch-up", help="the records go to NAME.jsonl here, the figure to "
                        "docs/images/NAME.png (with underscores)")  # fmt: skip
    parser.add_argument("--only", nargs="+", default=None, help="run only these labels (e.g. 'last stage')")
    parser.add_argument("--append", action="store_true", help="add to NAME.jsonl instead of starting it again")
    parser.add_argument("--plot-only", action="store_true", help="draw the figure from NAME.jsonl")
    args = parser.parse_args()
    log = HERE / f"{args.name}.jsonl"
    if args.plot_only:
        records = [json.loads(line) for line in log.read_text().splitlines()]
        print(plot(records, sorted({r["n"] for r in records}), args.name))
        return 0
    torch.set_num_threads(2)
    world = d2lft.get_world("mini")
    source, _ = d2lft.load_pretrained("resnet18", world)
    print(f"torch {torch.__version__}, {describe_cpu()}; {' '.join(sys.argv[1:])}", flush=True)
    photos_root = make_mini_hotdog(d2lft.data_dir() / "catch-up" / "photos", COUNTS)
    sketches = d2lft.data_dir() / "catch-up" / "sketches"
    targets = {
        "near: photos": photo_splits(photos_root),
        "far: line drawings": photo_splits(d2lft.data.sketch_folder(photos_root, sketches, photos_root)),
    }
    targets = {name: splits for name, splits in targets.items() if name.split(":")[0] in args.targets}
    for name, splits in targets.items():
        print(f"{name}: {splits.counts()}", flush=True)
    runs = [run for run in RUNS if args.only is None or run[0] in args.only]
    records = [json.loads(line) for line in log.read_text().splitlines()] if args.append else []
    with log.open("a" if args.append else "w") as out:
        for name, splits in targets.items():
            for n in args.sizes:
                for seed in args.seeds:
                    fewer = splits.with_fewer_training_images(n, seed)
                    photos = strategies.Photos(fewer, world.crop_size, world.resize_size, world.batch_size, CPU)
                    epochs = math.ceil(args.steps / math.ceil(len(fewer.files["train"]) / world.batch_size))
                    for label, strategy, lr in runs:
                        start = time.perf_counter()
                        with contextlib.redirect_stdout(io.StringIO()):
                            run_epochs = None if strategy == "probe" else epochs
                            run = strategies.train(strategy, source, photos, seed, lr, run_epochs, held_out="test")
                        record = {"target": name, "n": n, "seed": seed, "run": label, "accuracy": run.accuracy,
                                  "train_acc": run.history.train_acc[-1], "epochs": len(run.history.train_acc),
                                  "steps": args.steps, "seconds": time.perf_counter() - start}  # fmt: skip
                        records.append(record)
                        out.write(json.dumps(record) + "\n")
                        out.flush()
                        print(f"{name:18} {n:3}/class seed {seed} {label:18}: test {run.accuracy:.3f}, train acc "
                              f"{record['train_acc']:.3f}, {record['epochs']} epochs, {record['seconds']:.0f} s",
                              flush=True)  # fmt: skip
    print("test accuracy, mean (min-max) over seeds", args.seeds)
    for name in targets:
        for label, _, _ in runs:
            cells = []
            for n in args.sizes:
                a = [r["accuracy"] for r in records if (r["target"], r["run"], r["n"]) == (name, label, n)]
                cells.append(f"{n}/class {mean(a):.3f} ({min(a):.3f}-{max(a):.3f})")
            print(f"{name:18} {label:18} " + "   ".join(cells))
    print(plot(records, args.sizes, args.name))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
