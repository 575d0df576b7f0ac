"""The decode-once cache: decoded once, the same pixels and random draws as the book's pipeline, rebuilt when
files change, served in batches on any device."""

from __future__ import annotations

import dataclasses
import math
import os

import numpy as np
import pytest
import torch
import torchvision
from conftest import make_image_folder
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from torchvision import transforms

import d2lft
from d2lft.speed import decoded


def test_decoded_once_and_shared(tmp_path, monkeypatch):
    root = make_image_folder(tmp_path / "train", {"hotdog": 3, "not-hotdog": 2}, size=(50, 30))
    calls = []
    real = decoded.decode_resized
    monkeypatch.setattr(decoded, "decode_resized", lambda p, s: calls.append(p) or real(p, s))
    first = d2lft.speed.decoded.DecodedImageFolder(d2lft.image_folder(root), 24)
    second = d2lft.speed.decoded.DecodedImageFolder(d2lft.image_folder(root), 24)
    assert len(calls) == 5 and second.images is first.images
    image, label = first[0]
    assert image.dtype == torch.uint8 and image.shape == (3, 24, 40) and label == 0


def test_changed_files_are_decoded_again(tmp_path):
    root = make_image_folder(tmp_path / "train", {"hotdog": 2, "not-hotdog": 2})
    before = d2lft.speed.decoded.DecodedImageFolder(d2lft.image_folder(root), 16)
    path = before.samples[0][0]
    Image.new("RGB", (40, 30), (0, 255, 0)).save(path)
    os.utime(path, ns=(os.stat(path).st_atime_ns, os.stat(path).st_mtime_ns + 10**9))
    after = d2lft.speed.decoded.DecodedImageFolder(d2lft.image_folder(root), 16)
    assert after.fingerprint != before.fingerprint
    assert after[0][0][1].float().mean() > 200  # the new green image


def test_the_cached_test_batches_match_the_pil_pipeline(tmp_path):
    root = make_image_folder(tmp_path / "test", {"hotdog": 2, "not-hotdog": 3}, size=(90, 60))
    _, pil_test = d2lft.hotdog_augs(64, 73)
    pil = d2lft.image_folder(root, pil_test)
    loader = d2lft.speed.decoded.DecodedLoader(
        d2lft.speed.decoded.DecodedImageFolder(d2lft.image_folder(root), 73), 2, 64, train=False
    )
    assert len(loader) == 3
    batches = list(loader)
    X, y = torch.cat([X for X, _ in batches]), torch.cat([y for _, y in batches])
    assert X.shape == (5, 3, 64, 64) and y.tolist() == pil.targets  # in order, as a test DataLoader
    for i in range(len(pil)):
        assert (X[i] - pil[i][0]).abs().mean() < 0.02  # uint8 rounding of the resized image only


def test_a_batch_of_one_draws_and_cuts_as_the_books_train_augs(tmp_path):
    image = d2lft.speed.decoded.decode_resized(make_image_folder(tmp_path, {"x": 1}, size=(97, 61)) / "x" / "0.jpg", 73)
    book = transforms.Compose(
        [transforms.RandomResizedCrop(64), transforms.RandomHorizontalFlip(), d2lft.normalize]
    )  # the book's train_augs after ToTensor, on the same decoded pixels
    flips = set()
    for seed in range(8):
        torch.manual_seed(seed)
        ours = d2lft.speed.decoded.augment_batch([image], 64, train=True)[0]
        torch.manual_seed(seed)
        theirs = book(image.float() / 255)
        assert ours.shape == (3, 64, 64) and torch.allclose(ours, theirs, atol=1e-4)
        torch.manual_seed(seed)
        transforms.RandomResizedCrop.get_params(image, [0.08, 1.0], [3 / 4, 4 / 3])
        flips.add(bool(torch.rand(1) < 0.5))
    assert flips == {True, False}  # both branches of the flip were compared


def test_train_batches_shuffle_every_epoch_and_cover_each_image_once(tmp_path):
    root = make_image_folder(tmp_path / "train", {"hotdog": 6, "not-hotdog": 5}, size=(50, 40))
    folder = d2lft.speed.decoded.DecodedImageFolder(d2lft.image_folder(root), 24)
    loader = d2lft.speed.decoded.DecodedLoader(folder, 4, 16, train=True)
    torch.manual_seed(0)
    epochs = [list(loader) for _ in range(2)]
    assert len(loader) == 3 and [len(y) for _, y in epochs[0]] == [4, 4, 3]
    orders = [torch.cat([y for _, y in batches]) for batches in epochs]
    assert all(sorted(order.tolist()) == sorted(folder.targets) for order in orders)
    X = torch.cat([X for X, _ in epochs[0]])
    assert X.shape == (11, 3, 16, 16) and X.dtype == torch.float32 and torch.isfinite(X).all()
    assert not torch.equal(X, torch.cat([X for X, _ in epochs[1]]))  # new crops (and order) every epoch
    subset = d2lft.speed.decoded.DecodedLoader(folder, 4, 16, train=False, indices=[0, 10])
    assert [y.tolist() for _, y in subset] == [[0, 1]]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_batches_on_the_gpu_match_the_cpu(tmp_path):
    root = make_image_folder(tmp_path / "train", {"hotdog": 5, "not-hotdog": 5}, size=(80, 50))
    folder = d2lft.speed.decoded.DecodedImageFolder(d2lft.image_folder(root), 40)
    for train in (True, False):
        cpu, gpu = (d2lft.speed.decoded.DecodedLoader(folder, 4, 32, train, device) for device in ("cpu", "cuda"))
        torch.manual_seed(0)
        on_cpu = list(cpu)
        torch.manual_seed(0)
        on_gpu = list(gpu)
        for (a, ya), (b, yb) in zip(on_cpu, on_gpu, strict=True):
            assert b.device.type == "cuda" and torch.equal(ya, yb.cpu())
            assert torch.allclose(a, b.cpu(), atol=1e-3)


@settings(max_examples=40, deadline=None)
@given(
    width=st.integers(1, 300),
    height=st.integers(1, 300),
    mode=st.sampled_from(["RGB", "L", "RGBA", "P", "CMYK", "I;16"]),
    short_side=st.sampled_from([16, 73, 256]),
)
def test_any_image_decodes_to_the_short_side_and_augments_to_the_crop(
    tmp_path_factory, width, height, mode, short_side
):
    path = tmp_path_factory.mktemp("img") / ("x.tiff" if mode in ("CMYK", "I;16") else "x.png")
    Image.new(mode, (width, height)).save(path)
    image = d2lft.speed.decoded.decode_resized(path, short_side)
    assert image.dtype == torch.uint8 and image.shape[0] == 3 and min(image.shape[1:]) == short_side
    ratio, decoded_ratio = width / height, image.shape[2] / image.shape[1]
    assert abs(np.log(decoded_ratio / ratio)) < 0.1 or min(width, height) < 10  # aspect ratio kept
    crop = min(short_side, 64)
    for train in (True, False):
        x = d2lft.speed.decoded.augment_batch([image, image], crop, train)
        assert x.shape == (2, 3, crop, crop) and x.dtype == torch.float32 and torch.isfinite(x).all()


def test_fine_tuning_on_the_fast_path_reads_the_cache_on_the_device(data_home, monkeypatch):
    monkeypatch.setattr(d2lft.worlds, "MINI_COUNTS", {"train": 4, "test": 2})  # read when the world is made
    world = d2lft.get_world("mini")
    train_iter, test_iter = d2lft.speed.decoded.load_data_hotdog_decoded(3, world, "cpu")
    assert (len(train_iter), len(test_iter)) == (3, 2)
    X, y = next(iter(train_iter))
    assert X.shape == (3, 3, world.crop_size, world.crop_size) and y.dtype == torch.int64
    torch.manual_seed(0)
    net = d2lft.replace_fc(torchvision.models.resnet18(), 2)
    history = d2lft.train_fine_tuning(
        net, 5e-5, 4, 2, world=world, devices=[torch.device("cpu")], plot=False, fast=True
    )
    assert len(history.test_acc) == 2 and all(math.isfinite(v) for v in history.train_loss)
    assert net.conv1.weight.is_contiguous(memory_format=torch.channels_last)  # it went through the fast path
    # without num_epochs, a run takes the recipe's epochs
    one_epoch = dataclasses.replace(world, recipe=world.recipe._replace(epochs=1))
    history = d2lft.train_fine_tuning(
        net, 5e-5, 4, world=one_epoch, devices=[torch.device("cpu")], plot=False, fast=True
    )
    assert len(history.test_acc) == 1
    history = d2lft.train_fine_tuning(net, 5e-5, 4, 2, world=world, devices=[torch.device("cpu")], plot=False,
                                      fast=True, test_each_epoch=False)  # fmt: skip
    assert math.isnan(history.test_acc[0]) and 0 <= history.test_acc[1] <= 1  # tested after the last epoch only


def _smooth_photo(size: tuple[int, int]) -> Image.Image:
    """A smooth gradient photo: decoding at a reduced size and resizing agree on it closely."""
    w, h = size
    x, y = np.meshgrid(np.linspace(0, 255, w), np.linspace(0, 255, h))
    return Image.fromarray(np.stack([x, y, (x + y) / 2], axis=-1).astype(np.uint8))


def test_a_large_jpeg_is_decoded_at_a_reduced_size_that_keeps_the_gap(tmp_path):
    path = tmp_path / "phone.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: read upright
    _smooth_photo((1200, 900)).save(path, exif=exif, quality=95)
    assert d2lft.load_image(path).size == (900, 1200)  # whole
    # draft: both sides at least 3 x 100 px, so 1/2 (1/4 would leave 225 < 300); then turned upright
    assert d2lft.load_image(path, draft=(300, 300)).size == (450, 600)
    reduced = decoded.decode_resized(path, 100)
    assert decoded.DRAFT_GAP == 3 and reduced.shape == (3, 133, 100)
    whole = d2lft.load_image(path).resize((100, 133), Image.BILINEAR, reducing_gap=2.0)
    whole = torch.from_numpy(np.asarray(whole).copy()).permute(2, 0, 1)
    assert (reduced.float() - whole.float()).abs().mean() < 2  # of 255
    small = tmp_path / "drawing.jpg"
    _smooth_photo((160, 120)).save(small)
    assert d2lft.load_image(small, draft=(3 * 37, 3 * 37)).size == (160, 120)  # below the gap: read whole


def test_with_a_cache_dir_the_next_run_reads_the_decoded_images_from_disk(tmp_path, monkeypatch, capsys):
    root = make_image_folder(tmp_path / "photos", {"hotdog": 3, "not-hotdog": 2}, size=(50, 30))
    cache = tmp_path / "decoded"
    calls = []
    real = decoded.decode_resized
    monkeypatch.setattr(decoded, "decode_resized", lambda p, s: calls.append(p) or real(p, s))
    first = decoded.DecodedImageFolder(d2lft.image_folder(root), 24, cache_dir=cache)
    assert len(calls) == 5 and [p.name for p in cache.iterdir()] == [f"{first.fingerprint}.pt"]
    decoded._DECODED.clear()  # a new process
    second = decoded.DecodedImageFolder(d2lft.image_folder(root), 24, cache_dir=cache)
    assert len(calls) == 5 and all(torch.equal(a, b) for a, b in zip(first.images, second.images))
    (cache / f"{first.fingerprint}.pt").write_bytes(b"not a tensor file")  # damaged: decoded again, repaired
    decoded._DECODED.clear()
    third = decoded.DecodedImageFolder(d2lft.image_folder(root), 24, cache_dir=cache)
    assert len(calls) == 10 and "cannot be read" in capsys.readouterr().out
    decoded._DECODED.clear()
    decoded.DecodedImageFolder(d2lft.image_folder(root), 24, cache_dir=cache)
    assert len(calls) == 10 and third.fingerprint == first.fingerprint


def test_the_disk_cache_keeps_the_most_recently_used_folders(tmp_path, monkeypatch):
    monkeypatch.setattr(decoded, "_KEEP_ON_DISK", 2)
    root = make_image_folder(tmp_path / "photos", {"hotdog": 1, "not-hotdog": 1}, size=(50, 30))
    cache = tmp_path / "decoded"
    fingerprints = [decoded.DecodedImageFolder(d2lft.image_folder(root), side, cache_dir=cache).fingerprint
                    for side in (20, 24, 28)]  # fmt: skip
    assert sorted(p.stem for p in cache.glob("*.pt")) == sorted(fingerprints[1:])


def test_a_folder_keeps_its_decoded_images_when_the_shared_cache_moves_on(tmp_path, monkeypatch):
    root = make_image_folder(tmp_path / "train", {"hotdog": 2, "not-hotdog": 2}, size=(50, 30))
    calls = []
    real = decoded.decode_resized
    monkeypatch.setattr(decoded, "decode_resized", lambda p, s: calls.append(p) or real(p, s))
    first = decoded.DecodedImageFolder(d2lft.image_folder(root), 16)
    for side in range(17, 17 + decoded._KEEP):  # enough other folders to push the first out of the shared cache
        decoded.DecodedImageFolder(d2lft.image_folder(root), side)
    before = len(calls)
    batches = list(decoded.DecodedLoader(first, 2, 12, train=False))
    assert len(calls) == before and len(batches) == 2  # served from the folder's own images, not decoded again
