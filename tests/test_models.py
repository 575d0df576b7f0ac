"""Pretrained source models: verified weights in the hotdog world, a cached local model in the mini world."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
import torch
from conftest import Route

import d2lft
from d2lft.worlds.mini import drawing, pretrain, source
from d2lft.worlds.mini.dataset import MINI_PHOTOS
from d2lft.worlds.weights import WeightsError, fetch_weights, verify_weights_file, weights_cache_path

RESNET18_FILE = "resnet18-f37072fd.pth"


@pytest.fixture
def torch_home(tmp_path, monkeypatch):
    """An empty `TORCH_HOME`; torch.hub reads it on every call."""
    home = tmp_path / "torch"
    monkeypatch.setenv("TORCH_HOME", str(home))
    return home


@pytest.fixture
def offline(monkeypatch):
    """Send every download through a proxy on a closed local port, as if the machine were offline."""
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.setenv(var, "http://127.0.0.1:9")
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)


def test_weights_are_cached_where_torch_hub_looks(torch_home):
    weights = weights_cache_path("https://download.pytorch.org/models/" + RESNET18_FILE)
    assert weights == torch_home / "hub" / "checkpoints" / RESNET18_FILE


def test_a_corrupt_cached_weights_file_is_refused_with_the_fix(torch_home):
    cached = torch_home / "hub" / "checkpoints" / RESNET18_FILE
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"not the ResNet-18 weights")
    with pytest.raises(WeightsError) as err:
        d2lft.load_pretrained("resnet18", d2lft.get_world("hotdog"))
    message = str(err.value)
    assert str(cached) in message and "f37072fd" in message and "Delete it" in message
    assert cached.exists()  # refused, not silently replaced


def test_missing_weights_offline_name_the_url_and_the_cache_path(torch_home, offline):
    with pytest.raises(WeightsError) as err:
        d2lft.load_pretrained("resnet18", d2lft.get_world("hotdog"))
    message = str(err.value)
    assert "https://download.pytorch.org/models/" + RESNET18_FILE in message
    assert str(torch_home / "hub" / "checkpoints" / RESNET18_FILE) in message
    assert not list(torch_home.rglob("*.pth"))


def test_weights_come_from_a_mirror_checked_against_the_hash_in_their_name(torch_home, http_server):
    """`D2LFT_WEIGHTS_URL`: torchvision's file name under another base URL, kept only if its SHA-256 fits."""
    body = b"a stand-in weights file"
    name = f"toy-{hashlib.sha256(body).hexdigest()[:8]}.pth"
    http_server.add("/models/" + name, Route(body))
    target = torch_home / "hub" / "checkpoints" / name
    got = fetch_weights("https://download.pytorch.org/models/" + name, target, http_server.url + "/models")
    assert got == target and target.read_bytes() == body


def test_a_mirror_with_other_weights_is_refused_and_keeps_nothing(torch_home, http_server, offline, monkeypatch):
    http_server.add("/models/" + RESNET18_FILE, Route(b"not the ResNet-18 weights"))
    monkeypatch.setenv("no_proxy", "127.0.0.1")  # the mirror answers; anything else is offline
    monkeypatch.setenv("D2LFT_WEIGHTS_URL", http_server.url + "/models/")
    with pytest.raises(WeightsError) as err:
        d2lft.load_pretrained("resnet18", d2lft.get_world("hotdog"))
    message = str(err.value)
    assert "f37072fd" in message and "D2LFT_WEIGHTS_URL" in message and http_server.url in message
    assert not list(torch_home.rglob("*.pth")) and http_server.hits == ["/models/" + RESNET18_FILE]


def test_verify_weights_file_accepts_a_file_whose_name_carries_its_hash(tmp_path):
    blob = tmp_path / "blob"
    torch.save({"w": torch.ones(2)}, blob)
    named = tmp_path / f"tiny-{hashlib.sha256(blob.read_bytes()).hexdigest()[:8]}.pth"
    blob.rename(named)
    verify_weights_file(named)
    with pytest.raises(ValueError, match="no SHA-256 prefix"):
        verify_weights_file(tmp_path / "unnamed.pth")


@pytest.fixture
def tiny_recipe(monkeypatch, data_home):
    """A mini source recipe small enough to build in seconds."""
    small = {**source.MINI_SOURCE_RECIPE, "images_per_class": 3, "val_images_per_class": 1, "epochs": 1}
    monkeypatch.setattr(source, "MINI_SOURCE_RECIPE", small)
    return data_home / "mini-source"


def test_mini_source_model_is_built_once_verified_and_rebuilt_when_the_recipe_changes(tiny_recipe, monkeypatch):
    world = d2lft.get_world("mini")
    net, categories = d2lft.load_pretrained("resnet18", world)
    assert "hotdog" in categories and len(categories) >= 10 and categories.index("hotdog") != 0
    assert net.fc.out_features == len(categories) and hasattr(net, "layer4")
    (weights,) = tiny_recipe.glob("resnet18-*.pth")
    stamp = weights.stat().st_mtime_ns
    again, _ = d2lft.load_pretrained("resnet18", world)
    assert weights.stat().st_mtime_ns == stamp  # reused from the cache
    assert all(torch.equal(a, b) for a, b in zip(net.state_dict().values(), again.state_dict().values()))

    weights.write_bytes(weights.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(WeightsError, match="corrupt"):
        d2lft.load_pretrained("resnet18", world)

    monkeypatch.setitem(source.MINI_SOURCE_RECIPE, "epochs", 2)  # a new recipe: rebuilt, old file gone
    d2lft.load_pretrained("resnet18", world)
    assert len(list(tiny_recipe.glob("resnet18-*.pth"))) == 1
    assert not weights.exists() or weights.read_bytes()[-10:] != b"0123456789"


def test_the_shipped_mini_source_loads_as_it_was_built(data_home, monkeypatch):
    monkeypatch.setattr(pretrain, "build_mini_source", lambda *args, **kwargs: pytest.fail("rebuilt, not loaded"))
    net, categories = d2lft.load_pretrained("resnet18", d2lft.get_world("mini"))
    meta = json.loads((source.SHIPPED_MINI_SOURCE / "resnet18.json").read_text())
    assert meta["recipe"] == source.recipe_for("resnet18") and meta["dtype"] == "float16"
    assert categories == meta["categories"] == source.mini_source_categories()
    assert net.conv1.weight.dtype == torch.float32 and not (data_home / "mini-source").exists()
    assert meta["val_acc"] > 0.5  # 12 classes: chance is 0.083
    world = d2lft.get_world("mini")
    assert (meta["recipe"]["crop_size"], meta["recipe"]["resize_size"]) == (world.crop_size, world.resize_size)


def test_mini_world_pretrains_only_resnet18(data_home):
    with pytest.raises(ValueError, match="weights=None"):
        d2lft.load_pretrained("vgg16", d2lft.get_world("mini"))


def test_source_images_never_repeat_target_images():
    for food in ("hotdog", "baguette", "pizza"):
        for i in range(5):
            for split in ("train", "test"):
                target_rng = drawing.image_rng(
                    f"mini-hotdog/{split}", "hotdog" if food == "hotdog" else "not-hotdog", i
                )
                source_rng = drawing.image_rng("mini-source/train", food, i)
                a = np.asarray(drawing.render_food(food, target_rng, (80, 80)))
                b = np.asarray(drawing.render_food(food, source_rng, (80, 80)))
                assert not np.array_equal(a, b)


def test_the_practice_folder_holds_foods_the_source_never_saw():
    assert set(MINI_PHOTOS.values()) <= set(drawing.NEW_FOOD_DRAWERS)
    assert not set(drawing.NEW_FOOD_DRAWERS) & set(source.mini_source_categories())
    for food in drawing.NEW_FOOD_DRAWERS:  # drawn like the source's foods: an RGB photo of the size asked for
        image = drawing.render_food(food, drawing.image_rng("test", food, 0), (90, 70))
        assert image.mode == "RGB" and image.size == (90, 70)


def test_the_photos_path_says_what_it_starts_from_only_in_the_offline_world():
    note = d2lft.models.photos_source_note(d2lft.get_world("mini"))
    assert "12 drawn foods\nat 32 px" in note and "D2LFT_WORLD=hotdog" in note
    assert d2lft.models.photos_source_note(d2lft.get_world("hotdog")) == ""  # ImageNet's weights: nothing to warn of
