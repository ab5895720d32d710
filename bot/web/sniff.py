"""Is this really an image? Only files whose first bytes say so are shown in the page."""

from __future__ import annotations

SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def sniffed_image_type(head: bytes) -> str | None:
    """The image type the bytes prove, or None (then the file is only ever downloaded)."""
    for magic, kind in SIGNATURES:
        if head.startswith(magic):
            return kind
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None
