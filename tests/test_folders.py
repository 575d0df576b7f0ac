"""Your own photo folder: both layouts, a split that stays the same, and bad input named with its fix."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from conftest import make_image_folder
from PIL import Image

import d2lft
from d2lft.data import hotdog_splits, split_indices
from d2lft.folders import FolderError, photo_splits, scan


def test_one_folder_per_class_is_split_stratified_into_train_val_and_test(tmp_path, data_home):
    root = make_image_folder(tmp_path / "photos", {"cats": 20, "dogs": 40, "fish": 7})
    splits = photo_splits(root)
    assert splits.layout == "classes" and splits.classes == ["cats", "dogs", "fish"]
    assert splits.counts() == {"train": [14, 28, 5], "val": [3, 6, 1], "test": [3, 6, 1]}
    everything = [f for s in ("train", "val", "test") for f, _ in splits.files[s]]
    assert len(everything) == len(set(everything)) == 67  # each image in exactly one split
    for s in ("train", "val", "test"):  # labels come from the folder each file is in
        assert all(Path(f).parts[0] == splits.classes[label] for f, label in splits.files[s])
    image, label = splits.dataset("val")[0]
    assert image.mode == "RGB" and splits.classes[label] == "cats"


def test_the_split_is_saved_and_the_same_next_time_and_another_seed_draws_another(tmp_path, data_home):
    root = make_image_folder(tmp_path / "photos", {"a": 30, "b": 30})
    first = photo_splits(root)
    assert first.split_file.parent == data_home / "splits" and first.split_file.exists()
    assert json.loads(first.split_file.read_text())["files"]["test"] == [f for f, _ in first.files["test"]]
    again = photo_splits(root)
    assert again.files == first.files and again.changes == []
    other = photo_splits(root, seed=1)
    assert other.files["test"] != first.files["test"] and other.split_file != first.split_file
    assert photo_splits(root).files == first.files  # seed 0's file is still there


def test_added_and_deleted_files_move_nothing_else(tmp_path, data_home):
    root = make_image_folder(tmp_path / "photos", {"a": 20, "b": 20})
    before = photo_splits(root)
    test_a = [f for f, label in before.files["test"] if label == 0]
    (root / test_a[0]).unlink()
    make_image_folder(tmp_path / "more", {"a": 10})
    for i, path in enumerate(sorted((tmp_path / "more" / "a").iterdir())):
        path.rename(root / "a" / f"new{i}.jpg")
    after = photo_splits(root)
    assert "a: 10 new image(s) drawn into the splits" in after.changes
    assert "a: 1 image(s) no longer on disk, dropped from the splits" in after.changes
    for s in ("train", "val", "test"):  # every file that stayed keeps its split
        kept = {f for f, _ in before.files[s]} - {test_a[0]}
        assert kept <= {f for f, _ in after.files[s]}
    assert after.counts()["test"][0] == round(0.15 * 29)  # the new files refill test to its share
    assert photo_splits(root).changes == []  # and that is saved


def test_train_and_test_folders_keep_the_test_set_and_draw_validation_from_train(tmp_path, data_home):
    make_image_folder(tmp_path / "photos" / "train", {"a": 20, "b": 10})
    make_image_folder(tmp_path / "photos" / "test", {"a": 4, "b": 3})
    splits = photo_splits(tmp_path / "photos")
    assert splits.layout == "train-test" and splits.classes == ["a", "b"]
    assert splits.counts() == {"train": [17, 8], "val": [3, 2], "test": [4, 3]}
    assert all(f.startswith("test/") for f, _ in splits.files["test"])
    assert photo_splits(tmp_path / "photos").changes == []


def test_a_val_folder_of_ones_own_is_used_as_it_is(tmp_path, data_home):
    for split, n in [("train", 5), ("val", 2), ("test", 2)]:
        make_image_folder(tmp_path / "photos" / split, {"a": n, "b": n})
    splits = photo_splits(tmp_path / "photos")
    assert splits.counts() == {"train": [5, 5], "val": [2, 2], "test": [2, 2]}


def test_hidden_folders_and_files_that_are_not_images_are_skipped_and_listed(tmp_path, data_home):
    root = make_image_folder(tmp_path / "photos", {"a": 5, "b": 5})
    (root / ".ipynb_checkpoints").mkdir()  # ImageFolder would make it a class
    (root / "a" / ".ipynb_checkpoints").mkdir()
    make_image_folder(root / "a" / ".ipynb_checkpoints", {"x": 2})
    for junk in [".DS_Store", "a/.DS_Store", "a/Thumbs.db", "b/notes.txt", "README.txt"]:
        (root / junk).write_bytes(b"not an image")
    splits = photo_splits(root)
    assert splits.classes == ["a", "b"] and sum(map(sum, splits.counts().values())) == 10
    assert splits.skipped == ["README.txt", "a/Thumbs.db", "b/notes.txt"]


def test_class_names_with_spaces_and_other_alphabets_work(tmp_path, data_home):
    root = make_image_folder(tmp_path / "my photos", {"hot dog": 4, "crème brûlée": 4, "寿司": 4})
    splits = photo_splits(root)
    assert splits.classes == sorted(["hot dog", "crème brûlée", "寿司"])
    assert photo_splits(root).files == splits.files
    assert splits.dataset("test")[0][0].size == (40, 30)


@pytest.mark.parametrize(
    ("counts", "message"),
    [
        ({"cats": 5}, "only the class folder 'cats': a classifier needs at least 2 classes"),
        ({}, "no class folders"),
        ({"cats": 5, "dogs": 2}, "too few images for 3 splits (3 images at least, one for training and one for "
                                 "each of val, test): dogs (2)"),
    ],
)  # fmt: skip
def test_folders_that_cannot_be_split_are_refused_with_the_fix(tmp_path, data_home, counts, message):
    root = make_image_folder(tmp_path / "photos", counts)
    root.mkdir(exist_ok=True)
    with pytest.raises(FolderError, match=message.replace("(", r"\(").replace(")", r"\)")):
        photo_splits(root)
    assert not (data_home / "splits").exists()  # nothing written


def test_an_empty_class_a_missing_folder_and_an_unknown_test_class_are_named(tmp_path, data_home):
    root = make_image_folder(tmp_path / "photos", {"a": 5, "b": 5})
    (root / "c").mkdir()
    (root / "c" / "notes.txt").write_text("no images")
    with pytest.raises(FolderError, match=r"class folders with no images: c .*Add images to them or remove"):
        scan(root)
    with pytest.raises(FolderError, match="does not exist"):
        scan(tmp_path / "nowhere")
    make_image_folder(tmp_path / "tt" / "train", {"a": 3, "b": 3})
    make_image_folder(tmp_path / "tt" / "test", {"a": 1, "z": 1})
    with pytest.raises(FolderError, match=r"test has classes that .*train lacks: z"):
        scan(tmp_path / "tt")


def test_grayscale_cmyk_16_bit_and_animated_images_are_read_as_rgb(tmp_path, data_home):
    root = make_image_folder(tmp_path / "photos", {"a": 3, "b": 3})
    gray = Image.fromarray(np.full((30, 40), 100, np.uint8), "L")
    gray.save(root / "a" / "gray.png")
    Image.new("CMYK", (40, 30), (0, 255, 255, 0)).save(root / "a" / "cmyk.jpg")
    Image.fromarray(np.full((30, 40), 40000, np.uint16)).save(root / "b" / "sixteen.png")
    frames = [Image.new("RGB", (40, 30), color) for color in ("red", "blue")]
    frames[0].save(root / "b" / "animated.gif", save_all=True, append_images=frames[1:])
    splits = photo_splits(root)
    images = {
        Path(path).name: dataset[k][0]
        for dataset in (splits.dataset(s) for s in ("train", "val", "test"))
        for k, (path, _) in enumerate(dataset.samples)
        if not Path(path).stem.isdigit()
    }
    assert sorted(images) == ["animated.gif", "cmyk.jpg", "gray.png", "sixteen.png"]
    assert all(image.mode == "RGB" and image.size == (40, 30) for image in images.values())
    assert images["animated.gif"].getpixel((0, 0)) == (255, 0, 0)  # the first frame
    assert images["sixteen.png"].getpixel((0, 0)) == (156, 156, 156)  # 40000 / 257, rounded


def test_a_saved_split_with_other_fractions_is_not_silently_redrawn(tmp_path, data_home):
    root = make_image_folder(tmp_path / "photos", {"a": 10, "b": 10})
    splits = photo_splits(root)
    with pytest.raises(FolderError, match=r"saved a split with the fractions .* delete the file"):
        photo_splits(root, fractions={"val": 0.3, "test": 0.3})
    assert photo_splits(root).files == splits.files


def test_the_hotdog_worlds_practice_folder_copies_the_laptop_recipes_subset_once(tmp_path, data_home, monkeypatch):
    root = tmp_path / "hotdog"
    for split, n in (("train", 6), ("test", 4)):
        make_image_folder(root / split, {"hotdog": n, "not-hotdog": n}, seed=n)
    monkeypatch.setattr(d2lft.data, "hotdog_dir", lambda world: root)  # where hotdog_datasets looks
    mini = d2lft.get_world("mini")
    world = dataclasses.replace(mini, name="hotdog", recipe=mini.recipe._replace(per_class={"train": 3, "test": 2}))
    practice = d2lft.example_photos(world)
    assert practice == data_home / "hotdog-photos"
    train, test = hotdog_splits(root)
    for split, images, ids in zip(("train", "test"), (train, test), split_indices(world, train.targets, test.targets)):
        chosen = sorted(Path(images.samples[i][0]).relative_to(root / split) for i in ids)
        copied = sorted(p.relative_to(practice / split) for p in (practice / split).rglob("*.jpg"))
        assert copied == chosen and len(chosen) == 2 * world.subset[split]  # the subset, per class
    assert photo_splits(practice).counts() == {"train": [2, 2], "val": [1, 1], "test": [2, 2]}
    (root / "train" / "hotdog" / "0.jpg").unlink()  # built once: the copy stays as it was
    assert d2lft.example_photos(world) == practice and len(list(practice.rglob("*.jpg"))) == 10
    sketches = d2lft.data.sketch_dir(world)  # notebook 07's far target: the same images, drawn as lines
    assert sorted(p.relative_to(sketches).with_suffix("") for p in sketches.rglob("*.png")) == sorted(
        p.relative_to(practice).with_suffix("") for p in practice.rglob("*.jpg")
    )


def test_fewer_training_images_keep_validation_and_test_and_draw_by_seed(tmp_path):
    root = make_image_folder(tmp_path / "photos", {"a": 20, "b": 20})
    splits = photo_splits(root)
    fewer = splits.with_fewer_training_images(5, seed=1)
    assert fewer.counts()["train"] == [5, 5] and set(fewer.files["train"]) <= set(splits.files["train"])
    assert fewer.files["val"] == splits.files["val"] and fewer.files["test"] == splits.files["test"]
    assert fewer.files == splits.with_fewer_training_images(5, seed=1).files
    assert fewer.files["train"] != splits.with_fewer_training_images(5, seed=2).files["train"]
    assert splits.with_fewer_training_images(100).counts()["train"] == splits.counts()["train"]  # all, if fewer
