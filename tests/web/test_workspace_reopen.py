"""Issue 23, points 1 and 9, in the workspace over real HTTP: a closed case is reopened from
its page by its owning team, with a reason that reaches the chronology (CSRF-checked, the
role checked on the server); the reporter is not told; tasks close and reopen with it."""

from __future__ import annotations

import aiohttp
import pytest
from sqlmodel import select

from bot.storage.tables import CaseTask, Outbox
from tests.fakes.workspace_harness import csrf_of
from tests.helpers import grant, the_case


async def _page(http: aiohttp.ClientSession, url: str) -> tuple[int, str]:
    async with http.get(url) as response:
        return response.status, await response.text()


def told_dan(workspace) -> int:
    with workspace.service.kernel.session() as session:
        query = select(Outbox).where(Outbox.target_kind == "user", Outbox.target == "dan")
        return len(session.exec(query).all())


async def close_from_the_page(workspace, http: aiohttp.ClientSession) -> str:
    ref = workspace.case_ref
    _, page = await _page(http, workspace.url(f"/web/cases/{ref}"))
    data = {"csrf": csrf_of(page), "text": "Family spoken to; resolved"}
    async with http.post(workspace.url(f"/web/cases/{ref}/close"), data=data) as response:
        return await response.text()


@pytest.mark.issue(23, 1)
async def test_a_closed_case_is_reopened_from_its_page_with_a_reason(workspace):
    ref = workspace.case_ref
    http = await workspace.signed_in("dsl1", "Mr Patel")
    async with http:
        closed = await close_from_the_page(workspace, http)
        assert "Reason for reopening" in closed and "Reopen the case" in closed
        told = told_dan(workspace)
        url = workspace.url(f"/web/cases/{ref}/reopen")
        for data in ({"text": "No token"}, {"csrf": "wrong", "text": "Wrong token"}):
            async with http.post(url, data=data) as response:
                assert response.status == 403
        assert the_case(workspace.service, ref).status == "closed"
        data = {"csrf": csrf_of(closed), "text": "MARKER-REASON new posts this morning"}
        async with http.post(url, data=data) as response:
            page = await response.text()
        assert response.status == 200
        assert f"{ref} is open again. The reporter hasn&#39;t been told." in page
        assert "Reopened, by Mr Patel" in page and "MARKER-REASON new posts this morning" in page
        assert "Close the case" in page and "Reopen the case" not in page
    assert the_case(workspace.service, ref).status == "acknowledged"
    assert told_dan(workspace) == told  # the reporter hears nothing of it


@pytest.mark.issue(23, 1)
async def test_only_the_owning_team_can_reopen_from_the_workspace(workspace):
    ref = workspace.case_ref
    dsl = await workspace.signed_in("dsl1", "Mr Patel")
    async with dsl:
        await close_from_the_page(workspace, dsl)
    for user in ("slt1", "dan"):  # another team; the reporter, who sees the case as theirs
        http = await workspace.signed_in(user)
        async with http:
            _, page = await _page(http, workspace.url("/web/"))
            data = {"csrf": csrf_of(page), "text": "Let me in"}
            async with http.post(workspace.url(f"/web/cases/{ref}/reopen"), data=data) as r:
                assert r.status == 404
    assert the_case(workspace.service, ref).status == "closed"


@pytest.mark.issue(23, 9)
async def test_closing_closes_the_cases_tasks_and_reopening_opens_them_again(workspace):
    ref = workspace.case_ref
    grant(workspace.service, "dsl2", "dsl")
    with workspace.service.kernel.session() as session:
        case_id = the_case(workspace.service, ref).id
        assert session.exec(select(CaseTask).where(CaseTask.case_id == case_id)).all()
    http = await workspace.signed_in("dsl1", "Mr Patel")
    async with http:
        closed = await close_from_the_page(workspace, http)
        assert "Closed with the case" in closed and ">Open<" not in closed
        with workspace.service.kernel.session() as session:
            tasks = session.exec(select(CaseTask).where(CaseTask.case_id == case_id)).all()
            assert all(t.done_at is not None for t in tasks)
        data = {"csrf": csrf_of(closed), "text": "More to do"}
        async with http.post(workspace.url(f"/web/cases/{ref}/reopen"), data=data) as response:
            reopened = await response.text()
        assert "Closed with the case" not in reopened
    with workspace.service.kernel.session() as session:
        tasks = session.exec(select(CaseTask).where(CaseTask.case_id == case_id)).all()
        assert all(t.done_at is None for t in tasks)
