"""Synthetic food photos for the offline `mini` world, drawn with PIL from a seeded generator.

Each image is a table top (wood, cloth or plain), sometimes a plate, one food seen from above at
a random angle, size and place, a few crumbs or herbs, then lighting and sensor noise. The
foods are chosen so that telling a hotdog from the rest takes more than one cue: a baguette is
a bun without a sausage, a sausage has no bun, a banana and a carrot are long and warm-coloured
too. The same `render_food` also draws the source set that the mini world's pretrained model
learns from (with seeds that never overlap the target set's), and five foods that source never saw
(`NEW_FOOD_DRAWERS`) for the practice photo folder of notebook 06.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

Color = tuple[int, int, int]

# Raise it when a change to the drawing code changes the images: generated data is then rebuilt.
DRAWING_VERSION = 1

_TABLES: tuple[Color, ...] = (
    (150, 105, 70),
    (205, 175, 135),
    (235, 235, 230),
    (70, 90, 120),
    (120, 40, 40),
    (95, 120, 90),
)
_PLATES: tuple[Color, ...] = ((245, 245, 240), (230, 225, 210), (200, 215, 230), (60, 60, 65))
_SUPERSAMPLE = 2


def _jitter(rng: np.random.Generator, color: Color, amount: int = 18) -> tuple[int, int, int, int]:
    r, g, b = (int(np.clip(c + rng.integers(-amount, amount + 1), 0, 255)) for c in color)
    return (r, g, b, 255)


def _bun(
    d: ImageDraw.ImageDraw, L: int, rng: np.random.Generator, x0: float, x1: float, half: float, color: Color
) -> None:
    box = (x0 * L, (0.5 - half) * L, x1 * L, (0.5 + half) * L)
    d.rounded_rectangle(
        box, radius=half * L * 0.9, fill=_jitter(rng, color), outline=_jitter(rng, (150, 95, 45)), width=max(1, L // 60)
    )


def _sausage(
    d: ImageDraw.ImageDraw, L: int, rng: np.random.Generator, x0: float, x1: float, y: float, half: float
) -> None:
    box = (x0 * L, (y - half) * L, x1 * L, (y + half) * L)
    d.rounded_rectangle(box, radius=half * L, fill=_jitter(rng, (165, 60, 40), 22))
    for _ in range(int(rng.integers(0, 4))):  # grill marks
        x = rng.uniform(x0 + 0.1, x1 - 0.1) * L
        d.line(
            (x, (y - half) * L, x + half * L, (y + half) * L), fill=_jitter(rng, (90, 35, 25)), width=max(1, L // 50)
        )


def _squiggle(
    d: ImageDraw.ImageDraw, L: int, rng: np.random.Generator, x0: float, x1: float, y: float, amp: float, color: Color
) -> None:
    n = int(rng.integers(6, 12))
    pts = [((x0 + (x1 - x0) * i / n) * L, (y + amp * (1 if i % 2 else -1)) * L) for i in range(n + 1)]
    d.line(pts, fill=_jitter(rng, color), width=max(2, L // 35), joint="curve")


def _draw_hotdog(d: ImageDraw.ImageDraw, L: int, rng: np.random.Generator) -> None:
    half = rng.uniform(0.12, 0.16)
    _bun(d, L, rng, 0.14, 0.86, half, (215, 165, 95))
    _sausage(d, L, rng, rng.uniform(0.04, 0.1), rng.uniform(0.9, 0.96), 0.5, half * 0.45)
    if rng.random() < 0.75:
        _squiggle(
            d,
            L,
            rng,
            0.2,
            0.8,
            0.5,
            half * 0.25,
            ((235, 200, 40), (200, 30, 30), (240, 235, 220))[int(rng.integers(3))],
        )


def _draw_baguette(d: ImageDraw.ImageDraw, L: int, rng: np.random.Generator) -> None:
    half = rng.uniform(0.1, 0.15)
    _bun(d, L, rng, 0.04, 0.96, half, (205, 145, 75))
    for i in range(int(rng.integers(3, 6))):
        x = 0.18 + i * 0.14
        d.line(
            (x * L, (0.5 + half * 0.5) * L, (x + 0.08) * L, (0.5 - half * 0.5) * L),
            fill=_jitter(rng, (235, 205, 150)),
            width=max(2, L // 30),
        )


def _draw_sausage(d: ImageDraw.ImageDraw, L: int, rng: np.random.Generator) -> None:
    count = int(rng.integers(1, 4))
    for k in range(count):
        y = 0.5 + (k - (count - 1) / 2) * 0.16
        _sausage(d, L, rng, rng.uniform(0.05, 0.2), rng.uniform(0.8, 0.95), y, rng.uniform(0.05, 0.07))


def _draw_banana(d: ImageDraw.ImageDraw, L: int, rng: np.random.Generator) -> None:
    d.ellipse((0.05 * L, 0.2 * L, 0.95 * L, 0.8 * L), fill=_jitter(rng, (235, 205, 60)))
    off = rng.uniform(0.1, 0.16)
    d.ellipse((0.05 * L, (0.2 - off) * L, 0.95 * L, (0.8 - off) * L), fill=(0, 0, 0, 0))
    d.ellipse((0.05 * L, 0.48 * L, 0.12 * L, 0.56 * L), fill=_jitter(rng, (90, 60, 30)))


def _draw_carrot(d: ImageDraw.ImageDraw, L: int, rng: np.random.Generator) -> None:
    w = rng.uniform(0.08, 0.12)
    d.polygon(
        [(0.2 * L, (0.5 - w) * L), (0.2 * L, (0.5 + w) * L), (0.95 * L, 0.5 * L)], fill=_jitter(rng, (235, 120, 30))
    )
    for a in (-0.12, 0.0, 0.12):
        d.line((0.2 * L, 0.5 * L, 0.05 * L, (0.5 + a) * L), fill=_jitter(rng, (60, 150, 50)), width=max(2, L // 30))


def _draw_pizza(d: ImageDraw.ImageDraw, L: int, rng: np.random.Generator) -> None:
    box = (0.1 * L, 0.1 * L, 0.9 * L, 0.9 * L)
    inner = (0.16 * L, 0.16 * L, 0.84 * L, 0.84 * L)
    if rng.random() < 0.4:  # a slice
        a = rng.uniform(0, 360)
        d.pieslice(box, a, a + 50, fill=_jitter(rng, (210, 150, 80)))
        d.pieslice(inner, a + 3, a + 47, fill=_jitter(rng, (215, 70, 35)))
    else:
        d.ellipse(box, fill=_jitter(rng, (210, 150, 80)))
        d.ellipse(inner, fill=_jitter(rng, (215, 70, 35)))
        for _ in range(int(rng.integers(5, 10))):
            x, y, r = rng.uniform(0.25, 0.75) * L, rng.uniform(0.25, 0.75) * L, rng.uniform(0.04, 0.06) * L
            d.ellipse(
                (x - r, y - r, x + r, y + r), fill=_jitter(rng, ((150, 30, 30), (245, 220, 120))[int(rng.integers(2))])
            )


def _draw_burger(d: ImageDraw.ImageDraw, L: int, rng: np.random.Generator) -> None:
    d.ellipse((0.12 * L, 0.12 * L, 0.88 * L, 0.88 * L), fill=_jitter(rng, (70, 120, 40)))  # lettuce rim
    d.ellipse((0.16 * L, 0.16 * L, 0.84 * L, 0.84 * L), fill=_jitter(rng, (200, 140, 70)))  # top bun
    for _ in range(int(rng.integers(8, 16))):  # sesame
        x, y = rng.uniform(0.3, 0.7) * L, rng.uniform(0.3, 0.7) * L
        d.ellipse((x - L * 0.015, y - L * 0.01, x + L * 0.015, y + L * 0.01), fill=_jitter(rng, (245, 235, 200)))


def _draw_donut(d: ImageDraw.ImageDraw, L: int, rng: np.random.Generator) -> None:
    d.ellipse((0.15 * L, 0.15 * L, 0.85 * L, 0.85 * L), fill=_jitter(rng, (200, 140, 70)))
    icing = ((240, 150, 190), (110, 60, 35), (245, 240, 235))[int(rng.integers(3))]
    d.ellipse((0.2 * L, 0.2 * L, 0.8 * L, 0.8 * L), fill=_jitter(rng, icing))
    for _ in range(int(rng.integers(6, 14))):
        x, y = rng.uniform(0.25, 0.75) * L, rng.uniform(0.25, 0.75) * L
        d.line(
            (x, y, x + 0.03 * L, y + 0.02 * L),
            fill=_jitter(rng, tuple(int(c) for c in rng.integers(40, 255, 3)), 0),
            width=max(1, L // 60),
        )
    d.ellipse((0.4 * L, 0.4 * L, 0.6 * L, 0.6 * L), fill=(0, 0, 0, 0))


def _draw_fried_egg(d: ImageDraw.ImageDraw, L: int, rng: np.random.Generator) -> None:
    n = 14
    radii = rng.uniform(0.28, 0.4, n)
    pts = [
        (0.5 * L + r * L * math.cos(2 * math.pi * i / n), 0.5 * L + r * L * math.sin(2 * math.pi * i / n))
        for i, r in enumerate(radii)
    ]
    d.polygon(pts, fill=_jitter(rng, (248, 246, 240), 6))
    r = rng.uniform(0.1, 0.13)
    d.ellipse(((0.5 - r) * L, (0.5 - r) * L, (0.5 + r) * L, (0.5 + r) * L), fill=_jitter(rng, (250, 190, 30)))


def _draw_sushi(d: ImageDraw.ImageDraw, L: int, rng: np.random.Generator) -> None:
    for k in range(int(rng.integers(1, 4))):
        x = 0.2 + k * 0.22
        d.ellipse((x * L, 0.35 * L, (x + 0.2) * L, 0.65 * L), fill=_jitter(rng, (30, 40, 30), 8))  # nori
        d.ellipse(((x + 0.03) * L, 0.39 * L, (x + 0.17) * L, 0.61 * L), fill=_jitter(rng, (245, 245, 240), 6))
        d.ellipse(((x + 0.07) * L, 0.45 * L, (x + 0.13) * L, 0.55 * L), fill=_jitter(rng, (245, 120, 80)))


def _draw_cake(d: ImageDraw.ImageDraw, L: int, rng: np.random.Generator) -> None:
    top, mid = ((250, 240, 230), (110, 60, 40)), ((240, 150, 170), (250, 230, 180))
    d.polygon(
        [(0.15 * L, 0.3 * L), (0.15 * L, 0.7 * L), (0.85 * L, 0.5 * L)], fill=_jitter(rng, top[int(rng.integers(2))])
    )
    d.line((0.15 * L, 0.5 * L, 0.8 * L, 0.5 * L), fill=_jitter(rng, mid[int(rng.integers(2))]), width=max(2, L // 25))
    d.ellipse((0.2 * L, 0.45 * L, 0.3 * L, 0.55 * L), fill=_jitter(rng, (200, 20, 40)))


def _draw_pretzel(d: ImageDraw.ImageDraw, L: int, rng: np.random.Generator) -> None:
    color, w = _jitter(rng, (140, 80, 35)), max(3, L // 14)
    d.arc((0.15 * L, 0.2 * L, 0.55 * L, 0.75 * L), 0, 360, fill=color, width=w)
    d.arc((0.45 * L, 0.2 * L, 0.85 * L, 0.75 * L), 0, 360, fill=color, width=w)
    d.line((0.3 * L, 0.85 * L, 0.7 * L, 0.3 * L), fill=color, width=w)
    for _ in range(int(rng.integers(5, 12))):
        x, y = rng.uniform(0.2, 0.8) * L, rng.uniform(0.25, 0.7) * L
        d.rectangle((x, y, x + L * 0.015, y + L * 0.015), fill=(250, 250, 250, 255))


def _draw_croissant(d: ImageDraw.ImageDraw, L: int, rng: np.random.Generator) -> None:
    color = (215, 150, 70)
    segments = int(rng.integers(5, 8))
    for k in range(segments):  # a crescent of overlapping lobes, fattest in the middle
        a = math.pi * (0.15 + 0.7 * k / (segments - 1))
        r = 0.07 + 0.07 * math.sin(math.pi * k / (segments - 1))
        x, y = 0.5 + 0.32 * math.cos(a), 0.35 + 0.32 * math.sin(a)
        d.ellipse(
            ((x - r) * L, (y - r) * L, (x + r) * L, (y + r) * L),
            fill=_jitter(rng, color),
            outline=_jitter(rng, (160, 95, 40)),
            width=max(1, L // 60),
        )


def _draw_waffle(d: ImageDraw.ImageDraw, L: int, rng: np.random.Generator) -> None:
    half = rng.uniform(0.28, 0.36)
    box = ((0.5 - half) * L, (0.5 - half) * L, (0.5 + half) * L, (0.5 + half) * L)
    d.rounded_rectangle(box, radius=L * 0.04, fill=_jitter(rng, (220, 165, 80)))
    cells = int(rng.integers(4, 6))
    for i in range(1, cells):  # the grid
        t = (0.5 - half + 2 * half * i / cells) * L
        line = _jitter(rng, (165, 105, 45))
        d.line((t, box[1], t, box[3]), fill=line, width=max(2, L // 40))
        d.line((box[0], t, box[2], t), fill=line, width=max(2, L // 40))


def _draw_cookie(d: ImageDraw.ImageDraw, L: int, rng: np.random.Generator) -> None:
    r = rng.uniform(0.3, 0.38)
    d.ellipse(((0.5 - r) * L, (0.5 - r) * L, (0.5 + r) * L, (0.5 + r) * L), fill=_jitter(rng, (205, 150, 85)))
    for _ in range(int(rng.integers(6, 12))):  # chocolate chips
        a, t = rng.uniform(0, 2 * math.pi), r * 0.8 * math.sqrt(rng.random())
        x, y, c = 0.5 + t * math.cos(a), 0.5 + t * math.sin(a), rng.uniform(0.025, 0.045)
        d.ellipse(((x - c) * L, (y - c) * L, (x + c) * L, (y + c) * L), fill=_jitter(rng, (70, 40, 25)))


def _draw_taco(d: ImageDraw.ImageDraw, L: int, rng: np.random.Generator) -> None:
    box = (0.1 * L, 0.25 * L, 0.9 * L, 0.95 * L)
    d.pieslice(box, 180, 360, fill=_jitter(rng, (230, 185, 80)))  # the shell, seen from the side
    for _ in range(int(rng.integers(8, 14))):  # filling along its open edge
        x = rng.uniform(0.18, 0.82) * L
        c = ((70, 150, 50), (200, 40, 35), (245, 220, 120))[int(rng.integers(3))]
        d.ellipse((x - 0.04 * L, 0.53 * L, x + 0.04 * L, 0.63 * L), fill=_jitter(rng, c))


def _draw_ice_cream(d: ImageDraw.ImageDraw, L: int, rng: np.random.Generator) -> None:
    d.polygon([(0.32 * L, 0.45 * L), (0.68 * L, 0.45 * L), (0.5 * L, 0.95 * L)], fill=_jitter(rng, (215, 160, 85)))
    for k in range(1, 4):  # the cone's criss-cross
        y = 0.45 + 0.12 * k
        d.line(
            (0.34 * L + 0.04 * k * L, y * L, 0.66 * L - 0.04 * k * L, y * L),
            fill=_jitter(rng, (165, 105, 45)),
            width=max(1, L // 60),
        )
    scoop = ((245, 235, 215), (240, 160, 185), (120, 70, 40), (180, 225, 160))[int(rng.integers(4))]
    for k in range(int(rng.integers(1, 3))):  # one or two scoops
        y = 0.33 - 0.2 * k
        d.ellipse((0.28 * L, (y - 0.17) * L, 0.72 * L, (y + 0.17) * L), fill=_jitter(rng, scoop))


FOOD_DRAWERS: dict[str, Callable[[ImageDraw.ImageDraw, int, np.random.Generator], None]] = {
    "hotdog": _draw_hotdog,
    "baguette": _draw_baguette,
    "sausage": _draw_sausage,
    "banana": _draw_banana,
    "carrot": _draw_carrot,
    "pizza": _draw_pizza,
    "burger": _draw_burger,
    "donut": _draw_donut,
    "fried_egg": _draw_fried_egg,
    "sushi": _draw_sushi,
    "cake": _draw_cake,
    "pretzel": _draw_pretzel,
}
FOODS: tuple[str, ...] = tuple(FOOD_DRAWERS)  # the mini source model's categories
# Foods the source model never saw, drawn the same way: the practice folder of notebook 06 uses them, so that
# its features know the look of food but not these shapes.
NEW_FOOD_DRAWERS: dict[str, Callable[[ImageDraw.ImageDraw, int, np.random.Generator], None]] = {
    "cookie": _draw_cookie,
    "croissant": _draw_croissant,
    "ice_cream": _draw_ice_cream,
    "taco": _draw_taco,
    "waffle": _draw_waffle,
}
_DRAWERS = {**FOOD_DRAWERS, **NEW_FOOD_DRAWERS}  # what `render_food` can draw


def _table(rng: np.random.Generator, w: int, h: int) -> Image.Image:
    base = _TABLES[int(rng.integers(len(_TABLES)))]
    img = Image.new("RGB", (w, h), _jitter(rng, base, 25)[:3])
    d = ImageDraw.Draw(img)
    style = rng.integers(3)
    if style == 0:  # wood grain
        for _ in range(int(rng.integers(4, 10))):
            y = rng.uniform(0, h)
            d.line((0, y, w, y + rng.uniform(-h / 6, h / 6)), fill=_jitter(rng, base, 40)[:3], width=max(1, h // 40))
    elif style == 1:  # checked cloth
        step = int(rng.integers(w // 8 + 2, w // 3 + 3))
        tint = _jitter(rng, (250, 250, 250), 10)[:3]
        for x in range(0, w, 2 * step):
            d.rectangle((x, 0, x + step, h), fill=tint)
    return img


def render_food(food: str, rng: np.random.Generator, size: tuple[int, int]) -> Image.Image:
    """Draw one photo of `food` (a key of `FOOD_DRAWERS` or `NEW_FOOD_DRAWERS`) of `size` (width, height) as an
    RGB image."""
    w, h = (s * _SUPERSAMPLE for s in size)
    img = _table(rng, w, h)
    short = min(w, h)
    if rng.random() < 0.6:
        r = short * rng.uniform(0.4, 0.5)
        cx, cy = w / 2 + rng.uniform(-0.1, 0.1) * w, h / 2 + rng.uniform(-0.1, 0.1) * h
        ImageDraw.Draw(img).ellipse(
            (cx - r, cy - r, cx + r, cy + r), fill=_jitter(rng, _PLATES[int(rng.integers(len(_PLATES)))], 8)[:3]
        )
    L = int(short * rng.uniform(0.6, 1.0))
    layer = Image.new("RGBA", (L, L), (0, 0, 0, 0))
    _DRAWERS[food](ImageDraw.Draw(layer), L, rng)
    layer = layer.rotate(float(rng.uniform(0, 360)), resample=Image.BICUBIC)
    x = int((w - L) / 2 + rng.uniform(-0.15, 0.15) * w)
    y = int((h - L) / 2 + rng.uniform(-0.15, 0.15) * h)
    img.paste(layer, (x, y), layer)
    d = ImageDraw.Draw(img)
    for _ in range(int(rng.integers(0, 6))):  # crumbs and herbs
        cx, cy, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(0.01, 0.03) * short
        d.ellipse(
            (cx - r, cy - r, cx + r, cy + r),
            fill=_jitter(rng, ((60, 140, 50), (220, 180, 110), (120, 70, 40))[int(rng.integers(3))], 30)[:3],
        )
    img = img.resize(size, Image.LANCZOS)
    if rng.random() < 0.3:
        img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.0)))
    pixels = np.asarray(img, dtype=np.float32) * rng.uniform(0.7, 1.2)  # lighting
    pixels += rng.normal(0, rng.uniform(2, 10), pixels.shape)  # sensor noise
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def random_size(
    rng: np.random.Generator, short_range: tuple[int, int] = (72, 112), max_aspect: float = 1.8
) -> tuple[int, int]:
    """Pick a (width, height) with the shorter side in `short_range` and a varied aspect ratio."""
    short = int(rng.integers(short_range[0], short_range[1] + 1))
    aspect = float(np.exp(rng.uniform(0, np.log(max_aspect))))
    long_ = int(round(short * aspect))
    return (long_, short) if rng.random() < 0.6 else (short, long_)


def image_rng(namespace: str, label: str, index: int) -> np.random.Generator:
    """A generator seeded from (namespace, label, index): the same image every run, distinct sets never overlap."""
    seed = int.from_bytes(hashlib.sha256(f"{namespace}/{label}/{index}".encode()).digest()[:8], "little")
    return np.random.default_rng(seed)
