"""The web workspace for two schools in one app: a sign-in link's school decides whose
records its session reads, so one school's DSL never sees another school's case, even
under the same reference."""

from __future__ import annotations

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bot.app import create_app
from bot.dispatch import Trust
from bot.web.access import WebAccess
from tests.helpers import add_schools, grant, make_service, say

WORRYING = ["friend request", "1", "no", "{app}", "no", "yes", "odd messages", "no", "done"]


def report(service, user: str, app: str) -> str:
    return " ".join(say(service, user, *(line.format(app=app) for line in WORRYING)))


async def signed_in(access: WebAccess, user: str, path: str = "/web/") -> aiohttp.ClientSession:
    http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    async with http.get(access.issue_link("console", user, user, path)) as response:
        assert response.status == 200, await response.text()
    return http


@pytest.mark.issue(25, 1)
async def test_1_a_session_reads_only_its_own_schools_cases(database_url, clock, tmp_path):
    dukeries = make_service(database_url, "dukeries-academy", clock, tmp_path / "evidence")
    [kings_id] = add_schools(dukeries.engine, ("kings", "king-jamess-school"))
    kings = make_service(
        database_url, "king-jamess-school", clock, tmp_path / "evidence", school_id=kings_id
    )
    for service in (dukeries, kings):
        service.outbox.web = WebAccess(service.kernel, "http://127.0.0.1")
    grant(dukeries, "dsla", "dsl")
    grant(kings, "dslb", "dsl")
    assert "FR-0001" in report(dukeries, "alice", "instagram")
    assert "FR-0002" in report(dukeries, "ann", "tiktok")
    assert "FR-0001" in report(kings, "bob", "facebook")
    server = TestServer(create_app(Trust.of(dukeries, kings)))
    await server.start_server()
    base = str(server.make_url("")).rstrip("/")
    for service in (dukeries, kings):
        service.outbox.web.public_url = base  # type: ignore[union-attr]
    try:
        a = await signed_in(dukeries.outbox.web, "dsla")  # type: ignore[arg-type]
        b = await signed_in(kings.outbox.web, "dslb")  # type: ignore[arg-type]
        async with a, b:
            async with a.get(f"{base}/web/cases/FR-0001") as page:
                text = await page.text()
                assert page.status == 200 and "Instagram" in text and "Facebook" not in text
            async with b.get(f"{base}/web/cases/FR-0001") as page:
                text = await page.text()
                assert page.status == 200 and "Facebook" in text and "Instagram" not in text
            # A's case link, opened in B's DSL's session: not found, as if it didn't exist.
            async with b.get(f"{base}/web/cases/FR-0002") as page:
                assert page.status == 404
                assert "TikTok" not in await page.text()
            async with b.get(f"{base}/web/") as listing:
                assert "FR-0002" not in await listing.text()

        # A link for B's school with A's number written in by hand finds nothing.
        link = kings.outbox.web.issue_link("console", "dslb", "B", "/web/")  # type: ignore[union-attr]
        forged = link.replace(f"/sign-in/{kings_id}.", "/sign-in/1.")
        assert forged != link
        async with aiohttp.ClientSession() as http, http.get(forged) as refused:
            assert refused.status == 403
    finally:
        await server.close()
