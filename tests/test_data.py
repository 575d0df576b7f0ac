"""The book's augmentations, checked ImageFolders, and loaders over a world's dataset."""

from __future__ import annotations

import pytest
import torch
from conftest import make_image_folder
from PIL import Image

import d2lft


def test_book_transforms_give_normalised_crops():
    train_augs, test_augs = d2lft.hotdog_augs(224, 256)
    img = Image.new("RGB", (500, 300), (255, 128, 0))
    for augs in (train_augs, test_augs):
        x = augs(img)
        assert x.shape == (3, 224, 224) and x.dtype == torch.float32
    torch.testing.assert_close(
        d2lft.denormalize(test_augs(img))[:, 0, 0], torch.tensor([1.0, 128 / 255, 0.0]), atol=1e-3, rtol=0
    )


def test_resize_with_one_number_keeps_the_aspect_ratio():
    from torchvision import transforms

    img = Image.new("RGB", (500, 300))
    assert transforms.Resize(256)(img).size == (426, 256)  # 500 * 256 / 300, truncated
    assert transforms.Resize([256, 256])(img).size == (256, 256)


def test_image_folder_names_the_expected_layout(tmp_path):
    make_image_folder(tmp_path / "train", {"hotdog": 2, "pizza": 2})
    with pytest.raises(FileNotFoundError, match=r"hotdog,not-hotdog"):
        d2lft.image_folder(tmp_path / "train")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        d2lft.image_folder(tmp_path / "test")


def test_load_data_hotdog_reads_the_mini_world(data_home, monkeypatch):
    monkeypatch.setattr(d2lft.worlds, "MINI_COUNTS", {"train": 4, "test": 2})  # read when the world is made
    world = d2lft.get_world("mini")
    train_iter, test_iter = d2lft.load_data_hotdog(3, world)
    assert train_iter.dataset.classes == list(d2lft.CLASSES)
    assert len(train_iter.dataset) == 8 and len(test_iter.dataset) == 4
    X, y = next(iter(train_iter))
    assert X.shape == (3, 3, world.crop_size, world.crop_size) and y.dtype == torch.int64
    assert (data_home / "mini-hotdog" / "train" / "hotdog").is_dir()
