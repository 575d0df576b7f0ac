"""How far notebook 07's targets lie from the mini source, and what longer training does on the far one.

    python docs/measurements/far_target.py distance
    python docs/measurements/far_target.py longer [--steps 150] [--seeds 0]

`distance` prints the mini source's accuracy on its own 12 foods (the validation drawings of its recipe) as
they are, in grayscale and as line drawings (`d2lft.data.sketch`), and the probe's test accuracy (a linear
head on the frozen features, every training image) on the hotdog photos and on their line drawings.
`longer` trains the far target (every training image) with the book's fine-tuning recipe and the book's
scratch recipe for `--steps` steps (notebook 07 runs 18), and prints the training accuracy and the
validation accuracy after each epoch, with the seconds per run. The mini world, two threads.
"""

import argparse
import math
import sys

import torch
from PIL import ImageOps

import d2lft
from d2lft import strategies
from d2lft.devices import describe_cpu
from d2lft.folders import photo_splits
from d2lft.worlds.mini.pretrain import render_split
from d2lft.worlds.mini.source import mini_source_categories


def distance(world, source) -> None:
    test_augs = d2lft.data.resize_crop_normalize(world.crop_size, world.resize_size)
    drawings = render_split("mini-source", "val", 40, mini_source_categories())
    looks = {"as drawn": lambda im: im, "grayscale": lambda im: ImageOps.grayscale(im).convert("RGB"),
             "line drawings": d2lft.data.sketch}  # fmt: skip
    source.eval()
    for name, look in looks.items():
        X = torch.stack([test_augs(look(image)) for image, _ in drawings])
        y = torch.tensor([label for _, label in drawings])
        with torch.no_grad():
            acc = (source(X).argmax(1) == y).float().mean().item()
        print(f"the source on its own 12 foods {name:14}: {acc:.3f} ({len(y)} drawings; chance 0.083)")
    for name, root in [("photos", d2lft.data.recipe_dir(world)), ("line drawings", d2lft.data.sketch_dir(world))]:
        photos = strategies.Photos(photo_splits(root), world.crop_size, world.resize_size, world.batch_size, "cpu")
        run = strategies.train("probe", source, photos, 0, held_out="test")
        print(f"probe on every training image, hotdog task as {name:14}: test accuracy {run.accuracy:.3f}")


def longer(world, source, steps: int, seeds: list[int]) -> None:
    far = photo_splits(d2lft.data.sketch_dir(world))
    photos = strategies.Photos(far, world.crop_size, world.resize_size, world.batch_size, torch.device("cpu"))
    epochs = math.ceil(steps / math.ceil(len(far.files["train"]) / world.batch_size))
    print(f"far target: {len(far.files['train'])} training, {len(far.files['val'])} validation images; "
          f"{epochs} epochs ({steps} steps or a few more)")  # fmt: skip
    for seed in seeds:
        for strategy in ("full", "scratch"):
            run = strategies.train(strategy, source, photos, seed, epochs=epochs)
            val = " ".join(f"{a:.2f}" for a in run.history.test_acc)
            print(f"seed {seed} {strategy:7}: train acc {run.history.train_acc[-1]:.3f} after the last epoch, "
                  f"{run.seconds:.0f} s; validation by epoch: {val}", flush=True)  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("distance", "longer"))
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    args = parser.parse_args()
    torch.set_num_threads(2)
    world = d2lft.get_world("mini")
    source, _ = d2lft.load_pretrained("resnet18", world)
    print(f"torch {torch.__version__}, {describe_cpu()}; {' '.join(sys.argv[1:])}")
    if args.what == "distance":
        distance(world, source)
    else:
        longer(world, source, args.steps, args.seeds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
