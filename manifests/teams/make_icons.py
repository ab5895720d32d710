"""Draw the Teams app icons with the standard library only: `python manifests/teams/make_icons.py`.

color.png is 192×192 (a white speech bubble with a tick on the accent colour); outline.png
is 32×32, white on transparent, as Teams requires.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

ACCENT = (0x1F, 0x5F, 0x8B, 255)
WHITE = (255, 255, 255, 255)
CLEAR = (0, 0, 0, 0)
Pixel = tuple[int, int, int, int]


def png(path: Path, pixels: list[list[Pixel]]) -> None:
    height, width = len(pixels), len(pixels[0])
    raw = b"".join(b"\x00" + b"".join(bytes(p) for p in row) for row in pixels)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8-bit RGBA
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def bubble(size: int, x: float, y: float) -> bool:
    """A rounded speech bubble filling most of a size×size square, with a tail."""
    u, v = x / size, y / size
    left, right, top, bottom, r = 0.16, 0.84, 0.18, 0.70, 0.12
    cx = min(max(u, left + r), right - r)
    cy = min(max(v, top + r), bottom - r)
    inside = (u - cx) ** 2 + (v - cy) ** 2 <= r * r and left <= u <= right and top <= v <= bottom
    tail = 0.70 <= v <= 0.86 and 0.28 <= u <= 0.28 + (0.86 - v) * 1.2
    return inside or tail


def tick(size: int, x: float, y: float, width: float) -> bool:
    u, v = x / size, y / size

    def near(ax: float, ay: float, bx: float, by: float) -> bool:
        dx, dy = bx - ax, by - ay
        t = max(0.0, min(1.0, ((u - ax) * dx + (v - ay) * dy) / (dx * dx + dy * dy)))
        return (u - ax - t * dx) ** 2 + (v - ay - t * dy) ** 2 <= width * width

    return near(0.34, 0.44, 0.46, 0.56) or near(0.46, 0.56, 0.68, 0.32)


def color_icon(size: int = 192) -> list[list[Pixel]]:
    return [
        [
            (ACCENT if tick(size, x + 0.5, y + 0.5, 0.045) else WHITE)
            if bubble(size, x + 0.5, y + 0.5)
            else ACCENT
            for x in range(size)
        ]
        for y in range(size)
    ]


def outline_icon(size: int = 32) -> list[list[Pixel]]:
    return [
        [
            WHITE
            if bubble(size, x + 0.5, y + 0.5) and not tick(size, x + 0.5, y + 0.5, 0.06)
            else CLEAR
            for x in range(size)
        ]
        for y in range(size)
    ]


if __name__ == "__main__":
    here = Path(__file__).parent
    png(here / "color.png", color_icon())
    png(here / "outline.png", outline_icon())
