"""Several devices with DistributedDataParallel (one process each, launched by `torchrun`).

The book uses `nn.DataParallel`; DDP is what PyTorch recommends: one process per device, gradients
all-reduced during `backward()`. The book's semantics are kept: each process sums its per-example
losses and multiplies by the number of processes, so that DDP's *average* of the gradients equals
the single-process *sum* over the global batch. Process r trains on `permutation[r::W]`, so the k-th
steps of all processes together see exactly the k-th global batch of a single process that shuffles
with the same seed (`global_order_sampler`). The epochs run through the course's one loop
(`d2lft.train.fit`): the same summary lines (from process 0), the stop button, and the divergence check,
made once per epoch on the losses of all processes together, so that every process stops at once.
"""

from __future__ import annotations

import os
import time

import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import DataLoader, DistributedSampler

from ..metrics import Accumulator, History, accuracy
from ..train import divergence_error, fit


def global_order_sampler(dataset, seed: int = 0) -> DistributedSampler:
    """The shuffling a single process uses to see the same global batches as DDP (call `set_epoch`)."""
    return DistributedSampler(dataset, num_replicas=1, rank=0, shuffle=True, seed=seed)


def setup_distributed() -> tuple[int, int, torch.device]:
    """Join the process group `torchrun` describes (NCCL on GPUs, gloo on CPUs); return (rank, world size, device)."""
    rank, world_size = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    if torch.cuda.is_available():
        device = torch.device(f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}")
        torch.cuda.set_device(device)
        dist.init_process_group("nccl")
    else:
        device = torch.device("cpu")
        dist.init_process_group("gloo")
    return rank, world_size, device


def train_ddp(
    net: nn.Module, train_set, test_set, loss, trainer, num_epochs: int, global_batch: int, seed: int = 0
) -> History:
    """`train_ch13` with DDP in an initialised process group; every process returns the same metrics.

    Losses and accuracies are reduced over all processes; the timings in the History are each process's own.
    """
    rank, world_size = dist.get_rank(), dist.get_world_size()
    if global_batch % world_size:
        raise ValueError(f"the global batch {global_batch} must divide evenly over {world_size} processes")
    device = next(net.parameters()).device
    model = nn.parallel.DistributedDataParallel(net, device_ids=[device] if device.type == "cuda" else None)
    sampler = DistributedSampler(
        train_set, num_replicas=world_size, rank=rank, shuffle=True, seed=seed, drop_last=False
    )
    train_iter = DataLoader(train_set, global_batch // world_size, sampler=sampler)
    test_iter = DataLoader(torch.utils.data.Subset(test_set, range(rank, len(test_set), world_size)), global_batch)

    def train_epoch(epoch: int, bar) -> Accumulator:
        sampler.set_epoch(epoch)
        losses = torch.zeros(len(train_iter), dtype=torch.float64, device=device)  # per batch, summed below
        counts = torch.zeros(2, dtype=torch.float64, device=device)  # correct, examples
        start = time.perf_counter()
        model.train()
        for i, (X, y) in enumerate(train_iter):
            X, y = X.to(device), y.to(device)
            trainer.zero_grad()
            pred = model(X)
            l = loss(pred, y)  # noqa: E741 (the book's name)
            (l.sum() * world_size).backward()  # DDP averages over processes: this makes it the global sum
            trainer.step()
            losses[i] = l.detach().sum()
            counts += torch.tensor([accuracy(pred, y), y.numel()], dtype=torch.float64, device=device)
            bar.update()
        seconds = time.perf_counter() - start
        dist.all_reduce(losses)
        dist.all_reduce(counts)
        if not torch.isfinite(losses).all():  # every process sees the same sums: all stop together
            i = int((~torch.isfinite(losses)).nonzero()[0])
            raise divergence_error(losses[i].item(), epoch, i, len(losses), trainer)
        metric = Accumulator(5)
        metric.add(losses.sum().item(), counts[0].item(), counts[1].item(), counts[1].item(), seconds)
        return metric

    def evaluate() -> float:
        model.eval()
        test = torch.zeros(2, dtype=torch.float64, device=device)  # correct, examples
        with torch.no_grad():
            for X, y in test_iter:
                test += torch.tensor(
                    [accuracy(model(X.to(device)), y.to(device)), y.numel()], dtype=torch.float64, device=device
                )
        dist.all_reduce(test)
        return (test[0] / test[1]).item()

    history = History(devices=f"{world_size} processes ({device.type})")
    return fit(history, num_epochs, len(train_iter), train_epoch, evaluate, main_process=rank == 0)
