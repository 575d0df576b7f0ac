"""The real world rehearsed offline: stand-ins served from 127.0.0.1 through the course's own download code."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import torch

import d2lft
from d2lft.support.paths import REPO_ROOT
from d2lft.worlds import downloads as dl
from tests.conftest import Route
from tools import rehearsal

QUICK = {**rehearsal.STAND_IN_RECIPE, "epochs": 0}  # the mini source's layers as they are: no training


@pytest.fixture(autouse=True)
def fresh_manifests():
    dl._stand_in_manifest.cache_clear()  # each test's server is new
    yield
    dl._stand_in_manifest.cache_clear()


@pytest.fixture(scope="module")
def mirror(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("mirror")
    rehearsal.build_mirror(folder, {"train": 3, "test": 2}, recipe=QUICK)
    return folder


def test_the_mirror_holds_the_books_layout_and_a_1000_way_resnet18(mirror):
    manifest = json.loads((mirror / dl.STAND_IN_MANIFEST).read_text())
    assert set(manifest["files"]) == {"hotdog.zip", "resnet18-f37072fd.pth"}
    assert manifest["files"]["hotdog.zip"]["sha1"] == dl.sha1sum(mirror / "hotdog.zip")
    with zipfile.ZipFile(mirror / "hotdog.zip") as z:
        folders = sorted({name.rsplit("/", 1)[0] for name in z.namelist()})
    assert folders == [f"hotdog/{s}/{c}" for s in ("test", "train") for c in d2lft.CLASSES]
    assert rehearsal.build_mirror(mirror, {"train": 3, "test": 2}, recipe=QUICK) == manifest  # built once


def test_a_rehearsal_runs_the_real_worlds_code_and_says_stand_in(mirror, tmp_path, monkeypatch):
    source, foods = d2lft.load_pretrained("resnet18", d2lft.get_world("mini"))
    with rehearsal.serve(mirror) as url:
        for name, value in rehearsal.rehearsal_environment(url, tmp_path).items():
            monkeypatch.setenv(name, value)
        world = d2lft.get_world()
        assert world.name == "hotdog" and world.stand_in == url.rstrip("/") and "STAND-IN" in str(world)
        assert world.images_per_class == world.used_per_class == {"train": 3, "test": 2}
        root = d2lft.hotdog_dir(world)
        train, test = d2lft.data.hotdog_splits(root)
        assert root == tmp_path / "data" / "hotdog" and (len(train), len(test)) == (6, 4)
        assert min(min(img.size) for img, _ in train) >= rehearsal.PHOTO_SIZES[0]  # photo-sized
        net, categories = d2lft.load_pretrained("resnet18", world)
        assert (tmp_path / "torch" / "hub" / "checkpoints" / "resnet18-f37072fd.pth").exists()
        hotdog = categories.index("hotdog")
        assert len(categories) == net.fc.out_features == 1000 and hotdog == 934
        assert torch.equal(net.fc.weight[hotdog], source.fc.weight[foods.index("hotdog")])
        again, _ = d2lft.load_pretrained("resnet18", world)  # from the cache, checked against the manifest
        assert torch.equal(again.fc.weight, net.fc.weight)


def _declare(http_server, files: dict) -> None:
    http_server.add(
        "/m/" + dl.STAND_IN_MANIFEST, Route(json.dumps({"files": files}).encode(), content_type="text/json")
    )


def test_stand_ins_never_enter_the_default_caches(http_server, monkeypatch):
    _declare(http_server, {"hotdog.zip": {"sha1": "0" * 40, "images_per_class": {"train": 1, "test": 1}},
                           "resnet18-f37072fd.pth": {"sha256": "0" * 64}})  # fmt: skip
    monkeypatch.delenv("D2LFT_DATA", raising=False)
    monkeypatch.delenv("TORCH_HOME", raising=False)
    monkeypatch.setenv("D2LFT_DATA_URL", http_server.url + "/m/")
    monkeypatch.setenv("D2LFT_WEIGHTS_URL", http_server.url + "/m/")
    with pytest.raises(dl.DownloadError, match="D2LFT_DATA to a folder of its own"):
        d2lft.get_world("hotdog")
    with pytest.raises(dl.DownloadError, match="TORCH_HOME to a folder of its own"):
        d2lft.models.load_pretrained("resnet18", d2lft.worlds.World("hotdog", "test", d2lft.worlds.BOOK, {}))
    assert http_server.hits == []  # nothing but the manifest was asked for


def test_a_changed_stand_in_is_refused_and_nothing_is_kept(http_server, monkeypatch, data_home):
    _declare(
        http_server,
        {"hotdog.zip": {"sha1": hashlib.sha1(b"declared").hexdigest(), "images_per_class": {"train": 1, "test": 1}}},
    )
    http_server.add("/m/hotdog.zip", Route(b"something else"))
    monkeypatch.setenv("D2LFT_DATA_URL", http_server.url + "/m/")
    with pytest.raises(dl.ChecksumError, match="hotdog.zip"):
        d2lft.hotdog_dir(d2lft.get_world("hotdog"))
    assert not data_home.exists() or list(data_home.iterdir()) == []


def test_only_a_server_on_this_machine_may_declare_stand_ins(tmp_path):
    (tmp_path / dl.STAND_IN_MANIFEST).write_text(json.dumps({"files": {"hotdog.zip": {"sha1": "0" * 40}}}))
    for url in ("http://example.org/hotdog.zip", "https://127.0.0.1/hotdog.zip", (tmp_path / "hotdog.zip").as_uri()):
        assert dl.stand_in(url, "D2LFT_DATA") is None  # answered without asking any server


@pytest.mark.slow
def test_a_scaled_down_rehearsal_runs_notebooks_in_the_hotdog_world(tmp_path):
    """`make rehearse` in small: notebook 01 and its solutions, the book's recipe (224 px) on 16 + 8 stand-in
    photos per class, the stand-in weights untrained at photo scale (the full rehearsal teaches them)."""
    run = subprocess.run(
        [sys.executable, "-m", "tools.rehearsal", "--out", str(tmp_path), "--per-class", "16", "8",
         "--stand-in-epochs", "0", "--recipe", "book", "--notebooks", "01_hotdog_data"],
        capture_output=True, text=True, timeout=900, cwd=REPO_ROOT,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "STAND-IN" in run.stdout and "2 notebook(s), 0 failed" in run.stdout
    executed = (tmp_path / "course" / "notebooks" / "01_hotdog_data.ipynb").read_text()
    assert "STAND-IN" in executed and "images per class: 16 train, 8 test; crops of 224 px" in executed
    assert (tmp_path / "data" / "hotdog.zip").exists() and not (tmp_path / "torch").exists()
