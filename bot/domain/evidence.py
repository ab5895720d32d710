"""Evidence files (CB-EVIDENCE): what is accepted, and the fingerprint each one is stored with."""

from __future__ import annotations

import hashlib
import mimetypes
from dataclasses import dataclass

from bot.domain.messages import plain_name

ALLOWED_TYPES = (
    "image/png", "image/jpeg", "image/gif", "image/webp", "image/heic", "image/heif",
    "application/pdf", "text/plain", "video/mp4", "video/quicktime", "audio/mpeg", "audio/mp4",
    "audio/x-m4a", "audio/wav", "message/rfc822", "application/vnd.ms-outlook",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
)  # fmt: skip


# What each accepted type is called in a message; people never see a MIME type.
TYPE_LABELS = {
    "image/png": "PNG image",
    "image/jpeg": "JPEG image",
    "image/gif": "GIF image",
    "image/webp": "WebP image",
    "image/heic": "HEIC photo",
    "image/heif": "HEIF photo",
    "application/pdf": "PDF document",
    "text/plain": "text file",
    "video/mp4": "MP4 video",
    "video/quicktime": "QuickTime video",
    "audio/mpeg": "MP3 audio",
    "audio/mp4": "M4A audio",
    "audio/x-m4a": "M4A audio",
    "audio/wav": "WAV audio",
    "message/rfc822": "saved email",
    "application/vnd.ms-outlook": "Outlook message",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word document",
}


def type_label(content_type: str, filename: str = "") -> str:
    """ "PNG image", "PDF document"; for other types, the file's extension ("EXE file")."""
    if content_type in TYPE_LABELS:
        return TYPE_LABELS[content_type]
    extension = filename.rsplit(".", 1)[-1] if "." in filename else ""
    if extension.isascii() and extension.isalnum() and len(extension) <= 8:
        return f"{extension.upper()} file"
    return "file of an unknown type"


class EvidenceRefused(Exception):
    """A file we will not keep, with a message that tells the user what to do instead."""


@dataclass(frozen=True)
class EvidenceFile:
    filename: str
    content_type: str
    size: int
    sha256: str

    def describe(self) -> str:
        """For people: "shot.png (PNG image, 12 bytes)"."""
        kind = type_label(self.content_type, self.filename)
        return f"{plain_name(self.filename)} ({kind}, {human_size(self.size)})"


def human_size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def _looks_like_html(data: bytes) -> bool:
    head = data[:512].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html", b"<head", b"<meta"))


def sniff_type(filename: str, declared: str | None) -> str:
    declared = (declared or "").split(";")[0].strip().lower()
    if declared and declared != "application/octet-stream":
        return declared
    guessed, _ = mimetypes.guess_type(filename)
    return guessed or "application/octet-stream"


def check_evidence(
    filename: str, declared_type: str | None, data: bytes, max_bytes: int
) -> EvidenceFile:
    """Refuse login pages, oversized and unexpected files; fingerprint the rest."""
    name = plain_name(filename or "file").replace("/", "_").replace("\\", "_")[:200]
    if len(data) > max_bytes:
        raise EvidenceRefused(
            f"{name} is {human_size(len(data))}, over the {human_size(max_bytes)} limit. "
            "Please send a smaller screenshot or a shorter clip."
        )
    if not data:
        raise EvidenceRefused(f"{name} arrived empty. Please try sending it again.")
    kind = sniff_type(name, declared_type)
    if kind == "text/html" or _looks_like_html(data):
        raise EvidenceRefused(
            f"I couldn't download {name}: I got a sign-in page instead of the file. "
            "Please try sending it again, or take a screenshot and send that."
        )
    if kind not in ALLOWED_TYPES:
        extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        what = (
            f".{extension} files"
            if extension.isascii() and extension.isalnum() and len(extension) <= 8
            else "files of that type"
        )
        raise EvidenceRefused(
            f"I can't keep {name} because {what} aren't accepted. "
            "Screenshots, photos, PDFs, videos, audio and text files are fine."
        )
    return EvidenceFile(name, kind, len(data), hashlib.sha256(data).hexdigest())
