"""Where the course keeps its files: the repository's `data/` folder, never the working directory."""

from __future__ import annotations

from pathlib import Path

from .settings import data_folder

REPO_ROOT = Path(__file__).resolve().parents[2]


def data_dir() -> Path:
    """Return the folder for downloads and generated data: `$D2LFT_DATA`, else `data/` at the repo root."""
    return data_folder() or REPO_ROOT / "data"
