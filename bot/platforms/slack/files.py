"""Evidence shared in a Slack DM: downloaded with the bot token, checked, then kept.

A refused file (Slack's HTML login page instead of the file, too big, a disallowed type)
becomes a reply for the person; the rest of their message goes on.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

from bot.dispatch import BotService
from bot.domain.evidence import EvidenceFile, EvidenceRefused
from bot.platforms.download import fetch_evidence


async def download_all(
    service: BotService,
    http: aiohttp.ClientSession | None,
    token: str,
    files: list[dict[str, Any]],
) -> tuple[tuple[EvidenceFile, ...], list[str]]:
    """The files kept, and a sentence for each one refused."""
    kept: list[EvidenceFile] = []
    refusals: list[str] = []
    for info in files:
        name = info.get("name") or "file"
        try:
            data, declared = await _download(http, token, service.kernel.max_evidence_bytes, info)
            kept.append(
                await asyncio.to_thread(service.kernel.store_evidence, name, declared, data)
            )
        except EvidenceRefused as refusal:
            refusals.append(str(refusal))
    return tuple(kept), refusals


async def _download(
    http: aiohttp.ClientSession | None, token: str, max_bytes: int, info: dict[str, Any]
) -> tuple[bytes, str | None]:
    name = info.get("name") or "file"
    url = info.get("url_private_download") or info.get("url_private")
    if not url:
        raise EvidenceRefused(f"I couldn't download {name}. Please try sending it again.")
    session = http or aiohttp.ClientSession()  # a handler driven without the server's start
    try:
        data, declared = await fetch_evidence(
            session, url, name, max_bytes, "Slack", headers={"Authorization": f"Bearer {token}"}
        )
    finally:
        if http is None:
            await session.close()
    return data, declared or info.get("mimetype")
