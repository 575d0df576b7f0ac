"""Notebook 06's practice folder in the mini world, measured over more seeds than the notebook runs.

    python docs/measurements/practice_folder.py [--seeds 0 1 2] [--epochs 3 10] [--crops 16 24 32 48 64]

The folder is the one `d2lft.example_photos` draws (five foods the mini source never saw, 60 photos each,
split 70/15/15 with seed 0). For each seed: the probe (a head on cached features, 30 epochs), the last
stage, full fine-tuning (the book's recipe, base rate 5e-5, the head at 10x) and scratch, each at every
`--epochs` (the probe keeps its 30), measured on the 45 validation photos and, once more trained, on the 45
test photos; then the probe at every `--crops` size (the source learned at 32 px). One photo is 0.022.
The mini world, the machine's threads; the numbers depend on the machine only through rounding.
"""

import argparse
import contextlib
import io
from statistics import mean

import torch

import d2lft
from d2lft import strategies
from d2lft.devices import describe_cpu


def quietly(*args, **kwargs) -> strategies.Run:
    with contextlib.redirect_stdout(io.StringIO()):
        return strategies.train(*args, **kwargs)


def line(label: str, accs: list[float]) -> str:
    return f"{label:28} {mean(accs):.3f}  ({min(accs):.3f}-{max(accs):.3f})  " + " ".join(f"{a:.3f}" for a in accs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, nargs="+", default=[3, 10])
    parser.add_argument("--crops", type=int, nargs="+", default=[16, 24, 32, 48, 64])
    args = parser.parse_args()
    world = d2lft.get_world("mini")
    device = d2lft.try_gpu()
    print(f"{describe_cpu()}; torch {torch.__version__}; threads {torch.get_num_threads()}; seeds {args.seeds}")
    splits = d2lft.photo_splits(d2lft.example_photos(world))
    print(f"{', '.join(splits.classes)}: " + ", ".join(f"{len(f)} {s}" for s, f in splits.files.items()))
    source, _ = d2lft.load_pretrained("resnet18", world)
    photos = strategies.Photos(splits, world.crop_size, world.resize_size, world.batch_size, device, cache_dir=None)
    print("accuracy: mean (min-max) then each seed")
    for strategy in strategies.TRAINABLE:
        for epochs in [None] if strategy == "probe" else args.epochs:
            label = f"{strategy}, {epochs or strategies.EPOCHS['probe']} epochs"
            for held_out in ("val", "test"):
                runs = [quietly(strategy, source, photos, s, epochs=epochs, held_out=held_out) for s in args.seeds]
                print(line(f"{label}, {held_out}", [r.accuracy for r in runs]), flush=True)
    for crop in args.crops:
        resize = round(crop * world.resize_size / world.crop_size)
        sized = strategies.Photos(splits, crop, resize, world.batch_size, device, cache_dir=None)
        print(line(f"probe at {crop} px, val", [quietly("probe", source, sized, s).accuracy for s in args.seeds]))


if __name__ == "__main__":
    main()
