"""The book's training loop, `train_ch13`, made to work everywhere; and `fit`, the epoch loop it shares.

Same semantics as d2l 1.0.3: per-example losses are *summed* before `backward()` (so the
learning rate scales with the batch size), metrics are accumulated per example, and the same
two summary lines are printed. Fixed: it runs on a CPU-only machine, with any number of batches
per epoch, returns the per-epoch `History`, stops with a clear message when the loss diverges,
and keeps what is done when stopped by hand. The fast path (`d2lft.fast.train_fast`) runs the
same recipe through the same `fit`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence

import torch
from torch import nn
from tqdm.auto import tqdm

from .devices import try_all_gpus
from .metrics import Accumulator, History, accuracy, evaluate_accuracy
from .plot import Animator


def train_batch_ch13(
    net: nn.Module, X, y, loss, trainer, devices: Sequence[torch.device]
) -> tuple[torch.Tensor, float]:
    """One step: forward, summed per-example loss, backward, update; return (loss sum, correct count)."""
    X = [x.to(devices[0]) for x in X] if isinstance(X, list) else X.to(devices[0])
    y = y.to(devices[0])
    net.train()
    trainer.zero_grad()
    pred = net(X)
    l = loss(pred, y)  # noqa: E741 (the book's name)
    l.sum().backward()
    trainer.step()
    return l.sum().detach(), accuracy(pred, y)


def place(net: nn.Module, devices: Sequence[torch.device]) -> nn.Module:
    """`net` on the first device, wrapped in `nn.DataParallel` (as in the book) when there are several."""
    return nn.DataParallel(net, device_ids=list(devices)).to(devices[0]) if len(devices) > 1 else net.to(devices[0])


def divergence_error(value: float, epoch: int, batch: int, num_batches: int, trainer) -> FloatingPointError:
    """The error raised when the loss stops being finite: where it happened, the rates, and what to do."""
    rates = [group["lr"] for group in getattr(trainer, "param_groups", [])]
    return FloatingPointError(
        f"The loss became {value} in epoch {epoch + 1}, batch {batch + 1} of {num_batches}, "
        f"with learning rates {rates}: training diverged. Lower the learning rate and train again."
    )


def fit(
    history: History,
    num_epochs: int,
    num_batches: int,
    train_epoch: Callable[[int, tqdm], Accumulator],
    evaluate: Callable[[], float],
    animator: Animator | None = None,
    plot_train_per_epoch: bool = False,
    test_each_epoch: bool = True,
    main_process: bool = True,
) -> History:
    """Run `num_epochs` epochs of `train_epoch(epoch, bar)`, each followed by `evaluate()`; record and report.

    Every training loop of the course goes through it: the book's (`train_ch13`), the fast path, DDP and the
    mini world's source pretraining. `train_epoch` returns an `Accumulator` of (loss sum, correct, examples,
    predictions, seconds), and raises `divergence_error` when the loss stops being finite. Each epoch goes
    into `history` and the live plot (the training curves too with `plot_train_per_epoch`, for loops that
    do not plot within the epoch). `test_each_epoch=False` evaluates after the last epoch only (the others
    record NaN): faster, when only the final accuracy matters. Interrupted by hand (Jupyter's stop button,
    Ctrl-C), it keeps the finished epochs and returns. `main_process=False` (DDP's other processes): no
    progress bar and no printed lines.
    """
    examples = 0.0
    try:
        with tqdm(total=num_batches, leave=False, disable=not main_process) as bar:  # one bar, reset every epoch
            for epoch in range(num_epochs):
                bar.reset(total=num_batches)
                bar.set_description(f"epoch {epoch + 1}/{num_epochs}")
                metric = train_epoch(epoch, bar)
                tested = evaluate() if test_each_epoch or epoch == num_epochs - 1 else math.nan
                history.add_epoch(metric[0] / metric[2], metric[1] / metric[3], tested, metric[4])
                examples += metric[2]
                if animator:
                    train = (history.train_loss[-1], history.train_acc[-1]) if plot_train_per_epoch else (None, None)
                    animator.add(epoch + 1, (*train, history.test_acc[-1]))
    except KeyboardInterrupt:
        done = len(history.test_acc)
        if main_process:
            print(
                f"Interrupted in epoch {done + 1}: the model keeps its current weights, "
                f"and the returned history holds the {done} finished epochs."
            )
        return history
    if main_process:
        history.report(examples / sum(history.train_seconds))
    else:
        history.examples_per_sec = examples / sum(history.train_seconds)
    return history


def training_animator(num_epochs: int, held_out: str = "test", title: str | None = None) -> Animator:
    """The book's live plot of training loss, training accuracy and held-out (test) accuracy by epoch."""
    return Animator("epoch", ["train loss", "train acc", f"{held_out} acc"], xlim=(1, num_epochs), title=title)


def train_ch13(
    net: nn.Module,
    train_iter,
    test_iter,
    loss,
    trainer,
    num_epochs: int,
    devices: Sequence[torch.device] | None = None,
    plot: bool = True,
    held_out: str = "test",
    test_each_epoch: bool = True,
) -> History:
    """Train `net` as the book's `train_ch13` does, on CPU, one GPU or several; return the History.

    Its examples/sec counts the time spent in training steps only, as the book's does. `held_out`
    names what `test_iter` holds ("val" for a validation split) in the plot and the summary;
    `test_each_epoch=False` measures it after the last epoch only (see `fit`).
    """
    devices = list(devices) if devices else try_all_gpus()
    model = place(net, devices)
    animator = training_animator(num_epochs, held_out, "train_ch13 (the book's loop)") if plot else None
    num_batches = len(train_iter)
    every = max(1, num_batches // 5)  # the book divides by num_batches // 5, which is 0 below 5 batches

    def train_epoch(epoch: int, bar) -> Accumulator:
        metric = Accumulator(5)  # loss sum, correct count, examples, predictions, seconds
        for i, (features, labels) in enumerate(train_iter):
            start = time.perf_counter()
            l, acc = train_batch_ch13(model, features, labels, loss, trainer, devices)
            metric.add(l, acc, labels.shape[0], labels.numel(), time.perf_counter() - start)
            if not math.isfinite(float(l)):
                raise divergence_error(float(l), epoch, i, num_batches, trainer)
            bar.update()
            if animator and ((i + 1) % every == 0 or i == num_batches - 1):
                animator.add(epoch + (i + 1) / num_batches, (metric[0] / metric[2], metric[1] / metric[3], None))
        return metric

    history = History(devices=str(devices), held_out=held_out)
    return fit(history, num_epochs, num_batches, train_epoch, lambda: evaluate_accuracy(model, test_iter, devices[0]),
               animator, test_each_epoch=test_each_epoch)  # fmt: skip


def sgd_step(net: nn.Module, trainer: torch.optim.Optimizer, X: torch.Tensor, y: torch.Tensor) -> None:
    """One training step on a batch, with a mean cross-entropy loss: what the time estimates time."""
    trainer.zero_grad(set_to_none=True)
    nn.functional.cross_entropy(net(X), y).backward()
    trainer.step()


def timed(work: Callable[[], object], device: torch.device, repeats: int = 3) -> float:
    """Seconds one call of `work` takes on `device`: the fastest of `repeats` calls after the first, which
    warms up (allocations, kernel choice) and is not counted."""
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        seconds.append(time.perf_counter() - start)
    return min(seconds[1:])


def estimate_training_time(
    world, num_epochs: int, runs: int = 1, devices: Sequence[torch.device] | None = None, images: int | None = None
) -> float:
    """Say, before training, how long `runs` runs of `num_epochs` epochs will take here; return the seconds.

    Measured, not guessed: two SGD steps of a fresh ResNet-18 on a batch of random images (the world's
    batch, at most as many pixels as 16 images of 224 px) at the world's crop size, on the first device,
    in fp32 (the random state is left as it was: the notebook's numbers do not change). Each epoch
    trains on `images` (default: the training images the world's recipe uses) and evaluates its test
    images, a forward pass counted as a third of a training step. Frozen layers and bf16 make a run
    faster than this.
    """
    import torchvision

    devices = list(devices) if devices else try_all_gpus()
    sample = max(1, min(world.batch_size, 16 * 224**2 // world.crop_size**2))  # a few seconds on a laptop
    images = images or 2 * world.used_per_class["train"]
    held_out = 2 * world.used_per_class["test"]
    with torch.random.fork_rng(devices=[d.index or 0 for d in devices if d.type == "cuda"]):
        net = torchvision.models.resnet18(num_classes=2).to(devices[0])
        trainer = torch.optim.SGD(net.parameters(), lr=0.0)
        x = torch.randn(sample, 3, world.crop_size, world.crop_size, device=devices[0])
        y = torch.zeros(sample, dtype=torch.long, device=devices[0])
        per_image = timed(lambda: sgd_step(net, trainer, x, y), devices[0]) / sample
    total = runs * num_epochs * (images + held_out / 3) * per_image
    what = f"{runs} run{'s' * (runs > 1)} x {num_epochs} epochs x {images} images at {world.crop_size} px"
    print(f"Estimated training time (device: {devices[0].type}): {what}: about {total / 60:.1f} min "
          f"({1 / per_image:.1f} images/s measured here in fp32)")  # fmt: skip
    return total
