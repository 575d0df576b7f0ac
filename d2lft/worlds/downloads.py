"""The book's `DATA_HUB`, `download` and `download_extract`, with every file verified.

Differences from d2l, each fixing a failure a student can hit:
- the SHA-1 is checked after every download *and* on every cache hit;
- the transfer streams into a hidden file (`d2lft.support.files.atomic_write`) moved into place only once
  complete and verified, so an interrupted or wrong download never leaves a file behind, and
  partial files left by a killed process are removed by a later call;
- requests time out and a non-200 answer is an error naming the URL;
- archives are extracted into a staging folder (`d2lft.support.files.atomic_folder`), refusing members that
  would land outside it, and moved into place in one step, so a half-extracted folder is never used.

A mirror (`$D2LFT_DATA_URL`, and `$D2LFT_WEIGHTS_URL` in `d2lft.models`) serves the real files under
their real checksums. One exception exists, for rehearsing the real world offline (`tools/rehearsal.py`):
a server on this machine (127.0.0.1) may declare stand-in files in `d2lft-stand-in.json`, with their own
checksums. They are accepted only into caches kept apart from the real ones (`$D2LFT_DATA`,
`$TORCH_HOME` set), and the world banner says STAND-IN.

Why not `pooch`, the scientific Python standard? It would replace `_fetch` (about 30 lines) but not
the rest: it leaves its temporary file behind when the process is killed, reuses a half-extracted
folder, and extracts in place; each is a guarantee `tests/test_downloads.py` checks. `urllib` and
`tqdm` cover the transfer without two more dependencies (pooch, requests) for every student.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tarfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from functools import lru_cache
from http.client import HTTPException
from pathlib import Path, PurePosixPath

from tqdm.auto import tqdm

from ..support.files import atomic_folder, atomic_write, file_hash
from ..support.paths import data_dir
from ..support.settings import VARIABLES, setting

log = logging.getLogger("d2lft")

DATA_URL = "http://d2l-data.s3-accelerate.amazonaws.com/"
DATA_HUB: dict[str, tuple[str, str]] = {
    "hotdog": (DATA_URL + "hotdog.zip", "fba480ffa8aa7e0febbb511d181409f899b9baa5"),
}
_CHUNK = 1 << 20
_STALE_PART_SECONDS = 3600  # a partial download this old belongs to a process that died
_EXTRACTED_MARKER = ".d2lft-extracted"
STAND_IN_MANIFEST = "d2lft-stand-in.json"
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


class DownloadError(RuntimeError):
    """A download failed: the server, the network or the transfer."""


class ChecksumError(DownloadError):
    """A file's SHA-1 is not the one `DATA_HUB` expects."""


class UnsafeArchiveError(RuntimeError):
    """An archive holds a member that would be written outside its folder."""


def sha1sum(path: str | os.PathLike) -> str:
    """Return the hex SHA-1 of a file (the book's checksum)."""
    return file_hash(path, "sha1")


def mirrored(url: str, mirror: str | None) -> str:
    """`url`, or the file of the same name under `mirror` (a base URL, or a local folder) when one is given."""
    if not mirror or not mirror.strip():
        return url
    mirror = mirror.strip()
    if "://" not in mirror:  # a folder: a USB stick, a shared drive
        mirror = Path(mirror).expanduser().resolve().as_uri()
    return mirror.rstrip("/") + "/" + url.rsplit("/", 1)[-1]


@lru_cache(maxsize=16)
def _stand_in_manifest(base: str) -> dict:
    """The stand-in files a rehearsal server at `base` declares ({} when it declares none)."""
    try:
        with urllib.request.build_opener().open(base + STAND_IN_MANIFEST, timeout=5) as response:
            return json.loads(response.read().decode())["files"]
    except (urllib.error.URLError, OSError, ValueError, KeyError):
        return {}


def stand_in(url: str, cache_variable: str) -> dict | None:
    """What a rehearsal server on 127.0.0.1 declares about the stand-in at `url` (its checksum), else None.

    A stand-in is accepted only into a cache kept apart from the real files: `cache_variable`
    (`D2LFT_DATA` or `TORCH_HOME`) must be set, so that it can never take a real file's place.
    """
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "http" or parts.hostname not in _LOOPBACK:
        return None
    base, name = url.rsplit("/", 1)
    entry = _stand_in_manifest(base + "/").get(name)
    own_cache = setting(cache_variable) if cache_variable in VARIABLES else os.environ.get(cache_variable, "").strip()
    if entry and not own_cache:
        raise DownloadError(
            f"{url} is a stand-in for rehearsals (declared in {base}/{STAND_IN_MANIFEST}), not the real file. "
            f"Set {cache_variable} to a folder of its own (as `make rehearse` does), so that it "
            f"never replaces the real file in the default cache."
        )
    return entry


def hub_entry(name: str) -> tuple[str, str]:
    """`DATA_HUB[name]`'s (URL, SHA-1), the URL under `$D2LFT_DATA_URL` when a mirror is set; the SHA-1 stays
    (but for a rehearsal's declared stand-in: `stand_in`)."""
    if name not in DATA_HUB:
        raise KeyError(f"{name!r} is not in DATA_HUB; known names: {sorted(DATA_HUB)}")
    url, sha1 = DATA_HUB[name]
    url = mirrored(url, setting("D2LFT_DATA_URL"))
    declared = stand_in(url, "D2LFT_DATA")
    return url, declared["sha1"] if declared else sha1


def download(name: str, folder: str | os.PathLike | None = None, timeout: float = 30.0) -> Path:
    """Download `DATA_HUB[name]` into `folder` (default `data/`), verify its SHA-1, return its path.

    With `$D2LFT_DATA_URL` set (a mirror's base URL, or a folder), the file comes from there, checked
    against the same SHA-1.
    """
    url, sha1 = hub_entry(name)
    folder = Path(folder) if folder is not None else data_dir()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / url.rsplit("/", 1)[-1]
    if target.exists():
        cached = sha1sum(target)
        if cached == sha1:
            return target
        log.warning("%s has SHA-1 %s, expected %s: downloading it again", target, cached, sha1)
    return download_url(url, target, sha1, "sha1", timeout, expects=f"DATA_HUB[{name!r}] expects")


def download_url(
    url: str, target: Path, expected: str, algorithm: str = "sha1", timeout: float = 30.0, expects: str = "expected:"
) -> Path:
    """Stream `url` into `target`, kept only when its `algorithm` digest starts with `expected`."""
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_parts(target.parent, target.name)
    with atomic_write(target, "wb") as f:
        got = _fetch(url, f, timeout, target, algorithm)
        if not got.startswith(expected):
            raise ChecksumError(
                f"{url} downloaded with {algorithm.upper().replace('SHA', 'SHA-')} {got}, but {expects} {expected}. "
                f"Nothing was kept at {target}. Download again; if it keeps happening, "
                f"the server or a proxy is sending a different file."
            )
    return target


def _remove_stale_parts(folder: Path, name: str) -> None:
    """Delete partial downloads of `name` left by a process that was killed mid-transfer."""
    for part in folder.glob(f".{name}.*.part"):
        if time.time() - part.stat().st_mtime > _STALE_PART_SECONDS:
            log.info("removing %s, left by an interrupted download", part)
            part.unlink(missing_ok=True)


def _fetch(url: str, f, timeout: float, target: Path, algorithm: str = "sha1") -> str:
    """Stream `url` into the open file `f` (bound for `target`) with a progress bar; return its digest."""
    digest = hashlib.new(algorithm)
    hint = f"Check the internet connection, or fetch {url} by hand into {target.parent}."
    try:
        # A new opener each time: proxy settings are read now, not cached from an earlier urlopen.
        with urllib.request.build_opener().open(url, timeout=timeout) as response:
            if response.status not in (200, None):  # None: a file:// URL (a mirror folder)
                raise DownloadError(f"{url} answered HTTP {response.status}. {hint}")
            expected = response.headers.get("Content-Length")
            expected = int(expected) if expected is not None else None
            received = 0
            with tqdm(total=expected, unit="B", unit_scale=True, desc=target.name, leave=False) as bar:
                while chunk := response.read1(_CHUNK):  # whatever has arrived, for a live bar
                    f.write(chunk)
                    digest.update(chunk)
                    received += len(chunk)
                    bar.update(len(chunk))
    except urllib.error.HTTPError as e:
        raise DownloadError(f"{url} answered HTTP {e.code} {e.reason}. {hint}") from e
    except (urllib.error.URLError, HTTPException, OSError) as e:
        raise DownloadError(f"Downloading {url} failed: {e}. {hint}") from e
    if expected is not None and received != expected:
        raise DownloadError(
            f"Downloading {url} was interrupted after {received} of {expected} bytes; "
            f"nothing was kept. Run it again to restart the download."
        )
    return digest.hexdigest()


def download_extract(name: str, folder: str | os.PathLike | None = None) -> Path:
    """Download and extract `DATA_HUB[name]`; return the extracted folder (e.g. `data/hotdog`)."""
    archive = download(name, folder)
    _, sha1 = hub_entry(name)
    stem = archive.name.split(".")[0]
    out = archive.parent / stem
    marker = out / _EXTRACTED_MARKER
    if marker.exists() and marker.read_text().strip() == sha1:
        return out
    if out.exists():
        log.warning("%s was incomplete or from another archive: extracting it again", out)
    with atomic_folder(out) as staging:
        extract_archive(archive, staging)
        # Archives usually hold one top folder named like the archive (hotdog.zip -> hotdog/): lift it.
        if (staging / stem).is_dir() and len(list(staging.iterdir())) == 1:
            inner = (staging / stem).rename(staging / ".d2lft-top")  # it may hold a folder named `stem` too
            for item in list(inner.iterdir()):
                item.rename(staging / item.name)
            inner.rmdir()
        (staging / _EXTRACTED_MARKER).write_text(sha1 + "\n")
    return out


def _check_member(archive: Path, name: str, is_link: bool) -> None:
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or (path.parts and ":" in path.parts[0]):
        raise UnsafeArchiveError(
            f"Refusing to extract {archive}: member {name!r} would be written outside the "
            f"target folder. The archive is corrupt or malicious; delete it and download again."
        )
    if is_link:
        raise UnsafeArchiveError(
            f"Refusing to extract {archive}: member {name!r} is a link, which could point "
            f"outside the target folder. Delete the archive and download it again."
        )


def extract_archive(archive: str | os.PathLike, folder: str | os.PathLike) -> None:
    """Extract a .zip or .tar(.gz) into `folder`, refusing absolute, `..` and link members."""
    archive, folder = Path(archive), Path(folder)
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as z:
            for info in z.infolist():
                is_link = (info.external_attr >> 16) & 0o170000 == 0o120000
                _check_member(archive, info.filename, is_link)
            z.extractall(folder)
    elif tarfile.is_tarfile(archive):
        with tarfile.open(archive) as t:
            for member in t.getmembers():
                _check_member(archive, member.name, member.issym() or member.islnk())
            t.extractall(folder, filter="data")
    else:
        raise ValueError(f"{archive} is neither a zip nor a tar archive; delete it and download again.")
