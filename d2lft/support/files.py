"""Writing files safely and checking them: one helper for every file the next run trusts.

Every file and folder the course makes (checkpoints, downloads, extracted archives, the mini world's
images and source model) appears whole or not at all: it is written beside its target under a
hidden name and moved into place in one step once complete, so a crash or a Ctrl-C mid-write never
leaves a broken file where the next run would trust it. (Build outputs a person reads, such as
`build/` pages and plots, and append-only logs are written directly.) What appears has the modes a
plain `open` or `mkdir` would give under the current umask, not the private ones of `tempfile`.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from filelock import FileLock


def _umask() -> int:
    """The process's umask (reading it means setting it, so it is set straight back)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb") -> Iterator:
    """Write to a hidden `.NAME.*.part` file beside `path`, renamed onto `path` only when the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, mode) as f:
            yield f
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give what open(path, "w") would
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_folder(path: str | os.PathLike) -> Iterator[Path]:
    """Fill a hidden staging folder beside `path`; when the block succeeds it replaces `path` (and any old one)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}-"))
    try:
        yield staging
        os.chmod(staging, 0o777 & ~_umask())  # mkdtemp makes 0700; give what mkdir would
        if path.exists():
            shutil.rmtree(path)  # stale: another recipe, another archive, or half-written by an older version
        os.replace(staging, path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


COMPLETE_MARKER = ".d2lft-complete"  # a generated folder's last file: what built it


def build_once(path: str | os.PathLike, stamp: str, fill: Callable[[Path], None]) -> Path:
    """Return the folder `path`, first built by `fill(staging)` in an `atomic_folder` unless its marker file
    already holds `stamp` (what built it: a recipe, a version). A folder from another recipe, or one left
    half-written, is built again."""
    path = Path(path)
    marker = path / COMPLETE_MARKER
    if marker.exists() and marker.read_text() == stamp:
        return path
    # Two processes may ask at once (two notebooks open, tests in parallel): the second waits for the first
    # and uses its folder, instead of building its own and replacing the folder the first is reading.
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(path.parent / f".{path.name}.lock"):
        if marker.exists() and marker.read_text() == stamp:
            return path
        with atomic_folder(path) as staging:
            fill(staging)
            (staging / COMPLETE_MARKER).write_text(stamp)
    return path


def file_hash(path: str | os.PathLike, algorithm: str = "sha1") -> str:
    """Return the hex digest of a file (SHA-1 by default, as in the book's DATA_HUB)."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, algorithm).hexdigest()
