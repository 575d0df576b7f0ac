"""The book's training loop (`train_ch13`) and accuracy helpers, made to work everywhere.

Same semantics as d2l 1.0.3: per-example losses are *summed* before `backward()` (so the
learning rate scales with the batch size), metrics are accumulated per example, and the same
two summary lines are printed. Fixed: it runs on a CPU-only machine, with any number of batches
per epoch, returns the per-epoch history, and stops with a clear message when the loss diverges.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
from torch import nn
from tqdm.auto import tqdm

from .devices import try_all_gpus
from .metrics import Accumulator, accuracy, evaluate_accuracy
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


@dataclass
class History:
    """Per-epoch metrics of one `train_ch13` run (the values the book prints for the last epoch)."""

    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    test_acc: list[float] = field(default_factory=list)
    train_seconds: list[float] = field(default_factory=list)  # time spent in training steps, per epoch
    examples_per_sec: float = float("nan")
    devices: str = ""
    precision: str = "fp32"  # the fast path's (`resolve_precision`); the book's loop is always fp32

    def summary(self) -> str:
        """The book's first summary line for the last epoch."""
        return f"loss {self.train_loss[-1]:.3f}, train acc {self.train_acc[-1]:.3f}, test acc {self.test_acc[-1]:.3f}"


def _learning_rates(trainer) -> list[float]:
    return [group["lr"] for group in getattr(trainer, "param_groups", [])]


def _diverged(value: float, epoch: int, batch: int, num_batches: int, trainer) -> FloatingPointError:
    return FloatingPointError(
        f"The loss became {value} in epoch {epoch + 1}, batch {batch + 1} of {num_batches}, "
        f"with learning rates {_learning_rates(trainer)}: training diverged. Lower the learning rate and train again."
    )


def _train_epoch(model, train_iter, loss, trainer, devices, metric, bar, animator, epoch: int, every: int) -> None:
    num_batches = len(train_iter)
    for i, (features, labels) in enumerate(train_iter):
        start = time.perf_counter()
        l, acc = train_batch_ch13(model, features, labels, loss, trainer, devices)
        metric.add(l, acc, labels.shape[0], labels.numel(), time.perf_counter() - start)
        if not math.isfinite(float(l)):
            raise _diverged(float(l), epoch, i, num_batches, trainer)
        bar.update()
        if animator and ((i + 1) % every == 0 or i == num_batches - 1):
            animator.add(epoch + (i + 1) / num_batches, (metric[0] / metric[2], metric[1] / metric[3], None))


PRECISIONS = ("fp32", "bf16")


def resolve_precision(device: torch.device, precision: str | None = None) -> str:
    """The fast path's precision: `precision` if given, else `$D2LFT_PRECISION`, else the device's default.

    The default is `"bf16"` (bfloat16 autocast) on CUDA GPUs that support it and `"fp32"` everywhere
    else, CPUs included: most CPUs have no native bfloat16, and where one has (AVX512-BF16, AMX), bf16
    is a different numeric path that a reader should choose knowingly (`precision="bf16"`).
    """
    precision = precision or os.environ.get("D2LFT_PRECISION", "").strip().lower() or None
    if precision is None:
        return "bf16" if device.type == "cuda" and torch.cuda.is_bf16_supported() else "fp32"
    if precision not in PRECISIONS:
        raise ValueError(f"Unknown precision {precision!r}: use one of {PRECISIONS} (argument or D2LFT_PRECISION).")
    return precision


def _train_epoch_fast(model, train_iter, loss, trainer, device, dtype, metric, bar, epoch: int) -> None:
    """One epoch of the fast path: autocast, channels_last, and one host sync at the end, not per batch."""
    losses, correct, examples = [], torch.zeros((), device=device), 0
    start = time.perf_counter()
    model.train()
    for X, y in train_iter:
        X = X.to(device, non_blocking=True)
        X = X.contiguous(memory_format=torch.channels_last) if X.ndim == 4 else X
        y = y.to(device, non_blocking=True)
        trainer.zero_grad(set_to_none=True)
        with torch.autocast(device.type, dtype=dtype or torch.bfloat16, enabled=dtype is not None):
            pred = model(X)
            l = loss(pred, y)
        l.sum().backward()
        trainer.step()
        losses.append(l.detach().float().sum())
        correct += (pred.argmax(dim=1) == y).sum()
        examples += y.numel()
        bar.update()
    per_batch = torch.stack(losses).cpu()  # the epoch's one synchronisation
    if not torch.isfinite(per_batch).all():
        i = int((~torch.isfinite(per_batch)).nonzero()[0])
        raise _diverged(per_batch[i].item(), epoch, i, len(per_batch), trainer)
    metric.add(per_batch.sum(), correct.item(), examples, examples, time.perf_counter() - start)


def train_ch13(
    net: nn.Module,
    train_iter,
    test_iter,
    loss,
    trainer,
    num_epochs: int,
    devices: Sequence[torch.device] | None = None,
    plot: bool = True,
    fast: bool = False,
    precision: str | None = None,
) -> History:
    """Train `net` as the book's `train_ch13` does, on CPU, one GPU or several; return the History.

    `fast=True` changes how, not what: channels_last memory, no host synchronisation inside an epoch
    (the loss is still checked, once per epoch), and the `precision` of `resolve_precision` (bf16
    autocast by default only on CUDA GPUs). Its examples/sec counts the whole epoch, data loading
    included, and its last line names the precision it used.
    """
    devices = list(devices) if devices else try_all_gpus()
    num_batches = len(train_iter)
    every = max(1, num_batches // 5)  # the book divides by num_batches // 5, which is 0 below 5 batches
    animator = Animator("epoch", ["train loss", "train acc", "test acc"], xlim=(1, num_epochs)) if plot else None
    model = nn.DataParallel(net, device_ids=devices).to(devices[0]) if len(devices) > 1 else net.to(devices[0])
    history, seconds = History(devices=str(devices)), 0.0
    if precision is not None and not fast:
        raise ValueError("precision applies to the fast path only: call train_ch13(..., fast=True, precision=...)")
    precision = resolve_precision(devices[0], precision) if fast else "fp32"
    dtype = torch.bfloat16 if precision == "bf16" else None
    history.precision = precision
    if fast:
        model = model.to(memory_format=torch.channels_last)
    # One bar, reset every epoch; updated by hand, since wrapping the DataLoader changes its shuffling.
    try:
        with tqdm(total=num_batches, leave=False) as bar:
            for epoch in range(num_epochs):
                metric = Accumulator(5)  # loss sum, correct count, examples, predictions, seconds
                bar.reset(total=num_batches)
                bar.set_description(f"epoch {epoch + 1}/{num_epochs}")
                if fast:
                    _train_epoch_fast(model, train_iter, loss, trainer, devices[0], dtype, metric, bar, epoch)
                else:
                    _train_epoch(model, train_iter, loss, trainer, devices, metric, bar, animator, epoch, every)
                seconds += metric[4]
                with torch.autocast(devices[0].type, dtype=dtype or torch.bfloat16, enabled=dtype is not None):
                    test_acc = evaluate_accuracy(model, test_iter, devices[0])
                history.train_loss.append(metric[0] / metric[2])
                history.train_acc.append(metric[1] / metric[3])
                history.test_acc.append(test_acc)
                history.train_seconds.append(metric[4])
                if animator:  # the fast path adds its training curves once per epoch, with the test accuracy
                    train_point = (history.train_loss[-1], history.train_acc[-1]) if fast else (None, None)
                    animator.add(epoch + 1, (*train_point, test_acc))
    except KeyboardInterrupt:  # stopped by hand (Jupyter's stop button): keep what is done
        done = len(history.test_acc)
        print(
            f"Interrupted in epoch {done + 1}: the model keeps its current weights, "
            f"and the returned history holds the {done} finished epochs."
        )
        return history
    history.examples_per_sec = metric[2] * num_epochs / seconds
    print(history.summary())
    print(f"{history.examples_per_sec:.1f} examples/sec on {history.devices}" + (f", {precision}" if fast else ""))
    return history
