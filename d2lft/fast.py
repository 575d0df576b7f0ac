"""The fast path: the book's recipe with the same summed loss and the same `fit`, run faster.

`train_fast` differs from `train_ch13` in how, not what: channels_last memory, no host
synchronisation inside an epoch (the loss is still checked for divergence, once per epoch), and an
explicit `precision`: float32, or bfloat16 autocast (the default only on CUDA GPUs that support it).
Its examples/sec counts the whole epoch, data loading included, and its last line names the
precision. Pair it with `d2lft.load_data_hotdog_decoded` (`d2lft.speed.decoded`), which decodes every image once.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import torch
from torch import nn

from .devices import try_all_gpus
from .metrics import Accumulator, History, evaluate_accuracy
from .support.settings import setting
from .train import divergence_error, fit, place, training_animator

PRECISIONS = ("fp32", "bf16")


def resolve_precision(device: torch.device, precision: str | None = None) -> str:
    """The fast path's precision: `precision` if given, else `$D2LFT_PRECISION`, else the device's default.

    The default is `"bf16"` (bfloat16 autocast) on CUDA GPUs that support it and `"fp32"` everywhere
    else, CPUs included: most CPUs have no native bfloat16, and where one has (AVX512-BF16, AMX), bf16
    is a different numeric path that a reader should choose knowingly (`precision="bf16"`).
    """
    precision = precision or (setting("D2LFT_PRECISION") or "").lower() or None
    if precision is None:
        return "bf16" if device.type == "cuda" and torch.cuda.is_bf16_supported() else "fp32"
    if precision not in PRECISIONS:
        raise ValueError(f"Unknown precision {precision!r}: use one of {PRECISIONS} (argument or D2LFT_PRECISION).")
    return precision


def train_fast(
    net: nn.Module,
    train_iter,
    test_iter,
    loss,
    trainer,
    num_epochs: int,
    devices: Sequence[torch.device] | None = None,
    plot: bool = True,
    precision: str | None = None,
    held_out: str = "test",
    test_each_epoch: bool = True,
) -> History:
    """`train_ch13`'s recipe on the fast path, in `precision` (see `resolve_precision`); return the History.

    `test_each_epoch=False` measures `test_iter` after the last epoch only (see `d2lft.train.fit`).
    """
    devices = list(devices) if devices else try_all_gpus()
    device = devices[0]
    model = place(net, devices).to(memory_format=torch.channels_last)
    precision = resolve_precision(device, precision)
    autocast = {"device_type": device.type, "dtype": torch.bfloat16, "enabled": precision == "bf16"}

    def train_epoch(epoch: int, bar) -> Accumulator:
        losses, correct, examples = [], torch.zeros((), device=device), 0
        start = time.perf_counter()
        model.train()
        for X, y in train_iter:
            X = X.to(device, non_blocking=True)
            X = X.contiguous(memory_format=torch.channels_last) if X.ndim == 4 else X
            y = y.to(device, non_blocking=True)
            trainer.zero_grad(set_to_none=True)
            with torch.autocast(**autocast):
                pred = model(X)
                l = loss(pred, y)  # noqa: E741 (the book's name)
            l.sum().backward()
            trainer.step()
            losses.append(l.detach().float().sum())
            correct += (pred.argmax(dim=1) == y).sum()
            examples += y.numel()
            bar.update()
        per_batch = torch.stack(losses).cpu()  # the epoch's one synchronisation
        if not torch.isfinite(per_batch).all():
            i = int((~torch.isfinite(per_batch)).nonzero()[0])
            raise divergence_error(per_batch[i].item(), epoch, i, len(per_batch), trainer)
        metric = Accumulator(5)
        metric.add(per_batch.sum(), correct.item(), examples, examples, time.perf_counter() - start)
        return metric

    def evaluate() -> float:
        with torch.autocast(**autocast):
            return evaluate_accuracy(model, test_iter, device)

    history = History(devices=str(devices), precision=precision, held_out=held_out)
    animator = training_animator(num_epochs, held_out, f"train_fast ({precision})") if plot else None
    return fit(history, num_epochs, len(train_iter), train_epoch, evaluate, animator, True, test_each_epoch)
