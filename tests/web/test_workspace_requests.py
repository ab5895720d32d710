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

from bot.storage import repository as repo
from bot.web.common import COOKIE
from tests.fakes.workspace_harness import csrf_of


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


async def _page(http: aiohttp.ClientSession, url: str) -> tuple[int, str]:
    async with http.get(url) as response:
        return response.status, await response.text(errors="replace")


def _lines(workspace) -> list[str]:
    with workspace.service.kernel.session() as session:
        return [e.action for e in repo.timeline(session, workspace.case_ref)]


@pytest.mark.issue(23, 14)
@pytest.mark.parametrize("script", ["学生在网上受到欺负。", "𠀀𠀁𠀂", "ملاحظة طويلة "])
async def test_14_a_note_of_2000_characters_in_any_script_is_saved(workspace, script):
    ref = workspace.case_ref
    note = (script * 2000)[:2000]
    http = await workspace.signed_in("dsl1", "Mr Patel")
    async with http:
        _, page = await _page(http, workspace.url(f"/web/cases/{ref}"))
        assert 'maxlength="2000"' in page
        async with http.post(
            workspace.url(f"/web/cases/{ref}/note"), data={"csrf": csrf_of(page), "text": note}
        ) as r:
            body = await r.text()
            assert r.status == 200 and "expired" not in body
            assert note in body and f"Note added to {ref}" in body


@pytest.mark.issue(23, 14)
async def test_14_a_note_over_the_limit_says_so_and_keeps_the_text(workspace):
    ref = workspace.case_ref
    note = "学" * 2500
    http = await workspace.signed_in("dsl1", "Mr Patel")
    async with http:
        _, page = await _page(http, workspace.url(f"/web/cases/{ref}"))
        async with http.post(
            workspace.url(f"/web/cases/{ref}/note"), data={"csrf": csrf_of(page), "text": note}
        ) as r:
            body = await r.text()
    assert r.status == 413 and "expired" not in body
    assert "2,500 characters long; the box takes up to 2,000" in body
    assert re.search(r'<textarea id="note-text"[^>]*>' + note + "</textarea>", body)
    assert "case.note" not in _lines(workspace)


@pytest.mark.issue(23, 16)
async def test_16_a_head_or_a_link_preview_does_not_use_up_the_link(workspace):
    link = workspace.link("dsl1", "Mr Patel")
    previewers = [
        "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
        "Mozilla/5.0 (Windows NT 6.1; WOW64) SkypeUriPreview Preview/0.5 "
        "skype-url-preview@microsoft.com",
    ]
    async with aiohttp.ClientSession() as scanner:
        async with scanner.head(link, allow_redirects=False) as r:
            assert r.status == 200 and "Set-Cookie" not in r.headers
        for agent in previewers:
            headers = {"User-Agent": agent}
            async with scanner.get(link, headers=headers, allow_redirects=False) as r:
                assert r.status == 200 and "Set-Cookie" not in r.headers
                assert "Open it in your browser" in await r.text()
    async with aiohttp.ClientSession() as person, person.get(link, allow_redirects=False) as r:
        assert r.status == 303 and COOKIE in r.headers["Set-Cookie"]


@pytest.mark.issue(23, 17)
async def test_17_a_page_view_is_one_line_and_pictures_and_heads_are_none(workspace):
    ref = workspace.case_ref
    http = await workspace.signed_in("dsl1", "Mr Patel")
    async with http:
        before = len(_lines(workspace))
        _, page = await _page(http, workspace.url(f"/web/cases/{ref}"))
        for src in re.findall(r'<img src="([^"]+)"', page):  # what the browser then fetches
            assert (await _page(http, workspace.url(src.replace("&amp;", "&"))))[0] == 200
        assert _lines(workspace)[before:] == ["case.viewed"]
        for path in (f"/web/cases/{ref}", f"/web/cases/{ref}/bundle.zip",
                     f"/web/cases/{ref}/evidence/1", f"/web/cases/{ref}/evidence/2"):  # fmt: skip
            async with http.head(workspace.url(path)) as r:
                assert r.status == 200, path
        assert _lines(workspace)[before:] == ["case.viewed"]
        await _page(http, workspace.url(f"/web/cases/{ref}/evidence/2"))
        assert _lines(workspace)[before:] == ["case.viewed", "evidence.downloaded"]
