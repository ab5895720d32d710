"""The web workspace test harness: our real aiohttp app with the workspace mounted.

A DSL, an SLT member and two members of staff; a cyberbullying case about a pupil with two
evidence files (a real PNG and a PDF), reported by "dan". Sign-in links are issued the
way the chat's "Open in browser" does, and followed over real HTTP.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer

from bot.app import RedactingAccessLogger, create_app
from bot.dispatch import BotService
from bot.domain.turns import StaffMessage
from bot.storage import repository as repo
from bot.storage.tables import Evidence
from bot.web.access import WebAccess
from tests.helpers import grant, make_service, say

CB_ABOUT_PUPIL = [
    "someone is posting nasty things about a pupil",
    "no",  # nobody in danger right now
    "bullying or abuse",
    "instagram",
    "https://instagram.example/p/1",
    "yesterday 8pm",
    "MARKER-DESCRIPTION mean posts about a year 9 pupil",
]


def tiny_png() -> bytes:
    """A real 1x1 PNG, so a browser can draw it."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")

    header = (1).to_bytes(4, "big") * 2 + bytes([8, 2, 0, 0, 0])
    pixels = zlib.compress(b"\x00\xcc\x22\x22")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@dataclass
class Workspace:
    server: TestServer
    service: BotService
    access: WebAccess
    case_ref: str

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))

    def link(self, user: str, name: str | None = None, ref: str | None = None) -> str:
        path = f"/web/cases/{ref}" if ref else "/web/"
        return self.access.issue_link("console", user, name or user, path)

    async def signed_in(self, user: str, name: str | None = None) -> aiohttp.ClientSession:
        """A browser-like client that followed a fresh sign-in link."""
        http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        async with http.get(self.link(user, name)) as response:
            assert response.status == 200, await response.text()
        return http


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def open_case(service: BotService) -> str:
    """A cyberbullying report about a pupil with a PNG and a PDF, by "dan"."""
    say(service, "dan", *CB_ABOUT_PUPIL)
    png = service.kernel.store_evidence("MARKER-shot.png", "image/png", tiny_png())
    pdf = service.kernel.store_evidence("MARKER-letter.pdf", "application/pdf", PDF_BYTES)
    service.receive(StaffMessage("console", "dan", "", files=[png], name="Dan Smith"))
    service.receive(StaffMessage("console", "dan", "", files=[pdf], name="Dan Smith"))
    replies = say(service, "dan", "done", "no", "no")
    text = " ".join(replies)
    match = re.search(r"CB-\d{4}", text)
    assert match, text
    return match.group(0)


def add_file(workspace: Workspace, filename: str, data: bytes, by: str = "console:dan") -> int:
    """A file on the case as it is kept: its bytes in the store and its row, the name as
    given (a row made before names were cleaned at intake, if it holds bidi controls)."""
    kernel = workspace.service.kernel
    checked = kernel.store_evidence("file" + filename[-4:], _kind(filename), data)
    with kernel.session() as session:
        case = repo.case_by_ref(session, workspace.case_ref)
        assert case is not None and case.id is not None
        row = Evidence(case_id=case.id, filename=filename, content_type=_kind(filename),
                       size=len(data), sha256=checked.sha256, uploaded_by=by,
                       uploaded_at=kernel.now())  # fmt: skip
        session.add(row)
        session.commit()
        assert row.id is not None
        return row.id


def _kind(filename: str) -> str:
    return "image/png" if filename.endswith(".png") else "application/pdf"


@asynccontextmanager
async def running_workspace(url: str, clock: Any, tmp_path: Path) -> AsyncIterator[Workspace]:
    """Our app with the workspace on (pack default), a DSL (dsl1), an SLT member (slt1) and
    a case opened by "dan"."""
    service = make_service(url, "default", clock, tmp_path / "evidence")
    grant(service, "dsl1", "dsl")
    grant(service, "slt1", "slt")
    access = WebAccess(service.kernel, "http://127.0.0.1")
    service.outbox.web = access
    ref = open_case(service)
    server = TestServer(create_app(service))
    await server.start_server(access_log_class=RedactingAccessLogger)
    access.public_url = str(server.make_url("")).rstrip("/")
    try:
        yield Workspace(server, service, access, ref)
    finally:
        await server.close()
