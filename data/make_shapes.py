"""Generate the small "shapes" dataset (circle / square / triangle, 128x128 RGB).

Layout, loadable with ``torchvision.datasets.ImageFolder``::

    data/shapes/train/{circle,square,triangle}/000.png ... 059.png   (60 per class)
    data/shapes/test/{circle,square,triangle}/000.png ... 019.png    (20 per class)

Every image has a random (seeded) background colour, shape colour, size,
position and rotation, plus a little pixel noise.  Each image gets its own
random generator seeded from (SEED, split, class, index), so the output is
byte-for-byte reproducible.  The script deletes any old ``data/shapes`` tree,
rewrites it, and rewrites ``data/SHA256SUMS``::

    python data/make_shapes.py

(Byte-identical PNGs assume the same Pillow/zlib build; the pixels themselves
do not depend on it.)
"""

from __future__ import annotations

import math
import shutil
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parent))
from checksums import DATA_DIR, write_sha256sums

SEED = 2024
SIZE = 128
SUPERSAMPLE = 4          # draw at 4x and downscale: smooth (anti-aliased) edges
CLASSES = ("circle", "square", "triangle")
SPLITS = {"train": 60, "test": 20}
NOISE_STD = 6.0          # std of the Gaussian pixel noise (0..255 scale)
NOISE_BLOCK = 2          # noise is drawn per 2x2 block (keeps PNGs small)
MIN_COLOUR_DIST = 120.0  # min Euclidean RGB distance between shape and background
OUT_DIR = DATA_DIR / "shapes"


def random_colour(rng: np.random.Generator) -> tuple[int, int, int]:
    return tuple(int(c) for c in rng.integers(0, 256, size=3))


def polygon(cx: float, cy: float, radius: float, n: int, angle: float) -> list[tuple[float, float]]:
    return [
        (cx + radius * math.cos(angle + 2 * math.pi * k / n),
         cy + radius * math.sin(angle + 2 * math.pi * k / n))
        for k in range(n)
    ]


def make_image(shape: str, rng: np.random.Generator) -> Image.Image:
    background = random_colour(rng)
    while True:
        colour = random_colour(rng)
        if math.dist(colour, background) >= MIN_COLOUR_DIST:
            break

    # Circumradius in output pixels; the whole shape stays inside the image.
    radius = float(rng.uniform(16, 44))
    margin = radius + 2
    cx = float(rng.uniform(margin, SIZE - margin))
    cy = float(rng.uniform(margin, SIZE - margin))
    angle = float(rng.uniform(0, 2 * math.pi))

    s = SUPERSAMPLE
    big = Image.new("RGB", (SIZE * s, SIZE * s), background)
    draw = ImageDraw.Draw(big)
    if shape == "circle":
        r = radius * 0.85  # a circle of the full circumradius looks much bigger
        draw.ellipse([(cx - r) * s, (cy - r) * s, (cx + r) * s, (cy + r) * s], fill=colour)
    elif shape == "square":
        draw.polygon([(x * s, y * s) for x, y in polygon(cx, cy, radius, 4, angle)], fill=colour)
    elif shape == "triangle":
        draw.polygon([(x * s, y * s) for x, y in polygon(cx, cy, radius, 3, angle)], fill=colour)
    else:
        raise ValueError(shape)
    img = big.resize((SIZE, SIZE), Image.Resampling.BOX)

    # A little noise, shared by the three channels, constant over 2x2 blocks.
    b = NOISE_BLOCK
    noise = rng.normal(0.0, NOISE_STD, size=(SIZE // b, SIZE // b))
    noise = np.rint(noise).repeat(b, axis=0).repeat(b, axis=1)[:, :, None]
    pixels = np.asarray(img, dtype=np.float64) + noise
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")


def main() -> None:
    if OUT_DIR.exists():
        shutil.rmtree(OUT_DIR)
    total = 0
    for split_id, (split, count) in enumerate(SPLITS.items()):
        for class_id, shape in enumerate(CLASSES):
            folder = OUT_DIR / split / shape
            folder.mkdir(parents=True)
            for i in range(count):
                rng = np.random.default_rng([SEED, split_id, class_id, i])
                path = folder / f"{i:03d}.png"
                make_image(shape, rng).save(path, format="PNG", optimize=True)
                total += path.stat().st_size
    sums = write_sha256sums(DATA_DIR)
    n = sum(SPLITS.values()) * len(CLASSES)
    print(f"wrote {n} images to {OUT_DIR} ({total / 1e6:.2f} MB) and {sums}")


if __name__ == "__main__":
    main()
