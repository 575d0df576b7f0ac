"""Where the course keeps its files: the repository's `data/` folder, never the working directory."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def data_dir() -> Path:
    """Return the folder for downloads and generated data: `$D2LFT_DATA`, else `data/` at the repo root."""
    folder = os.environ.get("D2LFT_DATA")
    return Path(folder).expanduser().resolve() if folder else REPO_ROOT / "data"
