#!/usr/bin/env python3
"""Draws Rapport's app icon and writes the PNG (RGBA) and ICO files Tauri bundles.

No ImageMagick on the build machines, so the icon is drawn here with the standard
library only: a rounded teal square with two overlapping rings (two people in rapport).
Run from anywhere: `python3 src-tauri/icons/generate.py`. The output is deterministic,
so re-running it leaves the committed files unchanged.
"""

import math
import struct
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
BG_TOP = (20, 128, 120)
BG_BOTTOM = (12, 84, 96)
RING = (255, 255, 255)


def coverage(dist_outside: float) -> float:
    """Anti-aliasing: 1 inside, 0 outside, linear across one pixel of edge."""
    return max(0.0, min(1.0, 0.5 - dist_outside))


def rounded_square_distance(x: float, y: float, size: float, radius: float) -> float:
    half = size / 2
    qx = abs(x - half) - (half - radius)
    qy = abs(y - half) - (half - radius)
    outside = math.hypot(max(qx, 0.0), max(qy, 0.0))
    inside = min(max(qx, qy), 0.0)
    return outside + inside - radius


def pixel(x: int, y: int, size: int) -> tuple[int, int, int, int]:
    cx, cy = x + 0.5, y + 0.5
    s = float(size)
    bg_alpha = coverage(rounded_square_distance(cx, cy, s, s * 0.22))
    if bg_alpha == 0.0:
        return (0, 0, 0, 0)
    t = cy / s
    color = [BG_TOP[i] * (1 - t) + BG_BOTTOM[i] * t for i in range(3)]
    ring_r, width = s * 0.2, max(1.0, s * 0.065)
    ring = 0.0
    for ox in (-0.11, 0.11):
        d = abs(math.hypot(cx - s * (0.5 + ox), cy - s * 0.5) - ring_r) - width / 2
        ring = max(ring, coverage(d))
    color = [c * (1 - ring) + RING[i] * ring for i, c in enumerate(color)]
    return (round(color[0]), round(color[1]), round(color[2]), round(255 * bg_alpha))


def png_bytes(size: int) -> bytes:
    raw = bytearray()
    for y in range(size):
        raw.append(0)  # filter type: none
        for x in range(size):
            raw.extend(pixel(x, y, size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(raw), 9))
        + chunk(b"IEND", b"")
    )


def ico_bytes(images: list[tuple[int, bytes]]) -> bytes:
    """An ICO holding PNG-compressed images (valid since Windows Vista)."""
    out = struct.pack("<HHH", 0, 1, len(images))
    offset = 6 + 16 * len(images)
    for size, data in images:
        dim = 0 if size >= 256 else size
        out += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(data), offset)
        offset += len(data)
    return out + b"".join(data for _, data in images)


def main() -> None:
    outputs = {"32x32.png": 32, "128x128.png": 128, "128x128@2x.png": 256, "icon.png": 512}
    cache: dict[int, bytes] = {}
    for name, size in outputs.items():
        cache[size] = png_bytes(size)
        (HERE / name).write_bytes(cache[size])
    (HERE / "icon.ico").write_bytes(ico_bytes([(32, cache[32]), (256, cache[256])]))


if __name__ == "__main__":
    main()
