"""The security headers every answer of the server carries: the workspace's pages, the
privacy and terms pages, the health checks and the chat doors alike.

No page of ours runs a script, so the Content-Security-Policy allows none; a page may
bring its own stylesheet or one inline `<style>` whose hash it declares (EXTRA_STYLES).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
import unicodedata
from urllib.parse import quote

from aiohttp import web

from bot.domain.messages import plain_name

CSP = (
    "default-src 'none'; style-src 'self'{styles}; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
EXTRA_STYLES: list[str] = []  # inline <style> texts allowed by hash (the privacy pages')


def style_hash(css: str) -> str:
    """The CSP source that lets exactly this inline stylesheet apply."""
    digest = hashlib.sha256(css.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


def security_headers_for() -> dict[str, str]:
    return _headers(tuple(EXTRA_STYLES))


@functools.cache
def _headers(extra_styles: tuple[str, ...]) -> dict[str, str]:
    styles = "".join(f" {style_hash(css)}" for css in extra_styles)
    return {
        "Content-Security-Policy": CSP.format(styles=styles),
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
    }


async def add_security_headers(_request: web.BaseRequest, response: web.StreamResponse) -> None:
    """On every answer just before its headers go (an app's on_response_prepare signal):
    pages, errors, files and streamed downloads alike. A header already set is kept."""
    for name, value in security_headers_for().items():
        response.headers.setdefault(name, value)


def _ascii(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9_-]+", "_", plain).strip("_")


def content_disposition(kind: str, filename: str) -> str:
    """`attachment` or `inline` with the name as RFC 6266 says: an ASCII fallback for old
    clients, and the real name in UTF-8 (`filename*`) for the rest. No bidi controls."""
    name = plain_name(filename).replace("/", "_").replace("\\", "_")[:200] or "file"
    stem, dot, extension = name.rpartition(".") if "." in name else (name, "", "")
    fallback = (_ascii(stem) or "file")[:100] + (f".{_ascii(extension)[:10]}" if dot else "")
    return f"{kind}; filename=\"{fallback.rstrip('.')}\"; filename*=UTF-8''{quote(name, safe='')}"
