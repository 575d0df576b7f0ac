"""Several devices with DistributedDataParallel (one process each, launched by `torchrun`).

The book uses `nn.DataParallel`; DDP is what PyTorch recommends: one process per device, gradients
all-reduced during `backward()`. The book's semantics are kept: each process sums its per-example
losses and multiplies by the number of processes, so that DDP's *average* of the gradients equals
the single-process *sum* over the global batch. Process r trains on `permutation[r::W]`, so the k-th
steps of all processes together see exactly the k-th global batch of a single process that shuffles
with the same seed (`global_order_sampler`).
"""

from __future__ import annotations

import os
import time

import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import DataLoader, DistributedSampler

from .metrics import History, accuracy


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
    history = History(devices=f"{world_size} processes ({device.type})")
    for epoch in range(num_epochs):
        sampler.set_epoch(epoch)
        totals = torch.zeros(3, dtype=torch.float64, device=device)  # loss sum, correct, examples
        start = time.perf_counter()
        model.train()
        for X, y in train_iter:
            X, y = X.to(device), y.to(device)
            trainer.zero_grad()
            pred = model(X)
            l = loss(pred, y)
            (l.sum() * world_size).backward()  # DDP averages over processes: this makes it the global sum
            trainer.step()
            totals += torch.tensor([l.sum().item(), accuracy(pred, y), y.numel()], dtype=torch.float64, device=device)
        epoch_seconds = time.perf_counter() - start
        model.eval()
        test = torch.zeros(2, dtype=torch.float64, device=device)
        with torch.no_grad():
            for X, y in test_iter:
                test += torch.tensor(
                    [accuracy(model(X.to(device)), y.to(device)), y.numel()], dtype=torch.float64, device=device
                )
        dist.all_reduce(totals)
        dist.all_reduce(test)
        history.add_epoch(totals[0] / totals[2], totals[1] / totals[2], test[0] / test[1], epoch_seconds)
    examples_per_sec = len(train_set) * num_epochs / sum(history.train_seconds)  # all processes together
    if rank == 0:
        history.report(examples_per_sec)
    else:
        history.examples_per_sec = examples_per_sec
    return history
