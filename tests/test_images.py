"""Reading any image file: every mode as 8-bit RGB, upright, HEIC, and refusals that name the file and the fix."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import d2lft
from d2lft.support import images


def _modes() -> dict[str, Image.Image]:
    gradient = np.tile(np.linspace(0, 255, 32, dtype=np.uint8), (24, 1))
    rgba = np.zeros((24, 32, 4), dtype=np.uint8)
    rgba[..., 0] = 255  # red, fully transparent on the left half, opaque on the right
    rgba[:, 16:, 3] = 255
    palette = Image.fromarray(gradient).convert("P")
    transparent_palette = palette.copy()
    transparent_palette.info["transparency"] = 0
    return {
        "L": Image.fromarray(gradient),
        "LA": Image.fromarray(np.dstack([gradient, np.full_like(gradient, 255)])),
        "RGBA": Image.fromarray(rgba),
        "P": palette,
        "P+transparency": transparent_palette,
        "CMYK": Image.new("CMYK", (32, 24), (0, 255, 255, 0)),  # red
        "1": Image.fromarray(gradient > 127),
        "I;16": Image.fromarray(gradient.astype(np.uint16) * 257),
        "I": Image.fromarray(gradient.astype(np.int32) * 257),
        "F": Image.fromarray(gradient.astype(np.float32) / 255),
    }


@pytest.mark.parametrize("mode", list(_modes()))
def test_every_image_mode_loads_as_8_bit_rgb(tmp_path, mode):
    img = _modes()[mode]
    path = tmp_path / ("img.tiff" if mode in ("I;16", "I", "F", "CMYK") else "img.png")
    img.save(path)
    rgb = images.load_image(path)
    assert rgb.mode == "RGB" and rgb.size == img.size
    pixels = np.asarray(rgb)
    if mode in ("L", "LA", "P", "I;16", "I", "F"):  # a gray ramp from black to white, whatever the bit depth
        assert abs(int(pixels[0, 0, 0]) - 0) <= 1 and abs(int(pixels[0, -1, 0]) - 255) <= 1
        assert (pixels[..., 0] == pixels[..., 1]).all()
    if mode == "RGBA":
        assert tuple(pixels[0, 0]) == (255, 255, 255)  # transparent: white background, not black
        assert tuple(pixels[0, -1]) == (255, 0, 0)
    if mode == "CMYK":
        assert tuple(pixels[0, 0]) == (255, 0, 0)


def test_a_decompression_bomb_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "bomb.png"
    Image.new("1", (400, 300)).save(path)  # a few hundred bytes on disk
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100 * 100)
    with pytest.raises(images.BadImageError, match="bomb.png is refused.*MAX_IMAGE_PIXELS"):
        images.load_image(path)


# Where the top-left quarter of an upright 30 x 20 picture lands when a camera stores it with EXIF
# orientation k: the pixels on disk are the upright ones transformed by the inverse of what k says to do.
_STORED = {
    1: [],
    2: [Image.Transpose.FLIP_LEFT_RIGHT],
    3: [Image.Transpose.ROTATE_180],
    4: [Image.Transpose.FLIP_TOP_BOTTOM],
    5: [Image.Transpose.TRANSPOSE],
    6: [Image.Transpose.ROTATE_90],
    7: [Image.Transpose.TRANSVERSE],
    8: [Image.Transpose.ROTATE_270],
}


@pytest.mark.parametrize("orientation", sorted(_STORED))
def test_a_photo_stored_sideways_is_read_upright(tmp_path, orientation):
    upright = Image.new("RGB", (30, 20), (0, 0, 255))
    upright.paste((255, 0, 0), (0, 0, 15, 10))  # a red top-left quarter
    stored = upright
    for step in _STORED[orientation]:
        stored = stored.transpose(step)
    exif = Image.Exif()
    exif[0x0112] = orientation  # Orientation
    path = tmp_path / f"phone-{orientation}.jpg"
    stored.save(path, exif=exif, quality=95)
    image = images.load_image(path)
    assert image.size == (30, 20) == images.image_size(path)
    assert image.getpixel((3, 3))[0] > 200 and image.getpixel((26, 16))[2] > 200  # red top-left, blue elsewhere


def test_an_iphone_heic_photo_is_read_and_counts_as_an_image(tmp_path):
    # A phone's HEIC keeps its rotation in the container (irot) as well as in EXIF; libheif applies the
    # container's as it decodes and pillow-heif resets the EXIF orientation to 1 (keeping the old value in
    # info["original_orientation"]), so exif_transpose does not turn it twice. A rotated HEIC is not tested
    # here: pillow-heif's writer stored none (saved with EXIF orientation 6, it read back unturned, with 1).
    pytest.importorskip("pillow_heif")  # installed by make lab (requirements.txt)
    upright = Image.new("RGB", (30, 20), (0, 0, 255))
    upright.paste((255, 0, 0), (0, 0, 15, 10))
    assert images._read_heif_too()  # lets Pillow write one, too
    path = tmp_path / "IMG_0001.HEIC"
    upright.save(path, quality=95)
    image = images.load_image(path)
    assert image.mode == "RGB" and image.size == (30, 20) == images.image_size(path)
    assert image.getpixel((3, 3))[0] > 200 and image.getpixel((26, 16))[2] > 200
    assert ".heic" in d2lft.folders.IMAGE_SUFFIXES


def test_without_the_heif_plugin_a_heic_photo_is_refused_with_the_command_that_fixes_it(tmp_path, monkeypatch):
    monkeypatch.setattr(images, "_read_heif_too", lambda: False)
    with pytest.raises(images.BadImageError, match=r"IMG_0003.heic is a HEIC/HEIF photo.*pip install pillow-heif"):
        images.load_image(tmp_path / "IMG_0003.heic")
