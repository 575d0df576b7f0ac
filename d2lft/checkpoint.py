"""Saving and loading state dicts: written atomically, loaded with `weights_only=True`, mismatches explained."""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from .support.files import atomic_write


def save_checkpoint(net: nn.Module, path: str | os.PathLike) -> Path:
    """Save `net.state_dict()` to `path` atomically: a crash mid-write never leaves a broken file there."""
    with atomic_write(path, "wb") as f:
        torch.save(net.state_dict(), f)
    return Path(path)


def load_checkpoint(net: nn.Module, path: str | os.PathLike) -> nn.Module:
    """Load a state dict saved by `save_checkpoint` into `net` (tensors only: `weights_only=True`)."""
    path = Path(path)
    state = torch.load(path, map_location="cpu", weights_only=True)
    expected = net.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    shapes = [
        f"{k}: checkpoint {tuple(state[k].shape)} vs model {tuple(v.shape)}"
        for k, v in expected.items()
        if k in state and state[k].shape != v.shape
    ]
    if missing or unexpected or shapes:
        problems = []
        if shapes:
            problems.append("different shapes: " + "; ".join(shapes))
        if missing:
            problems.append(f"missing from the checkpoint: {missing}")
        if unexpected:
            problems.append(f"not in the model: {unexpected}")
        raise ValueError(
            f"{path} does not fit this model ({' | '.join(problems)}). Build the model the checkpoint was saved "
            f"from (for example, replace its head with the same number of classes) before loading."
        )
    net.load_state_dict(state)
    return net
