"""Every setting of the course in one place: the `D2LFT_*` environment variables, read when asked.

The README's "Settings" table lists the same variables (`tests/test_settings.py` checks both ways).
Nothing is read at import time, so a variable set in a notebook before the call it affects counts,
and a test can set one with `monkeypatch.setenv`. An empty value counts as unset.
"""

from __future__ import annotations

import os
from pathlib import Path

VARIABLES = {
    "D2LFT_WORLD": "the data world: hotdog or mini (unset: hotdog if cached or reachable, else mini)",
    "D2LFT_RECIPE": "the hotdog world's recipe: book or laptop (unset: book on a GPU, laptop on a CPU)",
    "D2LFT_SEED": "the notebooks' seed (unset: 0)",
    "D2LFT_DATA": "where downloads and generated data go (unset: data/ in the repository)",
    "D2LFT_DATA_URL": "a mirror, a base URL or a folder, for the book's data files",
    "D2LFT_WEIGHTS_URL": "a mirror, a base URL or a folder, for torchvision's weights files",
    "D2LFT_PRECISION": "the fast path's precision: fp32 or bf16 (unset: bf16 on a CUDA GPU, else fp32)",
    "D2LFT_RUNS": "a file to which every training run appends one JSON line (make course sets it)",
}


def setting(name: str) -> str | None:
    """The value of the course's variable `name`, stripped, or None when it is unset or empty."""
    if name not in VARIABLES:
        raise KeyError(f"{name} is not one of the course's settings: {sorted(VARIABLES)}")
    return os.environ.get(name, "").strip() or None


def choice(name: str, choices: tuple[str, ...]) -> str | None:
    """The lower-cased value of `name`, one of `choices`, or None when unset; anything else is refused."""
    value = setting(name)
    if value is None:
        return None
    if value.lower() not in choices:
        raise ValueError(f"{name}={value!r} is not one of {choices}: set one of them, or unset {name}.")
    return value.lower()


def seed() -> int:
    """`$D2LFT_SEED` as an integer, else 0."""
    value = setting("D2LFT_SEED") or "0"
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"D2LFT_SEED must be an integer, not {value!r}: unset it or set e.g. D2LFT_SEED=1.") from None


def data_folder() -> Path | None:
    """`$D2LFT_DATA` as an absolute path, else None."""
    value = setting("D2LFT_DATA")
    return Path(value).expanduser().resolve() if value else None
