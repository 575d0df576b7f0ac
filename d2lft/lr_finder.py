"""A learning-rate finder, as fastai's `lr_find` (after Leslie Smith's range test, 2015).

Train for one short sweep while the rate grows exponentially from batch to batch, record the smoothed
loss, and stop once it diverges. The loss falls slowly at rates too small to matter, falls fastest over a
useful range, then blows up; a good rate lies on the steep part, below the minimum. Two rules read a
rate off the curve: the classic one (a tenth of the minimum's rate, or the steepest point if lower) and
fastai's `valley` (its default since fastai 2.4: halfway along the longest stretch over which the loss
keeps falling). The rates are the
book's (`fine_tuning_trainer`: a summed loss at batch 128, the head at 10x when `param_group`), so a
suggestion can be passed to `train_fine_tuning` as it is. The network and the random state are left as
they were.
"""

from __future__ import annotations

import copy
import itertools
import math
from dataclasses import dataclass

import torch
from torch import nn

from .recipe import fine_tuning_trainer


@dataclass
class LRFinderResult:
    """The sweep: each step's rate and smoothed loss (per example), why it stopped, and what it suggests."""

    lrs: list[float]
    losses: list[float]
    stopped: str
    steepest: float  # where the smoothed loss falls fastest (per log-rate), before its minimum
    minimum: float  # the rate of the lowest smoothed loss
    valley: float  # fastai's `valley` rule: halfway along the longest stretch of falling loss

    @property
    def suggestion(self) -> float:
        """The rate to use: a tenth of the minimum's (the classic rule), or the steepest point if that is lower."""
        return min(self.minimum / 10, self.steepest)


def lr_find(
    net: nn.Module,
    train_iter,
    batch_size: int,
    param_group: bool = True,
    start_lr: float = 1e-7,
    end_lr: float = 1.0,
    num_steps: int = 100,
    smoothing: float = 0.98,
    diverge: float = 4.0,
    device: torch.device | None = None,
    skip_start: int = 5,
) -> LRFinderResult:
    """Sweep the book's base rate from `start_lr` to `end_lr` over `num_steps` batches of `train_iter`
    (cycled if it is shorter); stop early when the smoothed loss exceeds `diverge` times its lowest value
    or is not a number. The first `skip_start` steps, where the smoothed loss is still settling, count for
    neither suggestion (fastai's `skip_start`). `net` and the global random state are unchanged afterwards."""
    device = device or next(net.parameters()).device
    model = copy.deepcopy(net).to(device).train()
    trainer = fine_tuning_trainer(model, 1.0, batch_size, param_group)
    multipliers = [group["lr"] for group in trainer.param_groups]  # the head's 10x, the batch scaling
    loss = nn.CrossEntropyLoss(reduction="none")
    lrs, losses, average, best = [], [], 0.0, math.inf
    stopped = f"reached rate {end_lr:g}"
    with torch.random.fork_rng(devices=[device.index or 0] if device.type == "cuda" else []):
        batches = itertools.cycle(train_iter) if len(train_iter) < num_steps else iter(train_iter)
        for step, (X, y) in zip(range(num_steps), batches):
            lr = start_lr * (end_lr / start_lr) ** (step / max(1, num_steps - 1))
            for group, multiplier in zip(trainer.param_groups, multipliers):
                group["lr"] = lr * multiplier
            X, y = X.to(device), y.to(device)
            trainer.zero_grad(set_to_none=True)
            l = loss(model(X), y)  # noqa: E741 (the book's name)
            l.sum().backward()
            trainer.step()
            value = l.mean().item()
            average = smoothing * average + (1 - smoothing) * value
            smoothed = average / (1 - smoothing ** (step + 1))  # bias-corrected, as fastai's
            if not math.isfinite(smoothed):
                stopped = f"met a loss that is not a number at rate {lr:.1e}"
                break
            lrs.append(lr)
            losses.append(smoothed)
            best = min(best, smoothed)
            if smoothed > diverge * best:
                stopped = f"diverged at rate {lr:.1e} (loss {smoothed:.2f} > {diverge:g} x the lowest {best:.2f})"
                break
    if len(lrs) < skip_start + 3:
        raise ValueError(f"the sweep stopped after {len(lrs)} steps ({stopped}): lower start_lr or give more batches")
    low = min(range(skip_start, len(losses)), key=losses.__getitem__)
    inner = range(skip_start + 1, max(skip_start + 2, low))
    steep = min(inner, key=lambda i: (losses[i + 1] - losses[i - 1]) / math.log(lrs[i + 1] / lrs[i - 1]))
    return LRFinderResult(lrs, losses, stopped, lrs[steep], lrs[low], lrs[_valley(losses, skip_start)])


def _valley(losses: list[float], skip_start: int) -> int:
    """The index halfway along the longest valley: the longest run of steps whose losses keep falling, not
    necessarily one after the other (the longest decreasing subsequence, found step by step)."""
    length = [1] * len(losses)  # of the longest falling run that ends at each step
    first = list(range(len(losses)))  # where that run starts
    end = skip_start
    for i in range(skip_start, len(losses)):
        for j in range(skip_start, i):
            if losses[i] < losses[j] and length[j] + 1 > length[i]:
                length[i], first[i] = length[j] + 1, first[j]
        if length[i] > length[end]:
            end = i
    return first[end] + (end - first[end]) // 2


def plot_lr_find(result: LRFinderResult, ax=None):
    """Loss against rate (log scale), with the minimum, the steepest point and the suggestion marked."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3))
    ax.plot(result.lrs, result.losses)
    ax.set_xscale("log")
    ax.set(xlabel="the book's base learning rate (batch 128)", ylabel="training loss (smoothed)",
           title=f"learning-rate finder: stopped when it {result.stopped.split(' (')[0]}")  # fmt: skip
    top = min(max(result.losses), 2 * result.losses[0])
    ax.set_ylim(min(result.losses) * 0.9, top * 1.05)
    ax.axvline(result.minimum, color="gray", ls=":", label=f"minimum {result.minimum:.1e}")
    ax.axvline(result.steepest, color="tab:orange", ls="--", label=f"steepest {result.steepest:.1e}")
    ax.axvline(result.suggestion, color="tab:red", label=f"suggested {result.suggestion:.1e}")
    ax.axvline(result.valley, color="tab:green", ls="-.", label=f"valley {result.valley:.1e}")
    ax.legend(fontsize="small")
    return ax
