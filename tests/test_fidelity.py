"""`d2lft.train_ch13` is a drop-in for the book's: same seeded run, same weights, same summary."""

from __future__ import annotations

import re

import matplotlib
import pytest
import torch
from torch import nn

import d2lft

matplotlib.use("Agg")


def _data(seed: int):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(80, 3, 12, 12, generator=g)
    y = (X[:, 0].mean((1, 2)) > X[:, 1].mean((1, 2))).long()
    train = torch.utils.data.TensorDataset(X[:60], y[:60])
    test = torch.utils.data.TensorDataset(X[60:], y[60:])
    loader_gen = torch.Generator().manual_seed(seed)
    return (
        torch.utils.data.DataLoader(train, 10, shuffle=True, generator=loader_gen),
        torch.utils.data.DataLoader(test, 10),
    )


def _net(seed: int) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(8, 2),
    )


def _run(train_ch13, capsys, **kwargs):
    net = _net(0)
    train_iter, test_iter = _data(0)
    assert len(train_iter) >= 5  # the book's loop needs at least 5 batches per epoch
    groups = [{"params": list(net[:-1].parameters())}, {"params": net[-1].parameters(), "lr": 0.05}]
    trainer = torch.optim.SGD(groups, lr=0.005, weight_decay=0.001)
    train_ch13(
        net,
        train_iter,
        test_iter,
        nn.CrossEntropyLoss(reduction="none"),
        trainer,
        3,
        devices=[torch.device("cpu")],
        **kwargs,
    )
    lines = [
        line for line in capsys.readouterr().out.splitlines() if line.startswith("loss ") or "examples/sec" in line
    ]
    return net.state_dict(), lines


# d2l's Accumulator calls float() on a tensor that requires grad (an erratum d2lft fixes).
@pytest.mark.filterwarnings("ignore:Converting a tensor with requires_grad:UserWarning")
def test_same_weights_and_summary_lines_as_d2l(capsys):
    d2l = pytest.importorskip("d2l.torch")
    theirs, their_lines = _run(d2l.train_ch13, capsys)
    ours, our_lines = _run(d2lft.train_ch13, capsys, plot=False)
    assert theirs.keys() == ours.keys()
    for key in theirs:
        torch.testing.assert_close(ours[key], theirs[key], msg=key)  # BatchNorm running stats included
    assert len(our_lines) == len(their_lines) == 2
    assert our_lines[0] == their_lines[0]
    mask = re.compile(r"^[\d.]+ examples/sec")
    assert mask.sub("N examples/sec", our_lines[1]) == mask.sub("N examples/sec", their_lines[1])
