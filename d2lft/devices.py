"""The book's `try_gpu` and `try_all_gpus`, which never return an empty list (d2l's do on a CPU)."""

from __future__ import annotations

import torch


def _mps_available() -> bool:
    return bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())


def try_gpu(i: int = 0) -> torch.device:
    """Return GPU `i` if it exists, else Apple's MPS if present, else the CPU."""
    if torch.cuda.device_count() > i:
        return torch.device(f"cuda:{i}")
    return torch.device("mps") if _mps_available() else torch.device("cpu")


def try_all_gpus() -> list[torch.device]:
    """Return every CUDA GPU, else `[mps]`, else `[cpu]`: never an empty list."""
    gpus = [torch.device(f"cuda:{i}") for i in range(torch.cuda.device_count())]
    return gpus or [try_gpu()]
