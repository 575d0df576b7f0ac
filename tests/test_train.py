"""train_ch13 and its helpers: the book's semantics, any number of batches, clear failures."""

from __future__ import annotations

import json
import math
import warnings

import pytest
import torch
from torch import nn

import d2lft


def _toy_loaders(n_train: int = 48, n_test: int = 16, batch_size: int = 16, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n_train + n_test, 4, generator=g)
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).long()
    train = torch.utils.data.TensorDataset(X[:n_train], y[:n_train])
    test = torch.utils.data.TensorDataset(X[n_train:], y[n_train:])
    return (
        torch.utils.data.DataLoader(train, batch_size, shuffle=True, generator=g),
        torch.utils.data.DataLoader(test, batch_size),
    )


def test_trains_on_this_machine_with_three_batches_per_epoch(capsys):
    torch.manual_seed(0)
    train_iter, test_iter = _toy_loaders()
    assert len(train_iter) == 3  # d2l 1.0.3 divides by zero here
    net = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2))
    trainer = torch.optim.SGD(net.parameters(), lr=0.05)
    history = d2lft.train_ch13(
        net, train_iter, test_iter, nn.CrossEntropyLoss(reduction="none"), trainer, 8, plot=False
    )
    assert len(history.train_loss) == len(history.train_acc) == len(history.test_acc) == 8
    assert history.train_loss[-1] < history.train_loss[0]
    assert history.test_acc[-1] >= 0.75
    out = capsys.readouterr().out.splitlines()
    assert out[0] == history.summary() and out[0].startswith("loss ")
    assert out[1].endswith(f"examples/sec on {d2lft.try_all_gpus()}")


def test_without_a_test_each_epoch_only_the_last_epoch_is_tested_and_training_is_the_same():
    histories = []
    for test_each_epoch in (True, False):
        torch.manual_seed(0)
        train_iter, test_iter = _toy_loaders()
        net = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2))
        trainer = torch.optim.SGD(net.parameters(), lr=0.05)
        histories.append(d2lft.train_ch13(net, train_iter, test_iter, nn.CrossEntropyLoss(reduction="none"), trainer,
                                          3, plot=False, test_each_epoch=test_each_epoch))  # fmt: skip
    each, last = histories
    assert all(math.isnan(a) for a in last.test_acc[:-1]) and last.test_acc[-1] == each.test_acc[-1]
    assert last.train_loss == each.train_loss  # testing draws no random numbers and changes nothing


def test_one_step_uses_the_summed_loss():
    """The book sums per-example losses: the step equals a mean-loss step at batch_size times the rate."""
    torch.manual_seed(0)
    X, y = torch.randn(8, 4), torch.randint(0, 2, (8,))
    summed, averaged = nn.Linear(4, 2), nn.Linear(4, 2)
    averaged.load_state_dict(summed.state_dict())
    devices = [torch.device("cpu")]
    d2lft.train.train_batch_ch13(
        summed, X, y, nn.CrossEntropyLoss(reduction="none"), torch.optim.SGD(summed.parameters(), lr=0.01), devices
    )
    opt = torch.optim.SGD(averaged.parameters(), lr=0.01 * len(y))
    opt.zero_grad()
    nn.functional.cross_entropy(averaged(X), y).backward()
    opt.step()
    for a, b in zip(summed.parameters(), averaged.parameters()):
        torch.testing.assert_close(a, b)


def test_accuracy_counts_and_evaluate_accuracy_is_a_fraction():
    assert d2lft.accuracy(torch.tensor([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]]), torch.tensor([1, 1, 1])) == 2.0
    net = nn.Linear(4, 2)
    _, test_iter = _toy_loaders()
    acc = d2lft.evaluate_accuracy(net, test_iter)
    assert 0.0 <= acc <= 1.0 and not net.training


def test_accumulator_takes_tensors_that_require_grad_without_warnings():
    metric = d2lft.Accumulator(2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        metric.add((torch.ones(3, requires_grad=True) * 2).sum(), 1)
    assert metric[0] == 6.0 and metric[1] == 1.0


def test_a_diverging_loss_stops_with_epoch_batch_and_learning_rate():
    torch.manual_seed(0)
    train_iter, test_iter = _toy_loaders()
    net = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2))
    trainer = torch.optim.SGD(net.parameters(), lr=1e6)
    with pytest.raises(FloatingPointError) as err:
        d2lft.train_ch13(net, train_iter, test_iter, nn.CrossEntropyLoss(reduction="none"), trainer, 5, plot=False)
    message = str(err.value)
    assert "epoch" in message and "batch" in message and "1000000.0" in message
    assert not math.isfinite(float(message.split("The loss became ")[1].split(" ")[0]))


def test_the_fast_path_learns_the_same_task_and_checks_the_loss_once_per_epoch():
    torch.manual_seed(0)
    train_iter, test_iter = _toy_loaders()
    net = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2))
    trainer = torch.optim.SGD(net.parameters(), lr=0.05)
    history = d2lft.train_fast(
        net, train_iter, test_iter, nn.CrossEntropyLoss(reduction="none"), trainer, 8, plot=False
    )
    assert history.train_loss[-1] < history.train_loss[0] and history.test_acc[-1] >= 0.75
    net = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2))
    with pytest.raises(FloatingPointError, match=r"in epoch \d+, batch \d+ of 3, with learning rates \[1000000.0\]"):
        d2lft.train_fast(net, train_iter, test_iter, nn.CrossEntropyLoss(reduction="none"),
                         torch.optim.SGD(net.parameters(), lr=1e6), 3, plot=False)  # fmt: skip


def test_the_fast_paths_precision_is_an_explicit_choice(monkeypatch):
    cpu = torch.device("cpu")
    monkeypatch.delenv("D2LFT_PRECISION", raising=False)
    assert d2lft.fast.resolve_precision(cpu) == "fp32"  # whatever the CPU: bf16 only when asked for
    assert d2lft.fast.resolve_precision(cpu, "bf16") == "bf16"
    monkeypatch.setenv("D2LFT_PRECISION", "BF16")
    assert d2lft.fast.resolve_precision(cpu) == "bf16" and d2lft.fast.resolve_precision(cpu, "fp32") == "fp32"
    with pytest.raises(ValueError, match="fp16.*fp32"):
        d2lft.fast.resolve_precision(cpu, "fp16")


def test_the_fast_path_says_which_precision_it_trained_in(capsys, monkeypatch):
    monkeypatch.delenv("D2LFT_PRECISION", raising=False)
    train_iter, test_iter = _toy_loaders()
    net = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2))
    for precision in ("fp32", "bf16"):
        trainer = torch.optim.SGD(net.parameters(), lr=0.01)
        h = d2lft.train_fast(net, train_iter, test_iter, nn.CrossEntropyLoss(reduction="none"), trainer, 1,
                             [torch.device("cpu")], plot=False, precision=precision)  # fmt: skip
        assert h.precision == precision and capsys.readouterr().out.rstrip().endswith(f", {precision}")
    h = d2lft.train_ch13(net, train_iter, test_iter, nn.CrossEntropyLoss(reduction="none"), trainer, 1,
                         [torch.device("cpu")], plot=False)  # fmt: skip
    assert h.precision is None and capsys.readouterr().out.rstrip().endswith("[device(type='cpu')]")  # as the book


class _StopIn:
    """A loader whose iteration raises KeyboardInterrupt (Jupyter's stop button) in epoch `epoch`."""

    def __init__(self, loader, epoch: int):
        self.loader, self.epoch, self.started = loader, epoch, 0

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self):
        self.started += 1
        for i, batch in enumerate(self.loader):
            if self.started == self.epoch and i == 1:
                raise KeyboardInterrupt
            yield batch


@pytest.mark.parametrize("loop", ["train_ch13", "train_fast"])
def test_stopped_by_hand_training_keeps_the_finished_epochs(loop, capsys):
    torch.manual_seed(0)
    train_iter, test_iter = _toy_loaders()
    net = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2))
    trainer = torch.optim.SGD(net.parameters(), lr=0.05)
    history = getattr(d2lft, loop)(net, _StopIn(train_iter, 3), test_iter, nn.CrossEntropyLoss(reduction="none"),
                                   trainer, 5, [torch.device("cpu")], plot=False)  # fmt: skip
    out = capsys.readouterr().out
    assert "Interrupted in epoch 3" in out and "the 2 finished epochs" in out
    assert len(history.train_loss) == len(history.test_acc) == 2 and "examples/sec" not in out  # no summary


def test_several_devices_train_through_data_parallel_and_the_net_keeps_the_weights():
    torch.manual_seed(0)
    train_iter, test_iter = _toy_loaders()
    net = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2))
    before = [p.detach().clone() for p in net.parameters()]
    trainer = torch.optim.SGD(net.parameters(), lr=0.05)
    cpu = torch.device("cpu")  # DataParallel over two "devices": on a CPU-only machine it runs the module as is
    history = d2lft.train_ch13(net, train_iter, test_iter, nn.CrossEntropyLoss(reduction="none"), trainer, 4,
                               [cpu, cpu], plot=False)  # fmt: skip
    assert "cpu" in history.devices and history.devices.count("device") == 2
    assert all(not torch.equal(a, b) for a, b in zip(before, net.parameters()))  # the caller's net was trained
    assert history.test_acc[-1] >= 0.75


def test_every_loop_logs_its_run_where_d2lft_runs_says(tmp_path, monkeypatch, capsys):
    log = tmp_path / "runs.jsonl"
    monkeypatch.setenv("D2LFT_RUNS", str(log))
    train_iter, test_iter = _toy_loaders()
    for loop in (d2lft.train_ch13, d2lft.train_fast):
        net = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2))
        trainer = torch.optim.SGD(net.parameters(), lr=0.05)
        loop(net, train_iter, test_iter, nn.CrossEntropyLoss(reduction="none"), trainer, 2, plot=False)
    printed = [line for line in capsys.readouterr().out.splitlines() if line.startswith("loss ")]
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [len(r["test_acc"]) for r in records] == [2, 2]
    assert [r["precision"] for r in records] == [None, "fp32"]
    assert printed == [d2lft.History(**r).summary() for r in records]


def test_the_time_estimate_is_measured_here_and_leaves_the_random_state_alone(capsys):
    world = d2lft.get_world("mini")
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    seconds = d2lft.estimate_training_time(world, num_epochs=3, runs=2, devices=[torch.device("cpu")])
    assert torch.equal(torch.rand(3), expected)  # the notebook's later draws are unchanged
    out = capsys.readouterr().out
    train, test = (2 * world.used_per_class[split] for split in ("train", "test"))  # two classes
    assert "device: cpu" in out and f"2 runs x 3 epochs x {train} images at 32 px" in out and seconds > 0
    per_image = float(out.split("(")[-1].split(" images/s")[0])
    minutes = float(out.split("about ")[1].split(" min")[0])
    assert minutes == pytest.approx(2 * 3 * (train + test / 3) / per_image / 60, rel=0.06, abs=0.06)
