"""Data worlds: choosing one, and the mini world's generated dataset."""

from __future__ import annotations

import hashlib

import pytest
import torch
from conftest import Route
from PIL import Image

import d2lft
from d2lft.support.files import COMPLETE_MARKER
from d2lft.worlds import downloads


def test_the_environment_variable_picks_the_world(monkeypatch):
    monkeypatch.setenv("D2LFT_WORLD", "mini")
    world = d2lft.get_world()
    assert world.name == "mini" and "D2LFT_WORLD=mini" in str(world)
    monkeypatch.setenv("D2LFT_WORLD", "hotdog")
    monkeypatch.setenv("D2LFT_RECIPE", "book")
    assert d2lft.get_world().crop_size == 224 and d2lft.get_world().resize_size == 256


def test_an_unknown_world_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("D2LFT_WORLD", "imagenet")
    with pytest.raises(ValueError, match="D2LFT_WORLD.*hotdog.*mini"):
        d2lft.get_world()


def test_auto_picks_mini_when_hotdog_is_neither_cached_nor_reachable(monkeypatch, data_home):
    monkeypatch.delenv("D2LFT_WORLD", raising=False)
    monkeypatch.setitem(downloads.DATA_HUB, "hotdog", ("http://127.0.0.1:9/hotdog.zip", "0" * 40))
    world = d2lft.get_world()
    assert world.name == "mini" and "neither cached nor reachable" in str(world)


def test_auto_picks_hotdog_when_its_server_answers(monkeypatch, data_home, http_server):
    monkeypatch.delenv("D2LFT_WORLD", raising=False)
    url = http_server.add("/hotdog.zip", Route(b"zip"))
    monkeypatch.setitem(downloads.DATA_HUB, "hotdog", (url, "0" * 40))
    assert d2lft.get_world().name == "hotdog"
    assert http_server.hits == ["/hotdog.zip"]


def test_auto_picks_hotdog_when_its_files_are_cached(monkeypatch, data_home):
    monkeypatch.delenv("D2LFT_WORLD", raising=False)
    (data_home / "hotdog").mkdir(parents=True)
    assert d2lft.get_world().reason == "auto: its files are cached"


def _digest(folder) -> str:
    h = hashlib.sha256()
    for path in sorted(folder.rglob("*.jpg")):
        h.update(str(path.relative_to(folder)).encode() + path.read_bytes())
    return h.hexdigest()


def test_the_hotdog_world_takes_the_laptop_recipe_on_a_cpu_and_the_books_on_a_gpu(monkeypatch):
    monkeypatch.delenv("D2LFT_RECIPE", raising=False)
    monkeypatch.setattr(d2lft.worlds, "try_gpu", lambda: torch.device("cpu"))
    laptop = d2lft.get_world("hotdog")
    assert (laptop.recipe.name, laptop.crop_size, laptop.batch_size) == ("laptop", 128, 32)
    assert laptop.used_per_class == {"train": 150, "test": 100} and laptop.images_per_class["train"] == 1000
    assert "LAPTOP RECIPE (no GPU here)" in str(laptop) and "D2LFT_RECIPE=book" in str(laptop)
    assert "(34x the work per run)" in str(laptop)  # (224 / 128)^2 x 1000 / 150 x 5 / 3
    assert laptop.epochs == 3 and "3 epochs per run" in str(laptop)
    assert laptop.seeds(5) == [5, 6] and "comparisons over 2 seeds" in str(laptop)
    monkeypatch.setattr(d2lft.worlds, "try_gpu", lambda: torch.device("cuda", 0))
    book = d2lft.get_world("hotdog")
    assert (book.recipe.name, book.crop_size, book.batch_size, book.subset) == ("book", 224, 128, None)
    assert "LAPTOP" not in str(book) and book.seeds(0) == [0, 1, 2] and d2lft.get_world("mini").seeds(0) == [0, 1]
    assert book.epochs == 5 and d2lft.get_world("mini").epochs == 3  # the book's; the mini source fits its target in 3
    monkeypatch.setattr(d2lft.worlds, "try_gpu", lambda: torch.device("cpu"))
    monkeypatch.setenv("D2LFT_RECIPE", "book")
    assert d2lft.get_world("hotdog").crop_size == 224
    assert d2lft.get_world("mini").recipe.name == "mini"  # mini has one recipe, already a laptop's
    monkeypatch.setenv("D2LFT_RECIPE", "fast")
    with pytest.raises(ValueError, match="D2LFT_RECIPE='fast' is not one of"):
        d2lft.get_world("hotdog")


def test_mini_dataset_has_the_books_layout_and_is_deterministic(tmp_path):
    counts = {"train": 6, "test": 3}
    a = d2lft.worlds.mini.dataset.make_mini_hotdog(tmp_path / "a", counts)
    b = d2lft.worlds.mini.dataset.make_mini_hotdog(tmp_path / "b", counts)
    for split, n in counts.items():
        for label in d2lft.CLASSES:
            assert len(list((a / split / label).glob("*.jpg"))) == n
    assert _digest(a) == _digest(b)
    sizes = {Image.open(p).size for p in a.rglob("*.jpg")}
    assert len(sizes) > 10, "sizes and aspect ratios should vary"
    assert all(min(s) >= 64 for s in sizes)  # every image covers the mini crop


def test_mini_dataset_is_reused_and_rebuilt_when_stale(tmp_path):
    counts = {"train": 2, "test": 1}
    folder = d2lft.worlds.mini.dataset.make_mini_hotdog(tmp_path / "m", counts)
    first = next(folder.rglob("*.jpg"))
    stamp = first.stat().st_mtime_ns
    d2lft.worlds.mini.dataset.make_mini_hotdog(folder, counts)
    assert first.stat().st_mtime_ns == stamp  # reused, not regenerated
    (folder / COMPLETE_MARKER).write_text("an older recipe\n")
    (folder / "train" / "junk").mkdir()
    d2lft.worlds.mini.dataset.make_mini_hotdog(folder, counts)
    assert not (folder / "train" / "junk").exists()


def test_mini_train_and_test_images_differ(tmp_path):
    folder = d2lft.worlds.mini.dataset.make_mini_hotdog(tmp_path / "m", {"train": 5, "test": 5})
    train = {p.read_bytes() for p in (folder / "train").rglob("*.jpg")}
    test = {p.read_bytes() for p in (folder / "test").rglob("*.jpg")}
    assert not train & test


def test_the_course_seed_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv("D2LFT_SEED", raising=False)
    assert d2lft.course_seed() == 0
    monkeypatch.setenv("D2LFT_SEED", "3")
    assert d2lft.course_seed() == 3
    monkeypatch.setenv("D2LFT_SEED", "three")
    with pytest.raises(ValueError, match="D2LFT_SEED must be an integer"):
        d2lft.course_seed()
