"""Figures: the book's `show_images` and `Animator`, and a plot that compares training runs."""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from PIL import Image

from .imagenet import denormalize
from .metrics import History


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and hasattr(shell, "kernel")


def _as_array(img) -> np.ndarray:
    """A displayable HxWxC array from a PIL image or a CHW/HWC tensor (normalised or not)."""
    if isinstance(img, Image.Image):
        return np.asarray(img)
    if isinstance(img, torch.Tensor):
        img = img.detach().cpu().float()
        if img.ndim == 3 and img.shape[0] in (1, 3):
            if img.min() < 0 or img.max() > 1:  # normalised with ImageNet statistics
                img = denormalize(img) if img.shape[0] == 3 else img.clamp(0, 1)
            img = img.permute(1, 2, 0)
        return img.squeeze(-1).numpy() if img.ndim == 3 and img.shape[-1] == 1 else img.numpy()
    return np.asarray(img)


def show_images(imgs: Sequence, num_rows: int, num_cols: int, titles: Sequence[str] | None = None, scale: float = 1.5):
    """Show images (PIL or tensors, normalised or not) in a grid; return the axes."""
    _, axes = plt.subplots(num_rows, num_cols, figsize=(num_cols * scale, num_rows * scale), squeeze=False)
    axes = axes.flatten()
    for i, ax in enumerate(axes):
        ax.axis("off")
        if i < len(imgs):
            ax.imshow(_as_array(imgs[i]))
            if titles:
                ax.set_title(titles[i], fontsize=9)
    plt.tight_layout()
    return axes


class Animator:
    """A live training plot: redrawn in place in Jupyter, one figure left in the saved notebook."""

    def __init__(
        self,
        xlabel: str,
        legend: Sequence[str],
        xlim: tuple[float, float],
        ylim: tuple[float, float] | None = None,
        figsize=(4.5, 3.2),
        title: str | None = None,
    ):
        """`ylim=None` fits the y-range to the values (from 0, at least to 1: accuracies and losses alike)."""
        self.legend = list(legend)
        self.xs: list[list[float]] = [[] for _ in legend]
        self.ys: list[list[float]] = [[] for _ in legend]
        # A bare Figure (not pyplot's) is never shown again by the inline backend at cell end.
        self.fig = Figure(figsize=figsize, dpi=80)
        self.ax = self.fig.add_subplot()
        self.xlabel, self.xlim, self.ylim, self.title = xlabel, xlim, ylim, title
        self.handle = None
        if _in_notebook():
            from IPython.display import display

            self.handle = display(self._png(), display_id=True)

    def add(self, x: float, ys: Sequence[float | None]) -> None:
        """Append one point per series (None skips a series) and refresh the figure."""
        for i, y in enumerate(ys):
            if y is not None:
                self.xs[i].append(x)
                self.ys[i].append(y)
        if self.handle is not None:
            self.handle.update(self._png())

    def _png(self):
        """The figure as a PNG display object (works whatever matplotlib backend is active)."""
        from IPython.display import Image as PNG

        self._draw()
        buffer = io.BytesIO()
        self.fig.savefig(buffer, format="png")
        return PNG(data=buffer.getvalue(), format="png")

    def _draw(self) -> None:
        ax = self.ax
        ax.cla()
        for x, y, style, label in zip(self.xs, self.ys, ("-", "m--", "g-.", "r:"), self.legend):
            ax.plot(x, y, style, label=label)
        ax.set_xlabel(self.xlabel)
        ax.set_xlim(*self.xlim)
        top = max([1.0] + [y for ys in self.ys for y in ys if math.isfinite(y)])
        ax.set_ylim(*(self.ylim or (0, top * 1.05)))
        ax.grid(True, alpha=0.3)
        if self.title:
            ax.set_title(self.title, fontsize="medium")
        # Below the axes, so that it never hides a curve.
        legend = {"loc": "upper center", "bbox_to_anchor": (0.5, -0.2), "ncol": len(self.legend), "frameon": False}
        ax.legend(fontsize="small", **legend)
        self.fig.tight_layout()


def plot_histories(histories: Mapping[str, History], metrics: Sequence[str] = ("train_loss", "train_acc", "test_acc")):
    """Compare runs side by side: one panel per metric, one line per run, by epoch; return the axes."""
    _, axes = plt.subplots(1, len(metrics), figsize=(4 * len(metrics), 3), squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        for name, history in histories.items():
            values = getattr(history, metric)
            ax.plot(range(1, len(values) + 1), values, marker="o", label=name)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
        ax.set_title(metric.replace("_", " "))
        ax.grid(True, alpha=0.3)
        ax.legend()
    plt.tight_layout()
    return axes[0]


def plot_confusion_matrix(matrix: torch.Tensor, classes: Sequence[str], title: str = "") -> plt.Axes:
    """Draw a confusion matrix (rows: true class, columns: predicted) with its counts; return the axes."""
    _, ax = plt.subplots(figsize=(1.2 * len(classes) + 1.5, 1.2 * len(classes) + 0.8))
    ax.imshow(matrix, cmap="Blues")
    for (i, j), count in np.ndenumerate(matrix.numpy()):
        ax.text(j, i, str(count), ha="center", va="center", color="white" if count > matrix.max() / 2 else "black")
    ax.set(xticks=range(len(classes)), yticks=range(len(classes)), xlabel="predicted", ylabel="true", title=title)
    ax.set_xticklabels(classes)
    ax.set_yticklabels(classes)
    plt.tight_layout()
    return ax
