"""The learning-rate finder: an exponential sweep that stops at divergence and suggests a rate that trains."""

from __future__ import annotations

import re

import matplotlib
import torch
from torch import nn

from d2lft.lr_finder import lr_find, plot_lr_find
from d2lft.recipe import fine_tuning_trainer

matplotlib.use("Agg")


class Toy(nn.Module):
    def __init__(self):
        super().__init__()
        self.body, self.fc = nn.Linear(2, 8), nn.Linear(8, 2)

    def forward(self, x):
        return self.fc(torch.relu(self.body(x)))


def _data(n=512, batch=32):
    g = torch.Generator().manual_seed(0)
    X = torch.randn(n, 2, generator=g)
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).long()
    return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y), batch, shuffle=True)


def _train_loss(lr, epochs=3):
    torch.manual_seed(0)
    net, data = Toy(), _data()
    trainer = fine_tuning_trainer(net, lr, 32)
    for _ in range(epochs):
        for X, y in data:
            trainer.zero_grad()
            nn.functional.cross_entropy(net(X), y, reduction="sum").backward()
            trainer.step()
    with torch.no_grad():
        return sum(nn.functional.cross_entropy(net(X), y, reduction="sum").item() for X, y in data) / 512


def test_the_sweep_rises_exponentially_stops_at_divergence_and_leaves_net_and_rng_alone():
    torch.manual_seed(0)
    net = Toy()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    rng = torch.get_rng_state()
    result = lr_find(net, _data(), 32, start_lr=1e-6, end_lr=1e3, num_steps=200)
    assert result.stopped.startswith(("diverged at rate", "met a loss that is not a number"))
    measured = re.findall(r"\d[\d.e+-]*", result.stopped.replace(" 4 x ", " "))  # all but the fixed factor
    assert measured and all("." in n for n in measured), "printed with a decimal point, as nbval's [float] masks"
    assert len(result.lrs) < 200 and result.lrs[0] == 1e-6
    ratios = [b / a for a, b in zip(result.lrs, result.lrs[1:])]
    assert max(ratios) / min(ratios) < 1 + 1e-9  # a constant factor per step
    assert all(torch.equal(v, before[k]) for k, v in net.state_dict().items())
    assert torch.equal(torch.get_rng_state(), rng)
    assert result.suggestion <= result.minimum / 10 and result.suggestion <= result.steepest < result.minimum


def test_the_suggested_rate_trains_where_rates_far_below_it_barely_move():
    torch.manual_seed(0)
    result = lr_find(Toy(), _data(), 32, start_lr=1e-6, end_lr=1e3, num_steps=200)
    suggested = _train_loss(result.suggestion)
    assert suggested < _train_loss(result.suggestion / 1000)  # too small: barely moves
    assert suggested < 0.5 < _train_loss(1e-6)  # chance is ln 2 = 0.69


def test_the_valley_rule_lies_halfway_along_the_longest_fall():
    from d2lft.lr_finder import _valley

    losses = [5, 4.9, 5.1, 4, 3, 3.5, 2, 1, 0.5, 3, 9]  # falling from step 0 to 8, with two bumps
    assert _valley(losses, 0) == 4  # the longest fall: 5, 4.9, 4, 3, 2, 1, 0.5 (steps 0 to 8)
    assert _valley(losses, 3) == 5  # the same fall from step 3 on: steps 3 to 8
    result = lr_find(Toy(), _data(), 32, start_lr=1e-6, end_lr=1e3, num_steps=200)
    assert result.lrs[5] <= result.valley < result.minimum
    assert _train_loss(result.valley) < 0.5  # chance is ln 2 = 0.69


def test_the_plot_marks_the_suggestion():
    result = lr_find(Toy(), _data(), 32, start_lr=1e-6, end_lr=1e3, num_steps=200)
    ax = plot_lr_find(result)
    assert ax.get_xscale() == "log"
    labels = ax.get_legend_handles_labels()[1]
    assert any(label.startswith("suggested") for label in labels)
    assert any(label.startswith("valley") for label in labels)
