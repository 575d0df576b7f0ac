"""The book's fine-tuning recipe: a new output layer, and `train_fine_tuning` with a 10x head rate."""

from __future__ import annotations

import torch
from torch import nn

from .data import load_data_hotdog
from .train import History, train_ch13
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


def train_fine_tuning(
    net: nn.Module,
    learning_rate: float,
    batch_size: int | None = None,
    num_epochs: int = 5,
    param_group: bool = True,
    world: World | None = None,
    devices=None,
    plot: bool = True,
) -> History:
    """The book's recipe: SGD, weight decay 1e-3, summed loss; with `param_group`, `fc` learns 10x faster."""
    world = world or get_world()
    train_iter, test_iter = load_data_hotdog(batch_size or world.batch_size, world)
    loss = nn.CrossEntropyLoss(reduction="none")
    trainer = torch.optim.SGD(fine_tuning_groups(net, learning_rate, param_group), lr=learning_rate, weight_decay=0.001)
    return train_ch13(net, train_iter, test_iter, loss, trainer, num_epochs, devices, plot=plot)
