#!/usr/bin/python3
"""Writes the cv2.imread reference fixtures used by TurboJpegFixtureTests.

Run with Debian's interpreter (it has python3-opencv):  /usr/bin/python3 make_jpeg_fixtures.py [SHARED_DATA]
SHARED_DATA defaults to ../shared/data beside the repository root (the team's shared photos).

Output, deterministic (sorted rows, fixed seeds):
  jpeg/imread-samples.csv    one row per JPEG in SHARED_DATA/imagenet-samples that cv2.imread decodes
  jpeg/imread-synthetic.csv  one row per small synthetic JPEG below, which are written beside it
  jpeg/synthetic/*.jpg       made by cv2.imencode: 4:2:0 with partial MCUs, grayscale, progressive, 1x1, and EXIF
                             orientations 2 to 8 (an APP1 segment spliced in after SOI). OpenCV 4.6 cannot choose the
                             chroma subsampling; the shared photos cover 4:4:4, 4:2:2 and 4:4:0.

CSV columns: file,height,width,sha256
  height, width  of cv2.imread(path, cv2.IMREAD_COLOR), i.e. after EXIF orientation
  sha256         of those pixels converted to RGB (cv2.cvtColor(img, cv2.COLOR_BGR2RGB)): interleaved R, G, B bytes,
                 row-major, no padding
No pixels of the shared photos are stored here, only their hashes (the photos may not be copied into the repository).
"""
import csv
import hashlib
import os
import struct
import sys

import cv2
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "jpeg")
SYNTHETIC = os.path.join(OUT, "synthetic")
REPO_ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))


def rgb_hash(path):
    img = cv2.imread(path, cv2.IMREAD_COLOR)
    if img is None:
        return None
    rgb = np.ascontiguousarray(cv2.cvtColor(img, cv2.COLOR_BGR2RGB))
    return rgb.shape[0], rgb.shape[1], hashlib.sha256(rgb.tobytes()).hexdigest()


def write_csv(path, rows):
    with open(path, "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["file", "height", "width", "sha256"])
        writer.writerows(sorted(rows))


def pattern(h, w, seed):
    """Gradients, hard edges and a little noise: chroma upsampling and the IDCT both matter."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    img = np.empty((h, w, 3), dtype=np.float64)
    img[..., 0] = 128 + 100 * np.sin(x / 5.0) * np.cos(y / 7.0)
    img[..., 1] = 255 * x / max(w - 1, 1)
    img[..., 2] = 255 * y / max(h - 1, 1)
    img[(x // 6 + y // 6) % 2 == 0, 1] = 240
    img += np.random.default_rng(seed).normal(0, 8, size=img.shape)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def with_orientation(jpeg, orientation):
    """Inserts a big-endian EXIF APP1 segment holding only the Orientation tag (0x0112, SHORT) after SOI."""
    tiff = b"MM\x00\x2a" + struct.pack(">I", 8) + struct.pack(">H", 1) + struct.pack(">HHIHH", 0x0112, 3, 1, orientation, 0) + struct.pack(">I", 0)
    payload = b"Exif\x00\x00" + tiff
    app1 = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    assert jpeg[:2] == b"\xff\xd8"
    return jpeg[:2] + app1 + jpeg[2:]


def encode(img, params):
    ok, data = cv2.imencode(".jpg", img, params)
    assert ok
    return data.tobytes()


def synthetic():
    bgr = pattern(23, 37, 1)  # odd sizes: partial MCUs at the right and bottom edges
    cases = {
        "420-37x23.jpg": encode(bgr, [cv2.IMWRITE_JPEG_QUALITY, 90]),
        "gray-37x23.jpg": encode(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY), [cv2.IMWRITE_JPEG_QUALITY, 90]),
        "progressive-37x23.jpg": encode(bgr, [cv2.IMWRITE_JPEG_QUALITY, 90, cv2.IMWRITE_JPEG_PROGRESSIVE, 1]),
        "1x1.jpg": encode(pattern(1, 1, 2), [cv2.IMWRITE_JPEG_QUALITY, 90]),
    }
    # Not square, not symmetric: every orientation gives a different image.
    stored = encode(pattern(20, 33, 3), [cv2.IMWRITE_JPEG_QUALITY, 90])
    for orientation in range(2, 9):
        cases[f"orientation-{orientation}-33x20.jpg"] = with_orientation(stored, orientation)
    os.makedirs(SYNTHETIC, exist_ok=True)
    rows = []
    for name, data in cases.items():
        path = os.path.join(SYNTHETIC, name)
        with open(path, "wb") as f:
            f.write(data)
        h, w, digest = rgb_hash(path)
        rows.append((name, h, w, digest))
    write_csv(os.path.join(OUT, "imread-synthetic.csv"), rows)
    return len(rows)


def samples(shared):
    folder = os.path.join(shared, "imagenet-samples")
    rows, skipped = [], []
    for name in sorted(os.listdir(folder)):
        if not name.lower().endswith((".jpeg", ".jpg")):
            continue
        result = rgb_hash(os.path.join(folder, name))
        if result is None:
            skipped.append(name)
        else:
            rows.append((name, *result))
    write_csv(os.path.join(OUT, "imread-samples.csv"), rows)
    return len(rows), skipped


def main():
    shared = sys.argv[1] if len(sys.argv) > 1 else os.path.join(REPO_ROOT, "..", "shared", "data")
    os.makedirs(OUT, exist_ok=True)
    count, skipped = samples(shared)
    made = synthetic()
    print(f"{count} shared photos hashed ({len(skipped)} not decoded by cv2.imread: {skipped}), {made} synthetic JPEGs, "
          f"OpenCV {cv2.__version__}")


if __name__ == "__main__":
    main()
