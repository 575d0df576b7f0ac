"""The decode-once cache: decoded once, the same pixels as the PIL path, rebuilt when files change."""

from __future__ import annotations

import os

import numpy as np
import torch
from conftest import make_image_folder
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

import d2lft
from d2lft import cache


def test_decoded_once_and_shared(tmp_path, monkeypatch):
    root = make_image_folder(tmp_path / "train", {"hotdog": 3, "not-hotdog": 2}, size=(50, 30))
    calls = []
    real = cache.decode_resized
    monkeypatch.setattr(cache, "decode_resized", lambda p, s: calls.append(p) or real(p, s))
    first = d2lft.DecodedImageFolder(d2lft.image_folder(root), 24)
    second = d2lft.DecodedImageFolder(d2lft.image_folder(root), 24)
    assert len(calls) == 5 and second.images is first.images
    image, label = first[0]
    assert image.dtype == torch.uint8 and image.shape == (3, 24, 40) and label == 0


def test_changed_files_are_decoded_again(tmp_path):
    root = make_image_folder(tmp_path / "train", {"hotdog": 2, "not-hotdog": 2})
    before = d2lft.DecodedImageFolder(d2lft.image_folder(root), 16)
    path = before.samples[0][0]
    Image.new("RGB", (40, 30), (0, 255, 0)).save(path)
    os.utime(path, ns=(os.stat(path).st_atime_ns, os.stat(path).st_mtime_ns + 10**9))
    after = d2lft.DecodedImageFolder(d2lft.image_folder(root), 16)
    assert after.fingerprint != before.fingerprint
    assert after[0][0][1].float().mean() > 200  # the new green image


def test_the_cached_test_pipeline_matches_the_pil_pipeline(tmp_path):
    root = make_image_folder(tmp_path / "test", {"hotdog": 2, "not-hotdog": 2}, size=(90, 60))
    _, pil_test = d2lft.hotdog_augs(64, 73)
    _, tensor_test = d2lft.cached_augs(64)
    decoded = d2lft.DecodedImageFolder(d2lft.image_folder(root), 73, tensor_test)
    pil = d2lft.image_folder(root, pil_test)
    for i in range(len(pil)):
        a, b = decoded[i][0], pil[i][0]
        assert a.shape == b.shape == (3, 64, 64)
        assert (a - b).abs().mean() < 0.02  # uint8 rounding of the resized image only


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
    image = d2lft.decode_resized(path, short_side)
    assert image.dtype == torch.uint8 and image.shape[0] == 3 and min(image.shape[1:]) == short_side
    ratio, decoded_ratio = width / height, image.shape[2] / image.shape[1]
    assert abs(np.log(decoded_ratio / ratio)) < 0.1 or min(width, height) < 10  # aspect ratio kept
    crop = min(short_side, 64)
    for augs in d2lft.cached_augs(crop):
        x = augs(image)
        assert x.shape == (3, crop, crop) and x.dtype == torch.float32 and torch.isfinite(x).all()
