"""Fetching an evidence file from a chat platform, the same way for every platform.

It reads at most one byte past the limit, so check_evidence can refuse an oversized file
or a sign-in page with the same words whichever platform it came from.
"""

from __future__ import annotations

import logging

import aiohttp

from bot.domain.evidence import EvidenceRefused

log = logging.getLogger(__name__)


async def fetch_evidence(
    http: aiohttp.ClientSession,
    url: str,
    name: str,
    max_bytes: int,
    platform: str,
    *,
    headers: dict[str, str] | None = None,
) -> tuple[bytes, str | None]:
    """(the bytes, the Content-Type the server declared); EvidenceRefused if it failed."""
    try:
        async with http.get(
            url, headers=headers or {}, timeout=aiohttp.ClientTimeout(total=60)
        ) as response:
            if response.status != 200:
                raise EvidenceRefused(
                    f"I couldn't download {name} ({platform} said {response.status}). "
                    "Please try sending it again."
                )
            data = bytearray()
            async for chunk in response.content.iter_chunked(64 * 1024):
                data += chunk
                if len(data) > max_bytes:
                    break
            return bytes(data), response.headers.get("Content-Type")
    except (aiohttp.ClientError, TimeoutError) as exc:
        log.warning("%s file download failed: %s", platform, type(exc).__name__)
        raise EvidenceRefused(f"I couldn't download {name}. Please try sending it again.") from exc
