"""`d2lft.support.files`: a file or folder appears whole, with ordinary modes, or not at all."""

from __future__ import annotations

import hashlib
import os
import stat
import threading
import time

import pytest

from d2lft.support.files import atomic_folder, atomic_write, build_once, file_hash


class Interrupted(Exception):
    pass


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_a_written_file_has_the_modes_open_would_give(tmp_path, umask_022):
    with atomic_write(tmp_path / "a.bin") as f:
        f.write(b"abc")
    with open(tmp_path / "b.bin", "wb") as f:
        f.write(b"abc")
    assert (tmp_path / "a.bin").read_bytes() == b"abc"
    assert mode(tmp_path / "a.bin") == mode(tmp_path / "b.bin") == 0o644
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_failed_write_keeps_the_old_file_and_leaves_no_part_file(tmp_path):
    target = tmp_path / "model.pth"
    target.write_bytes(b"old")
    with pytest.raises(Interrupted), atomic_write(target) as f:
        f.write(b"half")
        raise Interrupted
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.pth"]


def test_a_folder_replaces_the_old_one_whole_with_the_modes_mkdir_would_give(tmp_path, umask_022):
    target = tmp_path / "world"
    (target / "stale").mkdir(parents=True)
    with atomic_folder(target) as staging:
        (staging / "train").mkdir()
    (tmp_path / "plain").mkdir()
    assert sorted(p.name for p in target.iterdir()) == ["train"]
    assert mode(target) == mode(tmp_path / "plain") == 0o755
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plain", "world"]


def test_a_failed_folder_keeps_the_old_one(tmp_path):
    target = tmp_path / "world"
    (target / "old").mkdir(parents=True)
    with pytest.raises(Interrupted), atomic_folder(target) as staging:
        (staging / "new").mkdir()
        raise Interrupted
    assert sorted(p.name for p in target.iterdir()) == ["old"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["world"]


def test_file_hash_matches_hashlib(tmp_path):
    (tmp_path / "x").write_bytes(b"hotdog" * 1000)
    assert file_hash(tmp_path / "x") == hashlib.sha1(b"hotdog" * 1000).hexdigest()
    assert file_hash(tmp_path / "x", "sha256") == hashlib.sha256(b"hotdog" * 1000).hexdigest()


def test_two_builders_of_one_folder_build_it_once(tmp_path):
    # Two notebooks (or test workers) ask for the same generated folder at once: the second waits for the
    # first and uses its folder, so the folder the first is reading is never replaced under it.
    fills = []

    def fill(staging):
        fills.append(staging)
        (staging / "image.jpg").write_text("x")
        time.sleep(0.5)

    folder = tmp_path / "world"
    builders = [threading.Thread(target=build_once, args=(folder, "stamp\n", fill)) for _ in range(2)]
    for b in builders:
        b.start()
    for b in builders:
        b.join(timeout=30)
    assert len(fills) == 1, "the folder was built twice"
    assert (folder / "image.jpg").exists()
    assert build_once(folder, "stamp\n", fill) == folder and len(fills) == 1
