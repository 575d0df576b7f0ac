"""Saving and loading state dicts: written atomically, loaded with `weights_only=True`, mismatches explained."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import torch
from torch import nn


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb") -> Iterator:
    """Write to a hidden temporary file beside `path`, renamed onto `path` only when the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, mode) as f:
            yield f
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def save_checkpoint(model: nn.Module, path: str | os.PathLike) -> Path:
    """Save `model.state_dict()` to `path` atomically: a crash mid-write never leaves a broken file there."""
    with atomic_write(path, "wb") as f:
        torch.save(model.state_dict(), f)
    return Path(path)


def load_checkpoint(model: nn.Module, path: str | os.PathLike) -> nn.Module:
    """Load a state dict saved by `save_checkpoint` into `model` (tensors only: `weights_only=True`)."""
    path = Path(path)
    state = torch.load(path, map_location="cpu", weights_only=True)
    expected = model.state_dict()
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
    model.load_state_dict(state)
    return model
