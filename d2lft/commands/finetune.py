"""`python -m d2lft finetune`: the book's hotdog recipe, or your own photo folder within a time budget.

Without --data: the book's recipe on the active world's hotdog dataset (under torchrun, with DDP on every
process). With --data PATH: your photos, split into train/validation/test once and the same every time
(d2lft.folders); the strategies that fit --budget are timed beforehand, trained cheapest first and
compared on validation; the best is measured once on the test images and, with --save, kept in a model
file that python -m d2lft predict MODEL IMAGES... uses.
"""

from __future__ import annotations

import argparse
import os

import torch
import torchvision
from torch import nn
from tqdm.auto import tqdm

from ..data import hotdog_datasets, hotdog_dir
from ..devices import try_gpu
from ..fast import PRECISIONS
from ..folders import FolderError, photo_splits
from ..models import load_pretrained, photos_source_note
from ..predict import save_model
from ..recipe import fine_tuning_trainer, replace_fc, train_fine_tuning
from ..strategies import EPOCHS, STRATEGIES, Photos, choose, estimate_seconds, train
from ..worlds import CLASSES, get_world


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m d2lft finetune", description=__doc__.split("\n\n")[0],
                                     epilog=__doc__.split("\n\n", 1)[1])  # fmt: skip
    parser.add_argument(
        "--lr",
        type=float,
        default=None,
        help="the book's base rate, for batches of 128 (default: 5e-5, scratch 5e-4)",
    )
    parser.add_argument(
        "--epochs",
        type=int,
        default=None,
        help="epochs per run (default: the world's recipe, the book's 5, or 3 in the laptop and mini recipes; "
        "with --data: 3 for last-stage and full, 30 for the probe)",
    )
    parser.add_argument("--batch-size", type=int, default=None, help="global batch (default: the world's)")
    parser.add_argument("--scratch", action="store_true", help="random weights, one learning rate for all layers")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fast", action="store_true", help="train_fast and the decode-once cache")
    parser.add_argument(
        "--precision",
        choices=PRECISIONS,
        default=None,
        help="with --fast: bf16 autocast or fp32 (default: bf16 on CUDA GPUs, else fp32)",
    )
    parser.add_argument("--save", default=None, help="write the trained model here, atomically, with its class "
                        "names and preprocessing: a model file for python -m d2lft predict")  # fmt: skip
    parser.add_argument("--data", default=None, help="your photo folder: PATH/<class>/*.jpg, or PATH/train/<class>/ "
                        "and PATH/test/<class>/ (at least 2 classes)")  # fmt: skip
    parser.add_argument("--budget", type=float, default=None, help="with --data: the minutes reading the photos "
                        "and training may take on this machine (default: no limit)")  # fmt: skip
    parser.add_argument("--strategy", choices=("auto", *STRATEGIES), default="auto", help="with --data: probe (a "
                        "head on cached features), last-stage (layer4 and the head), full (every layer, the head "
                        "at 10x), or auto (each that fits the budget, cheapest first; the best on validation "
                        "wins)")  # fmt: skip
    args = parser.parse_args(argv)
    if args.data:
        return fine_tune_folder(args, parser)
    if args.budget is not None or args.strategy != "auto":
        parser.error("--budget and --strategy apply to your own photos: add --data PATH")
    world = get_world()
    epochs = args.epochs or world.epochs
    lr = args.lr or (5e-4 if args.scratch else 5e-5)
    batch_size = args.batch_size or world.batch_size
    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
    if args.precision and not args.fast:
        parser.error("--precision applies to the fast path: add --fast")
    if distributed and args.fast:
        parser.error("--fast runs in one process; under torchrun, DDP trains with the book's loop")
    if distributed:
        import torch.distributed as dist

        from ..speed.distributed import setup_distributed, train_ddp

        rank, _, device = setup_distributed()
        if rank == 0:  # download or build the data and weights once, before the others read them
            hotdog_dir(world)
            load_pretrained("resnet18", world)
        dist.barrier()
    else:
        rank, device = 0, try_gpu()
    if rank == 0:
        print(world)
    torch.manual_seed(args.seed)
    if args.scratch:
        net = torchvision.models.resnet18()
        net.fc = nn.Linear(net.fc.in_features, 2)
    else:
        net = replace_fc(load_pretrained("resnet18", world)[0], 2)
    net.to(device)
    if distributed:
        train_set, test_set = hotdog_datasets(world)  # the recipe's images (the laptop recipe: its subset)
        trainer = fine_tuning_trainer(net, lr, batch_size, not args.scratch)
        train_ddp(
            net, train_set, test_set, nn.CrossEntropyLoss(reduction="none"), trainer, epochs, batch_size, args.seed
        )
    else:
        train_fine_tuning(
            net,
            lr,
            batch_size,
            epochs,
            not args.scratch,
            world=world,
            devices=[device],
            plot=False,
            fast=args.fast,
            precision=args.precision,
        )
    if args.save and rank == 0:  # the model file of --data's too: python -m d2lft predict reads both
        path = save_model(net, args.save, CLASSES, "resnet18", world.crop_size, world.resize_size)
        print(f"saved {path}: use it with python -m d2lft predict {path} IMAGE...")
    if distributed:
        dist.destroy_process_group()
    return 0


def fine_tune_folder(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """`--data`: fit the strategies into the budget, train them, choose on validation, test once, save."""
    if args.scratch or int(os.environ.get("WORLD_SIZE", "1")) > 1 or args.precision:
        parser.error("--data trains in one process from pretrained weights: drop --scratch, --precision and torchrun")
    try:
        splits = photo_splits(args.data)
    except FolderError as e:
        parser.exit(2, f"error: {e}\n")
    world, device = get_world(), try_gpu()
    print(world)
    if note := photos_source_note(world):
        print(note)
    counts = splits.counts()
    print(f"{splits.root}: {len(splits.classes)} classes, split {splits.layout!r} saved in {splits.split_file}")
    for k, name in enumerate(splits.classes):
        print(f"  {name:24} " + ", ".join(f"{counts[s][k]} {s}" for s in counts))
    for note in splits.changes:
        print("  since last time:", note)
    if splits.skipped:
        print(f"  skipped (not images): {', '.join(splits.skipped[:5])}" + (" ..." if len(splits.skipped) > 5 else ""))
    source, _ = load_pretrained("resnet18", world)
    photos = Photos(splits, world.crop_size, world.resize_size, args.batch_size or world.batch_size, device)
    print(
        f"photos read in {photos.decode_seconds:.1f} s (decoded once at {world.resize_size} px and kept in "
        f"{photos.cache_dir}: the next run on the same files reads them from there)"
    )
    epochs = {**EPOCHS, **({"last-stage": args.epochs, "full": args.epochs} if args.epochs else {})}
    estimate = estimate_seconds(source, photos, epochs)
    print("estimated time per strategy here: " + ", ".join(f"{s} {estimate[s]:.0f} s" for s in STRATEGIES))
    budget = None if args.budget is None else 60 * args.budget - photos.decode_seconds  # reading the photos counts
    wanted = STRATEGIES if args.strategy == "auto" else (args.strategy,)
    # the chosen strategy trains once more, on the training and validation images: the budget keeps room for it
    both = len(splits.files["train"]) + len(splits.files["val"])
    refit = both / len(splits.files["train"])
    plan, total = [], 0.0
    for s in wanted:
        if budget is None or total + estimate[s] + refit * max(estimate[p] for p in [*plan, s]) <= budget:
            plan.append(s)
            total += estimate[s]
    if not plan:
        parser.exit(2, f"error: {wanted[0]} needs about {estimate[wanted[0]] / 60:.1f} min here, over the "
                       f"{budget / 60:.1f} min left of the {args.budget:g} min budget after reading the photos. "
                       f"Raise --budget, or choose a cheaper --strategy (probe is the cheapest).\n")  # fmt: skip
    total += refit * max(estimate[p] for p in plan)
    print(f"plan: {', '.join(plan)}, then the best again on training + validation images (about {total / 60:.1f} min"
          + (f" of the {budget / 60:.1f} min left of the budget)" if budget is not None else ")"))  # fmt: skip
    lr = args.lr or 5e-5
    runs = [train(s, source, photos, args.seed, lr, epochs[s]) for s in tqdm(plan, desc="strategies")]
    for run in runs:
        print(f"{run.strategy:10}: validation accuracy {run.accuracy:.3f} after {run.seconds:.0f} s")
    best, why = choose(runs, None)
    print(f"chosen: {why}")
    final = train(best, source, photos, args.seed, lr, epochs[best], held_out="test", train_split="train+val")
    print(f"{best} trained again on the {both} training + validation images, in {final.seconds:.0f} s")
    print(f"test accuracy, measured once: {final.accuracy:.3f} on {len(splits.files['test'])} images")
    if args.save:
        path = save_model(final.net, args.save, splits.classes, "resnet18", world.crop_size, world.resize_size)
        print(f"saved {path}: use it with python -m d2lft predict {path} IMAGE...")
    return 0
