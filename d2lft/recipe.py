"""The book's fine-tuning recipe: a new output layer, and `train_fine_tuning` with a 10x head rate.

`python -m d2lft finetune` is its command line (`d2lft.commands.finetune`).
"""

from __future__ import annotations

import torch
from torch import nn

from .data import load_data_hotdog
from .devices import try_all_gpus
from .fast import train_fast
from .metrics import History
from .speed.decoded import load_data_hotdog_decoded
from .train import train_ch13
from .worlds import World, get_world


def replace_fc(net: nn.Module, num_classes: int = 2) -> nn.Module:
    """Give a ResNet a new `fc` for `num_classes` outputs, Xavier-initialised as in the book; return it."""
    net.fc = nn.Linear(net.fc.in_features, num_classes)
    nn.init.xavier_uniform_(net.fc.weight)
    return net


def count_parameters(net: nn.Module) -> tuple[int, int]:
    """Return (trainable, total) numbers of parameter elements."""
    trainable = sum(p.numel() for p in net.parameters() if p.requires_grad)
    return trainable, sum(p.numel() for p in net.parameters())


def fine_tuning_groups(net: nn.Module, learning_rate: float, param_group: bool = True) -> list[dict]:
    """The book's optimizer groups, trainable parameters only: with `param_group`, `fc` gets 10x the rate."""
    head = {id(p) for p in net.fc.parameters()} if param_group else set()
    body = [p for p in net.parameters() if p.requires_grad and id(p) not in head]
    fc = [p for p in net.fc.parameters() if p.requires_grad] if param_group else []
    groups = [{"params": body, "lr": learning_rate}, {"params": fc, "lr": learning_rate * 10}]
    return [group for group in groups if group["params"]]


BOOK_BATCH = 128  # the batch size the book's learning rates and weight decay were chosen for


def fine_tuning_trainer(
    net: nn.Module, learning_rate: float, batch_size: int = BOOK_BATCH, param_group: bool = True
) -> torch.optim.SGD:
    """The book's SGD (weight decay 1e-3) for its summed loss, with steps as large as the book's at any batch.

    The book's rates are for a loss summed over batches of 128: `learning_rate` 5e-5 is a mean-loss rate of
    6.4e-3. At another batch size the summed-loss rate is scaled by 128 / batch_size and the weight decay by
    batch_size / 128, so that the mean-loss rate and weight decay, and so each step, stay the book's.
    """
    scale = BOOK_BATCH / batch_size
    groups = fine_tuning_groups(net, learning_rate * scale, param_group)
    return torch.optim.SGD(groups, lr=learning_rate * scale, weight_decay=0.001 / scale)


def train_fine_tuning(
    net: nn.Module, learning_rate: float, batch_size: int | None = None, num_epochs: int | None = None,
    param_group: bool = True, **options,
) -> History:  # fmt: skip
    """The book's recipe: SGD with weight decay on a summed loss; with `param_group`, `fc` learns 10x faster.

    `learning_rate` is the book's, for batches of 128; `batch_size` and `num_epochs` default to the world's
    recipe. `options` say where and how to train (world, devices, plot, the fast path): `train_recipe`.
    """
    world = options.pop("world", None) or get_world()
    batch_size, num_epochs = batch_size or world.batch_size, num_epochs or world.epochs
    loss = nn.CrossEntropyLoss(reduction="none")
    trainer = fine_tuning_trainer(net, learning_rate, batch_size, param_group)
    return train_recipe(net, loss, trainer, batch_size, num_epochs, world, **options)


def train_recipe(
    net: nn.Module,
    loss: nn.Module,
    trainer: torch.optim.Optimizer,
    batch_size: int,
    num_epochs: int,
    world: World,
    devices=None,
    plot: bool = True,
    fast: bool = False,
    precision: str | None = None,
    validation: bool = False,
    test_each_epoch: bool = True,
) -> History:
    """Train `net` on the world's hotdog images with the book's loop (`train_ch13`), or with the same
    semantics on the fast path.

    `fast=True`: `d2lft.fast.train_fast`, with batches augmented from images decoded once, on the first
    device (`load_data_hotdog_decoded`), in `precision` (`d2lft.fast.resolve_precision`: fp32 on CPUs
    unless you ask for "bf16"). `validation=True`: train on four fifths of the training images and
    measure on the held-out fifth (`d2lft.data.validation_split`), for choosing hyperparameters; the
    test set stays unseen. `test_each_epoch=False`: measure after the last epoch only.
    """
    if precision is not None and not fast:
        raise ValueError("precision applies to the fast path only: add fast=True")
    held_out = "val" if validation else "test"
    if not fast:
        train_iter, test_iter = load_data_hotdog(batch_size, world, validation=validation)
        return train_ch13(
            net, train_iter, test_iter, loss, trainer, num_epochs, devices, plot, held_out, test_each_epoch
        )
    devices = list(devices) if devices else try_all_gpus()
    train_iter, test_iter = load_data_hotdog_decoded(batch_size, world, devices[0], validation)
    return train_fast(
        net, train_iter, test_iter, loss, trainer, num_epochs, devices, plot, precision, held_out, test_each_epoch
    )
