"""DDP under torchrun (gloo, 2 CPU processes) matches one process with the same global batch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
import torch
from torch import nn

import d2lft
from d2lft.speed.distributed import global_order_sampler

GLOBAL_BATCH, EPOCHS, LR = 8, 3, 0.01


def _data():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(56, 3, 8, 8, generator=g)
    y = (X[:, 0].mean((1, 2)) > X[:, 2].mean((1, 2))).long()
    return torch.utils.data.TensorDataset(X[:40], y[:40]), torch.utils.data.TensorDataset(X[40:], y[40:])


def _net() -> nn.Module:
    torch.manual_seed(0)  # no BatchNorm: each process would normalise with its own half of the batch
    return nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2)
    )


SCRIPT = """
import json, sys, torch
sys.path.insert(0, {tests!r})
from torch import nn
import torch.distributed as dist
from d2lft.speed.distributed import setup_distributed, train_ddp
from test_distributed import _data, _net, GLOBAL_BATCH, EPOCHS, LR
rank, world, device = setup_distributed()
net = _net()
train_set, test_set = _data()
loss = nn.CrossEntropyLoss(reduction="none")
trainer = torch.optim.SGD(net.parameters(), lr=LR, weight_decay=0.001)
h = train_ddp(net, train_set, test_set, loss, trainer, EPOCHS, GLOBAL_BATCH)
if rank == 0:
    torch.save(net.state_dict(), {out!r} + ".pt")
    json.dump([h.train_loss, h.train_acc, h.test_acc], open({out!r} + ".json", "w"))
diverging = _net()  # then a rate so large that the summed loss overflows: every process must stop, none hang
try:
    train_ddp(diverging, train_set, test_set, loss, torch.optim.SGD(diverging.parameters(), lr=1e12), EPOCHS,
              GLOBAL_BATCH)
except FloatingPointError as e:
    open({out!r} + f".diverged{{rank}}", "w").write(str(e))
dist.destroy_process_group()
"""


@pytest.mark.slow
def test_two_gloo_processes_match_one_process_and_stop_together_when_the_loss_diverges(tmp_path):
    script = tmp_path / "ddp.py"
    out = str(tmp_path / "ddp")
    script.write_text(textwrap.dedent(SCRIPT.format(tests=os.path.dirname(__file__), out=out)))
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", str(script)]
    result = subprocess.run(
        torchrun, capture_output=True, text=True, timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"}
    )
    assert result.returncode == 0, result.stderr[-3000:]
    for rank in (0, 1):  # the divergence check saw every process's losses: both stopped with the book's message
        assert "training diverged. Lower the learning rate" in open(f"{out}.diverged{rank}").read()
    assert "2 processes (cpu)" in result.stdout

    net = _net()
    train_set, test_set = _data()
    trainer = torch.optim.SGD(net.parameters(), lr=LR, weight_decay=0.001)
    sampler = global_order_sampler(train_set)
    train_iter = torch.utils.data.DataLoader(train_set, GLOBAL_BATCH, sampler=sampler)
    test_iter = torch.utils.data.DataLoader(test_set, GLOBAL_BATCH)
    single = d2lft.History()
    for epoch in range(EPOCHS):
        sampler.set_epoch(epoch)
        h = d2lft.train_ch13(net, train_iter, test_iter, nn.CrossEntropyLoss(reduction="none"), trainer, 1,
                             [torch.device("cpu")], plot=False)  # fmt: skip
        single.train_loss += h.train_loss
        single.train_acc += h.train_acc
        single.test_acc += h.test_acc

    ddp_state = torch.load(out + ".pt", weights_only=True)
    for key, value in net.state_dict().items():  # tolerance: float sums in another order
        torch.testing.assert_close(ddp_state[key], value, rtol=1e-4, atol=1e-5, msg=key)
    train_loss, train_acc, test_acc = json.load(open(out + ".json"))
    assert max(abs(a - b) for a, b in zip(train_loss, single.train_loss)) < 1e-4
    assert train_acc == single.train_acc and test_acc == single.test_acc
