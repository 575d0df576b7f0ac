"""Measuring a classifier: the book's `accuracy` and `evaluate_accuracy`, predictions, confusion matrices."""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn


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


def predict(
    net: nn.Module, data_iter: Iterable, device: torch.device | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (predicted labels, true labels) of `net` over `data_iter`."""
    outputs, labels = collect_logits(net, data_iter, device)
    return outputs.argmax(dim=1), labels


def confusion_matrix(labels: torch.Tensor, preds: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Counts with true classes as rows and predicted classes as columns."""
    index = labels.long() * num_classes + preds.long()
    return torch.bincount(index, minlength=num_classes**2).reshape(num_classes, num_classes)
