"""Measuring a classifier: the book's `accuracy` and `evaluate_accuracy`, predictions, confusion
matrices, and the `History` every training loop of the course records and reports the same way."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from .support.settings import setting


class Accumulator:
    """Sums `n` running totals (the book's helper); tensors are detached before conversion."""

    def __init__(self, n: int):
        self.data = [0.0] * n

    def add(self, *args) -> None:
        self.data = [a + float(b.detach() if isinstance(b, torch.Tensor) else b) for a, b in zip(self.data, args)]

    def reset(self) -> None:
        self.data = [0.0] * len(self.data)

    def __getitem__(self, idx: int) -> float:
        return self.data[idx]


def accuracy(y_hat: torch.Tensor, y: torch.Tensor) -> float:
    """Return the number of correct predictions (a count, as in the book, not a fraction)."""
    if y_hat.ndim > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(dim=1)
    return float((y_hat.type(y.dtype) == y).sum())


def evaluate_accuracy(net: nn.Module, data_iter: Iterable, device: torch.device | None = None) -> float:
    """Return the accuracy of `net` on `data_iter`, in eval mode, on `device` (default: the net's)."""
    outputs, labels = collect_logits(net, data_iter, device)
    return accuracy(outputs, labels) / labels.numel()


def collect_logits(
    net: nn.Module, data_iter: Iterable, device: torch.device | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (outputs, true labels) of `net` over `data_iter`, in eval mode, on the CPU (copied there once)."""
    net.eval()
    device = device or next(net.parameters()).device
    channels_last = next(net.parameters()).is_contiguous(memory_format=torch.channels_last)
    outputs, labels = [], []
    with torch.no_grad():
        for X, y in data_iter:
            X = X.to(device)
            if channels_last and X.ndim == 4:
                X = X.contiguous(memory_format=torch.channels_last)  # match a channels_last model
            outputs.append(net(X).float())
            labels.append(y.to(device))
    return torch.cat(outputs).cpu(), torch.cat(labels).cpu()


def predict_labels(
    net: nn.Module, data_iter: Iterable, device: torch.device | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (predicted labels, true labels) of `net` over `data_iter`."""
    outputs, labels = collect_logits(net, data_iter, device)
    return outputs.argmax(dim=1), labels


def confusion_matrix(preds: torch.Tensor, labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Counts with true classes as rows and predicted classes as columns (arguments in `predict_labels`' order)."""
    index = labels.long() * num_classes + preds.long()
    return torch.bincount(index, minlength=num_classes**2).reshape(num_classes, num_classes)


@dataclass
class History:
    """Per-epoch metrics of one training run: every loop of the course records and reports through it.

    `report` prints the book's two summary lines and, when `$D2LFT_RUNS` names a file, appends the
    run there as one JSON line, which is how `tools/course.py` collects every run of a course pass
    without reading printed text back.
    """

    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    test_acc: list[float] = field(default_factory=list)
    train_seconds: list[float] = field(default_factory=list)  # time spent training, per epoch
    examples_per_sec: float = float("nan")
    devices: str = ""
    precision: str | None = None  # the fast path's ("fp32", "bf16"); None: the book's loop, always float32
    held_out: str = "test"  # what `test_acc` was measured on: "test", or "val" for a validation split

    def add_epoch(self, train_loss: float, train_acc: float, test_acc: float, seconds: float) -> None:
        """Record one finished epoch: mean training loss and accuracy, test accuracy, training seconds."""
        self.train_loss.append(float(train_loss))
        self.train_acc.append(float(train_acc))
        self.test_acc.append(float(test_acc))
        self.train_seconds.append(float(seconds))

    def summary(self) -> str:
        """The book's first summary line for the last epoch."""
        last = f"{self.held_out} acc {self.test_acc[-1]:.3f}"
        return f"loss {self.train_loss[-1]:.3f}, train acc {self.train_acc[-1]:.3f}, {last}"

    def report(self, examples_per_sec: float) -> None:
        """Set the throughput, print the book's two summary lines, and log the run to `$D2LFT_RUNS` if set."""
        self.examples_per_sec = examples_per_sec
        print(self.summary())
        print(
            f"{examples_per_sec:.1f} examples/sec on {self.devices}" + (f", {self.precision}" if self.precision else "")
        )
        if log := setting("D2LFT_RUNS"):
            record = asdict(self)
            record["examples_per_sec"] = None if math.isnan(examples_per_sec) else examples_per_sec
            with open(log, "a") as f:
                f.write(json.dumps(record) + "\n")
