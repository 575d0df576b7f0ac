"""A fair scratch baseline in the mini world: scratch tuned on validation, and the time each needs to get there.

    python docs/measurements/scratch_vs_finetune.py run LOG [--lrs 0.005 0.01 0.02] [--momenta 0.8 0.9 cycled]
                                                           [--seeds 0 1] [--epochs 30] [--finetune]
                                                           [--finetune-epochs N]
    python docs/measurements/scratch_vs_finetune.py report LOG

`run` appends one JSON line per training run to LOG: scratch ResNet-18s with a recipe of their own (SGD with
Nesterov momentum, fixed or cycled with the rate, weight decay 5e-4, a one-cycle schedule peaking at the rate, a
mean loss, batches of 32),
and with `--finetune` the book's recipe from the mini source (lr 5e-5, head 10x, summed loss, the mini
recipe's 3 epochs or `--finetune-epochs`).
Every run trains on four fifths of the training images and records the validation accuracy (the other fifth)
after each epoch, with the training seconds so far (validation passes not counted), on one thread. Both kinds
run through this script's one small loop, so their seconds compare (d2lft's fast path has no per-step schedule).
`report` chooses the scratch recipe (rate, momentum and epochs) by its mean final validation accuracy over seeds
and prints, for it and for fine-tuning, the epochs and seconds each needed to reach that accuracy first.
"""

import argparse
import copy
import json
import statistics
import sys
import time

import torch
import torchvision
from torch import nn

import d2lft
from d2lft.devices import describe_cpu
from d2lft.metrics import evaluate_accuracy
from d2lft.speed.decoded import load_data_hotdog_decoded


def train(net, trainer, loss, epochs, train_iter, val_iter, schedule=None, summed=False) -> tuple[list, list]:
    """Validation accuracy and training seconds so far, after each epoch."""
    val, seconds, spent = [], [], 0.0
    for _ in range(epochs):
        start = time.perf_counter()
        net.train()
        for X, y in train_iter:
            trainer.zero_grad()
            l = loss(net(X), y)  # noqa: E741 (the book's name)
            (l.sum() if summed else l).backward()
            trainer.step()
            if schedule:
                schedule.step()
        spent += time.perf_counter() - start
        val.append(round(evaluate_accuracy(net, val_iter), 4))
        seconds.append(round(spent, 1))
    return val, seconds


def run(args) -> None:
    torch.set_num_threads(1)
    world = d2lft.get_world("mini")
    train_iter, val_iter = load_data_hotdog_decoded(world.batch_size, world, validation=True)
    with open(args.log, "a") as log:
        if args.finetune:
            source, _ = d2lft.load_pretrained("resnet18", world)
            for seed in args.seeds:
                torch.manual_seed(seed)
                net = d2lft.replace_fc(copy.deepcopy(source), 2)
                trainer = d2lft.fine_tuning_trainer(net, 5e-5, world.batch_size)
                loss = nn.CrossEntropyLoss(reduction="none")
                epochs = args.finetune_epochs or world.epochs
                val, seconds = train(net, trainer, loss, epochs, train_iter, val_iter, summed=True)
                record = {"kind": "fine-tune", "lr": 5e-5, "seed": seed, "val": val, "seconds": seconds}
                print(json.dumps(record), file=log, flush=True)
                print(record, flush=True)
        for lr in args.lrs:
            for momentum in args.momenta:
                for seed in args.seeds:
                    torch.manual_seed(seed)
                    net = torchvision.models.resnet18(num_classes=2)
                    cycled = momentum == "cycled"  # OneCycleLR's own: 0.95 down to 0.85 and back
                    trainer = torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9 if cycled else float(momentum),
                                              weight_decay=5e-4, nesterov=True)  # fmt: skip
                    schedule = torch.optim.lr_scheduler.OneCycleLR(
                        trainer, max_lr=lr, total_steps=args.epochs * len(train_iter), pct_start=0.25,
                        cycle_momentum=cycled,
                    )  # fmt: skip
                    val, seconds = train(net, trainer, nn.CrossEntropyLoss(), args.epochs, train_iter, val_iter,
                                         schedule)  # fmt: skip
                    record = {"kind": "scratch", "lr": lr, "momentum": momentum, "seed": seed, "val": val,
                              "seconds": seconds}  # fmt: skip
                    print(json.dumps(record), file=log, flush=True)
                    print(record, flush=True)


def first_at(val: list, seconds: list, target: float):
    for epoch, (acc, s) in enumerate(zip(val, seconds)):
        if acc >= target:
            return epoch + 1, s
    return None


def report(args) -> None:
    records = [json.loads(line) for line in open(args.log) if line.startswith("{")]
    scratch = {}
    for r in records:
        if r["kind"] == "scratch":
            scratch.setdefault((r["lr"], r["momentum"], len(r["val"])), []).append(r)
    print(f"{describe_cpu()}; torch {torch.__version__}; one thread; mini world, validation split")
    print("scratch recipes, validation accuracy after the last epoch: mean (min-max over seeds)")
    for (lr, momentum, epochs), runs in sorted(scratch.items()):
        finals = [r["val"][-1] for r in runs]
        best = [max(r["val"]) for r in runs]
        print(f"  lr {lr:<6} momentum {momentum}: {statistics.mean(finals):.3f} ({min(finals):.3f}-{max(finals):.3f})"
              f", best epoch {statistics.mean(best):.3f}; {epochs} epochs, "
              f"{statistics.median(r['seconds'][-1] for r in runs):.0f} s")  # fmt: skip
    chosen = max(scratch, key=lambda k: statistics.mean(r["val"][-1] for r in scratch[k]))
    target = statistics.mean(r["val"][-1] for r in scratch[chosen])
    print(f"chosen on validation: lr {chosen[0]}, momentum {chosen[1]}, {chosen[2]} epochs; target: its mean final "
          f"accuracy, {target:.3f}")
    groups = {"scratch (chosen)": scratch[chosen], "fine-tune (book)": [r for r in records if r["kind"] == "fine-tune"]}
    for name, runs in groups.items():
        for r in runs:
            reached = first_at(r["val"], r["seconds"], target)
            when = f"epoch {reached[0]}, {reached[1]:.1f} s" if reached else "not reached"
            print(f"  {name:17} seed {r['seed']}: {when}; final {r['val'][-1]:.3f} after {len(r['val'])} epochs, "
                  f"{r['seconds'][-1]:.1f} s")  # fmt: skip


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["run", "report"])
    parser.add_argument("log")
    parser.add_argument("--lrs", type=float, nargs="*", default=[0.005, 0.01, 0.02])
    parser.add_argument("--momenta", nargs="*", default=["0.8", "0.9", "cycled"],
                        help="SGD's momentum, or 'cycled' by the one-cycle schedule: 0.95-0.85-0.95")  # fmt: skip
    parser.add_argument("--seeds", type=int, nargs="*", default=[0, 1])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--finetune", action="store_true")
    parser.add_argument("--finetune-epochs", type=int, default=None, help="default: the mini recipe's")
    args = parser.parse_args(argv)
    run(args) if args.action == "run" else report(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
