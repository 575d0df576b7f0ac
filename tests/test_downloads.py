"""The download path end to end, against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import io
import os
import signal
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path

import pytest
from conftest import Route
from PIL import Image

import d2lft
from d2lft.worlds import downloads as dl


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


GOOD = _zip({"toy/train/hotdog/0.txt": b"a", "toy/test/not-hotdog/1.txt": b"b"})


@pytest.fixture
def hub(monkeypatch, http_server):
    """Register `toy` in DATA_HUB, served from the local server; return a function to change it."""

    def serve(body: bytes, sha1: str | None = None, **route) -> str:
        url = http_server.add("/toy.zip", Route(body, **route))
        monkeypatch.setitem(dl.DATA_HUB, "toy", (url, sha1 or hashlib.sha1(body).hexdigest()))
        return url

    return serve


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_good_archive_downloads_verifies_and_extracts(hub, data_home, http_server):
    hub(GOOD)
    out = d2lft.download_extract("toy")
    assert out == data_home / "toy"
    assert (out / "train" / "hotdog" / "0.txt").read_bytes() == b"a"
    assert d2lft.worlds.downloads.sha1sum(data_home / "toy.zip") == hashlib.sha1(GOOD).hexdigest()
    assert _leftovers(data_home) == ["toy", "toy.zip"]  # no temporary files left
    # A second call is a verified cache hit: no new request, nothing re-extracted.
    (out / "train" / "hotdog" / "0.txt").write_bytes(b"kept")
    assert d2lft.download_extract("toy") == out
    assert http_server.hits == ["/toy.zip"]
    assert (out / "train" / "hotdog" / "0.txt").read_bytes() == b"kept"


def test_default_folder_is_the_repository_data_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("D2LFT_DATA", raising=False)
    monkeypatch.chdir(tmp_path)  # the working directory must not matter
    assert d2lft.data_dir() == d2lft.support.paths.REPO_ROOT / "data"


def test_wrong_checksum_names_both_checksums_and_keeps_nothing(hub, data_home):
    url = hub(GOOD, sha1="0" * 40)
    with pytest.raises(d2lft.worlds.downloads.ChecksumError) as err:
        d2lft.worlds.downloads.download("toy")
    message = str(err.value)
    assert url in message and "0" * 40 in message and hashlib.sha1(GOOD).hexdigest() in message
    assert "toy.zip" in message
    assert _leftovers(data_home) == []


def test_http_404_is_an_error_naming_the_url(monkeypatch, http_server, data_home):
    url = http_server.url + "/missing.zip"
    monkeypatch.setitem(dl.DATA_HUB, "toy", (url, "0" * 40))
    with pytest.raises(d2lft.worlds.downloads.DownloadError, match="HTTP 404") as err:
        d2lft.worlds.downloads.download("toy")
    assert url in str(err.value)
    assert _leftovers(data_home) == []


def test_interrupted_transfer_keeps_nothing_and_the_next_call_recovers(hub, data_home):
    hub(GOOD[:100], sha1=hashlib.sha1(GOOD).hexdigest(), content_length=len(GOOD))
    with pytest.raises(d2lft.worlds.downloads.DownloadError, match="interrupted after 100 of"):
        d2lft.worlds.downloads.download("toy")
    assert _leftovers(data_home) == []
    hub(GOOD)
    assert d2lft.worlds.downloads.sha1sum(d2lft.worlds.downloads.download("toy")) == hashlib.sha1(GOOD).hexdigest()


def test_html_error_page_is_caught_by_the_checksum(hub, data_home):
    hub(b"<html>Access denied</html>", sha1=hashlib.sha1(GOOD).hexdigest(), content_type="text/html")
    with pytest.raises(d2lft.worlds.downloads.ChecksumError):
        d2lft.worlds.downloads.download("toy")
    assert _leftovers(data_home) == []


def test_unreachable_server_is_an_error_not_a_hang(monkeypatch, data_home):
    monkeypatch.setitem(dl.DATA_HUB, "toy", ("http://127.0.0.1:9/toy.zip", "0" * 40))
    with pytest.raises(d2lft.worlds.downloads.DownloadError, match="127.0.0.1:9"):
        d2lft.worlds.downloads.download("toy", timeout=2)


def test_corrupt_cached_file_is_downloaded_again(hub, data_home, http_server):
    hub(GOOD)
    data_home.mkdir(parents=True)
    (data_home / "toy.zip").write_bytes(b"damaged")
    assert d2lft.worlds.downloads.sha1sum(d2lft.worlds.downloads.download("toy")) == hashlib.sha1(GOOD).hexdigest()
    assert http_server.hits == ["/toy.zip"]


@pytest.mark.parametrize("evil", ["../escape.txt", "toy/../../escape.txt", "/tmp/d2lft-escape.txt"])
def test_archive_members_outside_the_folder_are_refused(hub, data_home, evil):
    hub(_zip({"toy/ok.txt": b"ok", evil: b"evil"}))
    with pytest.raises(d2lft.worlds.downloads.UnsafeArchiveError, match="outside"):
        d2lft.download_extract("toy")
    assert not (data_home.parent / "escape.txt").exists()
    assert not Path("/tmp/d2lft-escape.txt").exists()
    assert _leftovers(data_home) == ["toy.zip"]  # the archive stays; no half-extracted folder


def test_symlinks_in_tar_archives_are_refused(tmp_path):
    archive = tmp_path / "evil.tar.gz"
    with tarfile.open(archive, "w:gz") as t:
        link = tarfile.TarInfo("toy/link")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        t.addfile(link)
    with pytest.raises(d2lft.worlds.downloads.UnsafeArchiveError, match="link"):
        d2lft.worlds.downloads.extract_archive(archive, tmp_path / "out")
    assert not (tmp_path / "out" / "toy" / "link").exists()


def test_half_extracted_folder_is_extracted_again(hub, data_home):
    hub(GOOD)
    partial = data_home / "toy" / "train"
    partial.mkdir(parents=True)  # as if an earlier extraction was killed halfway
    out = d2lft.download_extract("toy")
    assert (out / "test" / "not-hotdog" / "1.txt").read_bytes() == b"b"


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(KeyError, match="hotdog"):
        d2lft.worlds.downloads.download("no-such-dataset")


def test_the_hotdog_world_downloads_its_archive_through_data_hub(monkeypatch, data_home, http_server):
    """The real world's path, rehearsed offline: `hotdog_dir` fetches DATA_HUB's zip, checks it, extracts it."""
    image = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 120, 60)).save(image, "JPEG")
    splits = [f"hotdog/{split}/{label}" for split in ("train", "test") for label in d2lft.CLASSES]
    members = {f"{folder}/0.jpg": image.getvalue() for folder in splits}
    body = _zip(members)
    url = http_server.add("/hotdog.zip", Route(body))
    monkeypatch.setitem(dl.DATA_HUB, "hotdog", (url, hashlib.sha1(body).hexdigest()))
    root = d2lft.hotdog_dir(d2lft.get_world("hotdog"))
    assert root == data_home / "hotdog" and (data_home / "hotdog.zip").exists()
    train, test = d2lft.data.hotdog_splits(root)
    assert train.classes == test.classes == list(d2lft.CLASSES) and len(train) == len(test) == 2
    assert d2lft.hotdog_dir(d2lft.get_world("hotdog")) == root and http_server.hits.count("/hotdog.zip") == 1


def test_a_killed_download_leaves_no_file_and_the_next_call_recovers(hub, data_home):
    body = GOOD * 200  # large enough to be cut in the middle
    url = hub(body, stall=20)
    sha1 = hashlib.sha1(body).hexdigest()
    script = f"from d2lft.worlds import downloads as d; d.DATA_HUB['toy'] = ({url!r}, {sha1!r}); d.download('toy')"
    child = subprocess.Popen([sys.executable, "-c", script], env={**os.environ, "D2LFT_DATA": str(data_home)})
    deadline = time.monotonic() + 30
    while not any(p.stat().st_size for p in data_home.glob(".toy.zip.*.part")) if data_home.exists() else True:
        assert time.monotonic() < deadline and child.poll() is None, "the download never started"
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert not (data_home / "toy.zip").exists()  # only a hidden .part file, never the real name
    (part,) = data_home.glob(".toy.zip.*.part")
    os.utime(part, (time.time() - 7200, time.time() - 7200))  # as if it had been left there long ago
    hub(body)
    assert d2lft.worlds.downloads.sha1sum(d2lft.worlds.downloads.download("toy")) == sha1
    assert _leftovers(data_home) == ["toy.zip"]  # the stale partial file was cleaned up


def test_symlinks_in_zip_archives_are_refused(tmp_path):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as z:
        link = zipfile.ZipInfo("toy/link")
        link.external_attr = 0o120777 << 16  # a symbolic link
        z.writestr(link, "/etc/passwd")
    with pytest.raises(d2lft.worlds.downloads.UnsafeArchiveError, match="link"):
        d2lft.worlds.downloads.extract_archive(archive, tmp_path / "out")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*"))


def test_a_truncated_download_names_the_url(hub, data_home):
    url = hub(GOOD[:50], sha1=hashlib.sha1(GOOD).hexdigest(), content_length=len(GOOD))
    with pytest.raises(d2lft.worlds.downloads.DownloadError) as err:
        d2lft.worlds.downloads.download("toy")
    assert url in str(err.value)


def test_a_mirror_serves_the_hub_file_under_the_book_checksum(monkeypatch, data_home, http_server):
    """`D2LFT_DATA_URL`: the same file name under another base URL, checked against DATA_HUB's SHA-1."""
    monkeypatch.setitem(dl.DATA_HUB, "toy", (dl.DATA_URL + "toy.zip", hashlib.sha1(GOOD).hexdigest()))
    http_server.add("/mirror/toy.zip", Route(GOOD))
    monkeypatch.setenv("D2LFT_DATA_URL", http_server.url + "/mirror/")
    out = d2lft.download_extract("toy")
    assert (out / "train" / "hotdog" / "0.txt").read_bytes() == b"a"
    assert http_server.hits == ["/mirror/toy.zip"]


def test_a_mirror_with_another_file_is_refused_and_keeps_nothing(monkeypatch, data_home, http_server):
    expected = hashlib.sha1(GOOD).hexdigest()
    monkeypatch.setitem(dl.DATA_HUB, "toy", (dl.DATA_URL + "toy.zip", expected))
    http_server.add("/mirror/toy.zip", Route(_zip({"toy/other.txt": b"c"})))
    monkeypatch.setenv("D2LFT_DATA_URL", http_server.url + "/mirror")
    with pytest.raises(dl.ChecksumError) as err:
        d2lft.download_extract("toy")
    assert http_server.url + "/mirror/toy.zip" in str(err.value) and expected in str(err.value)
    assert _leftovers(data_home) == []


def test_a_folder_is_a_mirror_too(monkeypatch, data_home, tmp_path):
    """A teacher's USB stick or shared drive: `D2LFT_DATA_URL` names a folder; no server is asked."""
    stick = tmp_path / "stick"
    stick.mkdir()
    (stick / "toy.zip").write_bytes(GOOD)
    monkeypatch.setitem(dl.DATA_HUB, "toy", ("http://127.0.0.1:9/toy.zip", hashlib.sha1(GOOD).hexdigest()))
    monkeypatch.setenv("D2LFT_DATA_URL", str(stick))
    assert (d2lft.download_extract("toy") / "test" / "not-hotdog" / "1.txt").read_bytes() == b"b"
    (stick / "toy.zip").unlink()
    with pytest.raises(dl.DownloadError, match="toy.zip"):
        dl.download("toy", data_home / "elsewhere")


def test_the_hotdog_world_is_chosen_when_its_mirror_answers(monkeypatch, data_home, http_server):
    monkeypatch.delenv("D2LFT_WORLD", raising=False)
    http_server.add("/mirror/hotdog.zip", Route(GOOD))
    monkeypatch.setenv("D2LFT_DATA_URL", http_server.url + "/mirror/")
    world = d2lft.get_world()
    assert world.name == "hotdog" and "reachable" in world.reason
    assert http_server.hits == ["/mirror/hotdog.zip"]
    monkeypatch.setenv("D2LFT_DATA_URL", http_server.url + "/empty/")
    assert d2lft.get_world().name == "mini"
