"""Reading any image file safely: upright, 8-bit RGB, HEIC included, or an error that names the file.

Photos arrive in every form: sideways with an EXIF orientation tag, with transparency, in 16 bits, as an
iPhone's HEIC, truncated, or as a decompression bomb. `load_image` turns each into upright RGB or raises a
`BadImageError` that names the file and what to do; every reader of the course (the ImageFolders, your
photo folders, a kept model's predictions) reads through it.
"""

from __future__ import annotations

import functools
import os
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps


class BadImageError(ValueError):
    """An image file that cannot be used: unreadable, truncated, or too large to decode safely."""


def to_rgb(img: Image.Image) -> Image.Image:
    """Convert any PIL image to 8-bit RGB: transparency onto white, 16-bit and float scaled, CMYK converted."""
    if img.mode == "RGB":
        return img
    if img.mode in ("I", "F") or img.mode.startswith("I;16"):
        pixels = np.asarray(img, dtype=np.float64)
        if img.mode.startswith("I;16") or pixels.max() > 255:
            pixels = pixels / 257  # 16-bit range to 8-bit
        elif img.mode == "F" and pixels.max() <= 1:
            pixels = pixels * 255  # floats in [0, 1]
        img = Image.fromarray(np.clip(pixels, 0, 255).round().astype(np.uint8), mode="L")
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return img.convert("RGB")


HEIF_SUFFIXES = (".heic", ".heif")  # an iPhone's photos: Pillow reads them through the pillow-heif plugin


@functools.cache
def _read_heif_too() -> bool:
    """Register pillow-heif's opener with Pillow, once per process; False when the plugin is missing."""
    try:
        import pillow_heif
    except ImportError:
        return False
    pillow_heif.register_heif_opener()
    return True


def _open(path: str | os.PathLike) -> Image.Image:
    """`Image.open`, HEIC/HEIF photos included (or a `BadImageError` with the command that adds them)."""
    if Path(path).suffix.lower() in HEIF_SUFFIXES and not _read_heif_too():
        raise BadImageError(
            f"{path} is a HEIC/HEIF photo, which Pillow reads through a plugin that is not installed here. "
            f"Install it with: pip install pillow-heif (make lab does), then run this again."
        )
    return Image.open(path)


def load_image(path: str | os.PathLike, draft: tuple[int, int] | None = None) -> Image.Image:
    """Read an image file as upright RGB (its EXIF orientation applied), or raise `BadImageError` naming the
    file and what to do.

    `draft`: a size the caller needs at least. A JPEG is then decoded at 1/2, 1/4 or 1/8 of its size
    (Pillow's `draft`: the decoder skips the detail, several times faster for a phone's 12-megapixel photo)
    as long as both sides stay at least that large; other formats are read whole.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with _open(path) as img:
                if draft:
                    img.draft(None, draft)
                img.load()
                # Phones store portrait photos sideways with an EXIF orientation tag: turn them upright.
                return to_rgb(ImageOps.exif_transpose(img))
    except BadImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise BadImageError(
            f"{path} is refused: {e} (PIL.Image.MAX_IMAGE_PIXELS is {Image.MAX_IMAGE_PIXELS}). "
            f"Shrink or delete the file; raise that limit only for files you trust."
        ) from e
    except (OSError, SyntaxError, ValueError) as e:  # unidentified, truncated or malformed files
        raise BadImageError(
            f"{path} cannot be read as an image ({e}). Delete or replace it (image_folder and "
            f"load_data_hotdog can also skip such files: skip_bad=True lists them)."
        ) from e


def image_size(path: str | os.PathLike) -> tuple[int, int]:
    """(width, height) of an image file as `load_image` reads it (upright), from its header alone."""
    with _open(path) as img:
        width, height = img.size
        sideways = img.getexif().get(0x0112, 1) in (5, 6, 7, 8)  # EXIF orientations that turn by 90 degrees
    return (height, width) if sideways else (width, height)
