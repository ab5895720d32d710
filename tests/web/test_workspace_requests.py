"""Issue 23: what reaches the log, the one-time link, the chronology and the forms.

Over real HTTP to our real app (tests/fakes/workspace_harness.py); oversized requests are
written to a raw socket, as a misbehaving client or an attacker would send them.
"""

from __future__ import annotations

import asyncio
import logging
import re

import aiohttp
import pytest

from bot.web.common import COOKIE


async def _raw(workspace, request: bytes) -> bytes:
    """Send bytes as they are and read the whole answer (the server closes after an error)."""
    url = workspace.server.make_url("/")
    reader, writer = await asyncio.open_connection(url.host, url.port)
    writer.write(request)
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    return answer


def _everything_logged(records: list[logging.LogRecord]) -> str:
    """Every record's message, arguments and exception (its text and its traceback)."""
    formatter = logging.Formatter()
    parts = []
    for record in records:
        parts.append(record.getMessage())
        parts.append(repr(record.args))
        if record.exc_info:
            parts.append(formatter.formatException(record.exc_info))
            parts.append(repr(record.exc_info[1].args) if record.exc_info[1] else "")
        parts.append(record.exc_text or "")
    return "\n".join(parts)


def _session_token(http: aiohttp.ClientSession) -> str:
    return next(c.value for c in http.cookie_jar if c.key == COOKIE)


@pytest.mark.issue(23, 13)
@pytest.mark.parametrize("padding", [9 * 1024, 100 * 1024])
async def test_13_no_token_from_an_oversized_request_reaches_any_log_record(
    workspace, caplog, padding
):
    caplog.set_level(logging.DEBUG)
    http = await workspace.signed_in("dsl1", "Mr Patel")
    async with http:
        session = _session_token(http)
    link_token = workspace.link("dsl1", "Mr Patel").rsplit("/", 1)[1]
    host = f"Host: {workspace.server.host}\r\nConnection: close\r\n"
    big_cookie = (
        f"GET /web/ HTTP/1.1\r\n{host}Cookie: {COOKIE}={session}; pad={'x' * padding}\r\n\r\n"
    )
    big_url = f"GET /web/sign-in/{link_token}?pad={'x' * padding} HTTP/1.1\r\n{host}\r\n"
    for request in (big_cookie, big_url):
        answer = await _raw(workspace, request.encode())
        assert re.match(rb"HTTP/1\.[01] 4\d\d ", answer), answer[:200]
    logged = _everything_logged(caplog.records) + caplog.text
    assert session not in logged and session[:20] not in logged
    assert link_token not in logged and link_token[:20] not in logged
    if padding > 64 * 1024:
        return  # refused by the HTTP parser before any of our code: nothing to end
    # Neither token still works: each was sent somewhere we can't vouch for.
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar, cookies={COOKIE: session}) as again:
        async with again.get(workspace.url("/web/")) as r:
            assert r.status == 401
        async with again.get(workspace.url(f"/web/sign-in/{link_token}")) as r:
            assert r.status == 403
