"""`d2lft.files`: a file or folder appears whole, with ordinary modes, or not at all."""

from __future__ import annotations

import hashlib
import os
import stat

import pytest

from d2lft.files import atomic_folder, atomic_write, file_hash


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
