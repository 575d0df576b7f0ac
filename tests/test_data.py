"""The book's augmentations, checked ImageFolders, and loaders over a world's dataset."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import make_image_folder
from hypothesis import given, settings
from hypothesis import strategies as st
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


def test_a_sketch_keeps_the_size_and_lines_but_no_colour():
    for size in [(120, 90), (1200, 900)]:  # a small drawing, and a photo drawn small and scaled back
        img = Image.new("RGB", size, (250, 230, 60))
        w, h = size
        img.paste((40, 20, 160), (w // 4, h // 4, 3 * w // 4, 3 * h // 4))  # a dark blue box on a yellow table
        drawing = np.asarray(d2lft.data.sketch(img))
        assert drawing.shape == (h, w, 3) and (drawing[..., 0] == drawing[..., 2]).all()  # gray: no colour left
        assert drawing[h // 10, w // 10, 0] > 200 and drawing[h // 2, w // 2, 0] > 200  # white off the edges
        assert drawing[h // 4 - h // 30 : h // 4 + h // 30, w // 2, 0].min() < 100  # dark on the box's edge


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
    assert train_iter.dataset.dataset.classes == list(d2lft.CLASSES)  # a Subset (the recipe's images) of a folder
    assert len(train_iter.dataset) == 8 and len(test_iter.dataset) == 4
    X, y = next(iter(train_iter))
    assert X.shape == (3, 3, world.crop_size, world.crop_size) and y.dtype == torch.int64
    assert (data_home / "mini-hotdog" / "train" / "hotdog").is_dir()


@given(
    counts=st.lists(st.integers(1, 30), min_size=1, max_size=4),
    fraction=st.floats(0.05, 0.95),
    seed=st.integers(0, 2**31),
)
def test_validation_split_is_disjoint_complete_stratified_and_seeded(counts, fraction, seed):
    targets = [label for label, n in enumerate(counts) for _ in range(n)]
    train_ids, val_ids = d2lft.validation_split(targets, fraction, seed)
    assert sorted(train_ids + val_ids) == list(range(len(targets)))  # every image once
    for label, n in enumerate(counts):  # each class held out in its share, at least one image
        held = sum(targets[i] == label for i in val_ids)
        assert held == max(1, round(fraction * n))
    assert d2lft.validation_split(targets, fraction, seed) == (train_ids, val_ids)


@given(n=st.integers(0, 40), counts=st.lists(st.integers(0, 10), max_size=3), seed=st.integers(0, 2**31))
def test_deal_hands_out_a_seeded_shuffle_in_the_counts_asked_and_the_rest_last(n, counts, seed):
    hands = d2lft.data.deal(n, counts, torch.Generator().manual_seed(seed))
    assert sorted(i for hand in hands for i in hand) == list(range(n))  # every index once
    left = n
    for hand, k in zip(hands, counts):
        assert len(hand) == min(k, left)
        left -= len(hand)
    assert len(hands) == len(counts) + 1 and len(hands[-1]) == left
    assert hands == d2lft.data.deal(n, counts, torch.Generator().manual_seed(seed))


def test_validation_split_draws_another_subset_for_another_seed_and_refuses_a_bad_fraction():
    targets = [0] * 50 + [1] * 50
    assert d2lft.validation_split(targets, 0.2, 0)[1] != d2lft.validation_split(targets, 0.2, 1)[1]
    with pytest.raises(ValueError, match="between 0 and 1"):
        d2lft.validation_split(targets, 1.0)


def test_load_data_hotdog_holds_out_a_validation_fifth_of_the_training_images(data_home, monkeypatch):
    monkeypatch.setattr(d2lft.worlds, "MINI_COUNTS", {"train": 10, "test": 2})
    world = d2lft.get_world("mini")
    train_iter, val_iter = d2lft.load_data_hotdog(3, world, validation=True)
    train_files = {train_iter.dataset.dataset.samples[i][0] for i in train_iter.dataset.indices}
    val_files = {val_iter.dataset.dataset.samples[i][0] for i in val_iter.dataset.indices}
    assert len(train_files) == 16 and len(val_files) == 4 and not train_files & val_files
    assert all("/train/" in f for f in val_files)  # from the training images, never the test set
    X1, _ = next(iter(torch.utils.data.DataLoader(val_iter.dataset, 4)))
    X2, _ = next(iter(torch.utils.data.DataLoader(val_iter.dataset, 4)))
    assert torch.equal(X1, X2)  # the test transform: no random crops or flips
    fast_train, fast_val = d2lft.speed.decoded.load_data_hotdog_decoded(3, world, validation=True)
    assert fast_train.indices.tolist() == train_iter.dataset.indices
    assert fast_val.indices.tolist() == val_iter.dataset.indices and not fast_val.train


def test_the_laptop_recipe_uses_the_same_stratified_subset_in_every_loader(data_home, monkeypatch):
    monkeypatch.setattr(d2lft.worlds, "MINI_COUNTS", {"train": 10, "test": 6})
    full = d2lft.get_world("mini")
    world = dataclasses.replace(full, recipe=full.recipe._replace(name="laptop", per_class={"train": 4, "test": 2}))
    assert world.used_per_class == {"train": 4, "test": 2}
    train_iter, test_iter = d2lft.load_data_hotdog(3, world)
    for loader, n in [(train_iter, 8), (test_iter, 4)]:
        labels = [loader.dataset.dataset.targets[i] for i in loader.dataset.indices]
        assert sorted(labels) == [0] * (n // 2) + [1] * (n // 2)  # the same number from each class
    again = d2lft.load_data_hotdog(3, world)[0]
    assert again.dataset.indices == train_iter.dataset.indices  # drawn with a fixed seed: the same every run
    fast_train, fast_test = d2lft.speed.decoded.load_data_hotdog_decoded(3, world)
    assert fast_train.indices.tolist() == train_iter.dataset.indices
    assert fast_test.indices.tolist() == test_iter.dataset.indices
    fit, val = d2lft.load_data_hotdog(3, world, validation=True)
    # the validation fifth of every training image, drawn before the subset: the mini recipe's own
    assert val.dataset.indices == d2lft.load_data_hotdog(3, full, validation=True)[1].dataset.indices
    assert len(val.dataset.indices) == 4 and len(fit.dataset.indices) == 8  # the subset, from the other 16
    assert not set(fit.dataset.indices) & set(val.dataset.indices)
    shown = d2lft.data.without_transform(test_iter.dataset)
    assert [shown[i][0].size for i in range(4)] == [
        d2lft.load_image(test_iter.dataset.dataset.samples[j][0]).size for j in test_iter.dataset.indices
    ]
    assert d2lft.load_data_hotdog(3, full)[0].dataset.indices == list(range(20))  # the mini recipe: every image


# ----- bad and unusual image files -------------------------------------------------------------


def _folder_with(tmp_path, files: dict[str, bytes | Image.Image]):
    """A split folder with both classes; `files` maps 'class/name' to bytes or a PIL image."""
    root = make_image_folder(tmp_path / "train", {"hotdog": 2, "not-hotdog": 2})
    for name, content in files.items():
        if isinstance(content, Image.Image):
            content.save(root / name)
        else:
            (root / name).write_bytes(content)
    return root


def _truncated_jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 30, 30)).save(buffer, "JPEG")
    return buffer.getvalue()[:300]


@pytest.mark.parametrize("bad", [b"this is not an image", b"", None])
def test_a_corrupt_or_truncated_image_is_reported_with_its_path(tmp_path, bad):
    content = _truncated_jpeg() if bad is None else bad
    root = _folder_with(tmp_path, {"hotdog/broken.jpg": content})
    dataset = d2lft.image_folder(root)
    index = [p for p, _ in dataset.samples].index(str(root / "hotdog" / "broken.jpg"))
    with pytest.raises(d2lft.BadImageError) as err:
        dataset[index]
    assert str(root / "hotdog" / "broken.jpg") in str(err.value) and "skip_bad=True" in str(err.value)


def test_skip_bad_skips_and_lists_unreadable_images(tmp_path):
    root = _folder_with(tmp_path, {"hotdog/broken.jpg": _truncated_jpeg(), "not-hotdog/junk.png": b"<html>"})
    dataset = d2lft.image_folder(root, skip_bad=True)
    assert len(dataset) == 4 and len(dataset.targets) == 4
    assert sorted(Path(p).name for p, _ in dataset.skipped) == ["broken.jpg", "junk.png"]
    assert all(dataset[i][0].mode == "RGB" for i in range(len(dataset)))


def test_an_empty_class_folder_is_named(tmp_path):
    root = make_image_folder(tmp_path / "train", {"hotdog": 2})
    (root / "not-hotdog").mkdir()
    (root / "not-hotdog" / "notes.txt").write_text("no images here")
    with pytest.raises(FileNotFoundError, match=r"not-hotdog holds no images"):
        d2lft.image_folder(root)


def test_images_directly_in_the_split_folder_are_a_wrong_layout(tmp_path):
    root = tmp_path / "train"
    root.mkdir()
    Image.new("RGB", (8, 8)).save(root / "0.jpg")
    with pytest.raises(FileNotFoundError, match=r"holds the folders \[\]; expected the layout"):
        d2lft.image_folder(root)


def test_a_missing_split_names_the_expected_layout(tmp_path):
    make_image_folder(tmp_path / "hotdog" / "train", {"hotdog": 1, "not-hotdog": 1})
    with pytest.raises(FileNotFoundError) as err:
        d2lft.data.hotdog_splits(tmp_path / "hotdog")
    assert "has no test folder" in str(err.value) and "/{train,test}/{hotdog,not-hotdog}/<images>" in str(err.value)


# ----- properties of the transforms over sizes, modes and aspect ratios -------------------------

MODES = ["RGB", "L", "RGBA", "P", "CMYK", "I;16"]


@settings(max_examples=60, deadline=None)
@given(
    width=st.integers(1, 400),
    height=st.integers(1, 400),
    mode=st.sampled_from(MODES),
    crop=st.sampled_from([32, 64, 224]),
)
def test_both_transforms_give_normalised_crops_for_any_image(width, height, mode, crop):
    img = d2lft.support.images.to_rgb(Image.new(mode, (width, height)))
    train_augs, test_augs = d2lft.hotdog_augs(crop, crop * 256 // 224)
    for augs in (train_augs, test_augs):
        x = augs(img)
        assert x.shape == (3, crop, crop) and x.dtype == torch.float32
        assert torch.isfinite(x).all()
        assert x.min() >= -2.12 and x.max() <= 2.65  # ImageNet normalisation of values in [0, 1]


@settings(max_examples=40, deadline=None)
@given(width=st.integers(2, 600), height=st.integers(2, 600))
def test_resize_keeps_the_aspect_ratio_and_the_short_side(width, height):
    from torchvision import transforms

    resized = transforms.Resize(73)(Image.new("RGB", (width, height)))
    assert min(resized.size) == 73
    long_side, ratio = max(resized.size), max(width, height) / min(width, height)
    assert abs(long_side - 73 * ratio) < 1  # the long side follows the ratio, to a pixel


def test_loader_options_use_workers_and_pinned_memory_only_for_a_gpu():
    assert d2lft.data.loader_options(torch.device("cpu")) == {"num_workers": 0}
    gpu = d2lft.data.loader_options(torch.device("cuda", 0))
    assert gpu["pin_memory"] is True and 1 <= gpu["num_workers"] <= 8
