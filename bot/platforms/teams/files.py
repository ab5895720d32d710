"""Evidence from Teams messages: file attachments and pasted images, checked like Slack's.

A file shared in a personal chat arrives as `application/vnd.microsoft.teams.file.download.info`
with a pre-authenticated `downloadUrl`; a pasted image arrives as `image/*` with a
`contentUrl` that needs the bot's token. The token is only ever sent to the Bot Connector's
own hosts, never to a URL someone put in a message.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from botbuilder.schema import Attachment

from bot.domain.evidence import EvidenceFile, EvidenceRefused
from bot.kernel.core import Kernel
from bot.platforms.download import fetch_evidence

log = logging.getLogger(__name__)
FILE_INFO = "application/vnd.microsoft.teams.file.download.info"
TOKEN_HOST_SUFFIXES = (
    ".botframework.com",
    ".trafficmanager.net",
    ".skype.com",
    ".teams.microsoft.com",
)


def _evidence_attachments(attachments: list[Attachment] | None) -> list[Attachment]:
    """The attachments that are files (not the HTML copy of the text, not cards)."""
    return [
        a
        for a in attachments or []
        if a.content_type == FILE_INFO
        or ((a.content_type or "").startswith("image/") and a.content_url)
    ]


def has_files(attachments: list[Attachment] | None) -> bool:
    return bool(_evidence_attachments(attachments))


def _token_allowed(url: str, service_url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return host == (urlsplit(service_url).hostname or "").lower() or host.endswith(
        TOKEN_HOST_SUFFIXES
    )


class TeamsFiles:
    def __init__(self, kernel: Kernel, session: Callable[[], aiohttp.ClientSession]):
        self.kernel = kernel
        self.max_bytes = kernel.max_evidence_bytes
        self._session = session

    async def fetch_all(
        self,
        attachments: list[Attachment] | None,
        service_url: str,
        token: Callable[[], Awaitable[str | None]],
    ) -> tuple[tuple[EvidenceFile, ...], list[str]]:
        kept: list[EvidenceFile] = []
        refusals: list[str] = []
        for attachment in _evidence_attachments(attachments):
            name = attachment.name or "image.png"
            try:
                if attachment.content_type == FILE_INFO:
                    content: dict[str, Any] = attachment.content or {}
                    url, bearer = content.get("downloadUrl"), None
                else:
                    url = attachment.content_url
                    bearer = await token() if _token_allowed(url, service_url) else None
                if not url:
                    raise EvidenceRefused(
                        f"I couldn't download {name}. Please try sending it again."
                    )
                data, declared = await self._download(name, url, bearer)
                declared = declared or (
                    attachment.content_type if attachment.content_type != FILE_INFO else None
                )
                kept.append(
                    await asyncio.to_thread(self.kernel.store_evidence, name, declared, data)
                )
            except EvidenceRefused as refusal:
                refusals.append(str(refusal))
        return tuple(kept), refusals

    async def _download(self, name: str, url: str, bearer: str | None) -> tuple[bytes, str | None]:
        headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
        return await fetch_evidence(
            self._session(), url, name, self.max_bytes, "Teams", headers=headers
        )
