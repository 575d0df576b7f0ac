"""The book's `try_gpu` and `try_all_gpus`, which never return an empty list (d2l's do on a CPU)."""

from __future__ import annotations

import os
import platform
from pathlib import Path

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


def _cpuinfo() -> list[str] | None:
    try:
        return Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return None


def cpu_flags() -> set[str]:
    """This CPU's feature flags from /proc/cpuinfo (`avx2`, `avx512_bf16`, ...); empty where it cannot be read."""
    info = _cpuinfo() or []
    return set(next((line.split(":", 1)[1].split() for line in info if line.startswith("flags")), []))


def has_native_bf16() -> bool:
    """True when the CPU computes bfloat16 natively (AVX512-BF16 or AMX), where bf16 autocast is 2-3x faster."""
    return bool({"avx512_bf16", "amx_bf16"} & cpu_flags())


def describe_cpu() -> str:
    """This CPU in one line: its model, cores, and the vector flags that change numbers and speed."""
    info = _cpuinfo()
    if info is None:
        return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores"
    model = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), "?")
    flags = cpu_flags()
    vector = [f for f in ("avx2", "avx512f", "avx512_bf16", "amx_bf16") if f in flags] or ["no AVX2"]
    return f"{model}, {os.cpu_count()} cores, {' '.join(vector)}"
