#!/usr/bin/python3
"""Writes the cv2.resize(INTER_CUBIC) reference fixtures used by BicubicResizerTests.

Run with Debian's interpreter (it has python3-opencv):  /usr/bin/python3 make_resize_fixtures.py
Output: Fixtures/resize/<name>.bin.gz, one case per file, deterministic (fixed seeds, gzip mtime 0).

File layout (after gunzip), little-endian:
  4 bytes   magic b"RSZ1"
  7 x int32 source height, source width, crop top, crop left, crop height, crop width, output size R
  H*W*3     source pixels, interleaved 3-channel uint8, row-major
  R*R*3     expected cv2.resize(source[top:top+h, left:left+w], (R, R), interpolation=cv2.INTER_CUBIC)

Resizing treats channels independently, so channel order does not matter here. No photos are stored:
sources are seeded noise, gradients, hard edges and a checkerboard (saturation at 0 and 255).
"""
import gzip
import os
import struct

import cv2
import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "resize")


def noise(seed, h, w):
    return np.random.default_rng(seed).integers(0, 256, size=(h, w, 3), dtype=np.uint8)


def photo_like(h, w):
    """Smooth gradients plus hard-edged shapes: compresses well (no noise), and the edges make cubic ring."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    img = np.empty((h, w, 3), dtype=np.float64)
    img[..., 0] = 128 + 100 * np.sin(x / 23.0) * np.cos(y / 31.0)
    img[..., 1] = 255 * x / max(w - 1, 1)
    img[..., 2] = 255 * y / max(h - 1, 1)
    img[(x // 40 + y // 40) % 2 == 0, 1] = 250  # hard edges drive cubic over/undershoot
    img[((x - w / 2) ** 2 + (y - h / 2) ** 2) < (min(h, w) / 5) ** 2] = (5, 250, 10)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def checkerboard(h, w, cell):
    y, x = np.mgrid[0:h, 0:w]
    board = np.where(((x // cell) + (y // cell)) % 2 == 0, 255, 0).astype(np.uint8)
    return np.repeat(board[..., None], 3, axis=2)


def write(name, src, crop, r):
    top, left, ch, cw = crop
    expected = cv2.resize(src[top:top + ch, left:left + cw], (r, r), interpolation=cv2.INTER_CUBIC)
    assert expected.shape == (r, r, 3) and expected.dtype == np.uint8
    h, w = src.shape[:2]
    payload = b"RSZ1" + struct.pack("<7i", h, w, top, left, ch, cw, r) + src.tobytes() + expected.tobytes()
    with open(os.path.join(OUT, name + ".bin.gz"), "wb") as f:
        f.write(gzip.compress(payload, compresslevel=9, mtime=0))


def main():
    os.makedirs(OUT, exist_ok=True)
    write("noise-37x23-down-16", noise(1, 23, 37), (0, 0, 23, 37), 16)
    write("noise-37x23-up-50", noise(2, 23, 37), (0, 0, 23, 37), 50)
    write("noise-64x48-crop-up-57", noise(3, 48, 64), (5, 9, 40, 40), 57)  # 57*3 % 8 != 0: scalar tail
    write("noise-90x100-crop-down-33", noise(4, 100, 90), (11, 3, 77, 77), 33)
    write("noise-5x3-up-8", noise(5, 3, 5), (0, 0, 3, 5), 8)  # every tap hits a border
    write("noise-1x1-up-4", noise(6, 1, 1), (0, 0, 1, 1), 4)
    write("checker-20x20-up-31", checkerboard(20, 20, 3), (0, 0, 20, 20), 31)  # saturates at 0 and 255
    write("checker-40x40-down-7", checkerboard(40, 40, 1), (0, 0, 40, 40), 7)
    write("gradient-60x80-crop-down-45", photo_like(60, 80), (4, 14, 52, 52), 45)
    # A centre crop as the pipeline makes it: 200x150 at R = 112 -> c = 116.67, top 17, left 42, 116x116.
    write("photo-like-200x150-crop-112", photo_like(150, 200), (17, 42, 116, 116), 112)
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f"wrote {len(os.listdir(OUT))} fixtures, {total} bytes, OpenCV {cv2.__version__}")


if __name__ == "__main__":
    main()
