"""Records in the web workspace: the owning team places and lifts a legal hold from the
case page (CSRF and team checked), and a disposed case's page and bundle show only its
tombstone. Real HTTP against our aiohttp app (tests/fakes/workspace_harness.py)."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import zipfile
from datetime import UTC, datetime

import pytest

from bot.domain.turns import ButtonPress, StaffMessage
from bot.features.cases import cards
from bot.records.retention import RetentionSweep
from bot.storage import repository as repo
from tests.fakes.workspace_harness import csrf_of


async def _page(http, url: str) -> tuple[int, str]:
    async with http.get(url) as response:
        return response.status, await response.text()


@pytest.mark.issue(15, 3)
async def test_the_owning_team_holds_and_releases_a_case_from_its_page(workspace):
    ref = workspace.case_ref
    slt = await workspace.signed_in("slt1", "Ms Slt")
    async with slt:
        _, page = await _page(slt, workspace.url("/web/"))
        async with slt.post(
            workspace.url(f"/web/cases/{ref}/hold"), data={"csrf": csrf_of(page), "text": "x"}
        ) as r:
            assert r.status == 404  # not SLT's case: not found, as for every other action
    http = await workspace.signed_in("dsl1", "Mr Patel")
    async with http:
        _, page = await _page(http, workspace.url(f"/web/cases/{ref}"))
        assert "Place legal hold" in page
        for data in ({"text": "court"}, {"csrf": "wrong", "text": "court"}):
            async with http.post(workspace.url(f"/web/cases/{ref}/hold"), data=data) as r:
                assert r.status == 403
        token = csrf_of(page)
        async with http.post(
            workspace.url(f"/web/cases/{ref}/hold"),
            data={"csrf": token, "text": "MARKER-HOLD family court"},
        ) as r:
            page = await r.text()
        assert f"{ref} is on legal hold" in page
        assert "On legal hold: it will not be disposed of. Placed by Mr Patel" in page
        assert "Legal hold placed, by Mr Patel: MARKER-HOLD family court" in page
        async with http.post(workspace.url(f"/web/cases/{ref}/release"), data={"csrf": token}) as r:
            page = await r.text()
        assert "The legal hold on" in page and "Legal hold lifted, by Mr Patel" in page
        assert "Place legal hold" in page


@pytest.mark.issue(15, 5)
async def test_a_disposed_case_page_and_bundle_show_only_the_tombstone(workspace, clock, tmp_path):
    ref = workspace.case_ref
    service = workspace.service
    service.press(
        ButtonPress("console", "dsl1", cards.CASE_NOTE, ref, text="MARKER-NOTE", name="Mr Patel")
    )
    service.press(
        ButtonPress(
            "console", "dsl1", cards.CASE_CLOSE, ref, text="MARKER-OUTCOME", name="Mr Patel"
        )
    )
    clock.current = datetime(2051, 11, 21, 9, 0, tzinfo=UTC)
    # A safeguarding record goes only on the DSL's decision (issue 24).
    service.receive(StaffMessage("console", "dsl1", f"dispose {ref} because reviewed"))
    assert RetentionSweep(service.kernel).sweep() >= 1
    http = await workspace.signed_in("dsl1", "Mr Patel")
    async with http:
        status, page = await _page(http, workspace.url(f"/web/cases/{ref}"))
        assert status == 200
        assert "Disposed of on 21 November 2051" in page
        for gone in ("MARKER", "Dan", "Evidence", "Chronology", "Place legal hold", "SHA-256"):
            assert gone not in page, gone
        for item in (1, 2):
            status, _ = await _page(http, workspace.url(f"/web/cases/{ref}/evidence/{item}"))
            assert status == 404
        async with http.get(workspace.url(f"/web/cases/{ref}/bundle.zip")) as r:
            assert r.status == 200
            archive = zipfile.ZipFile(io.BytesIO(await r.read()))
    assert not [n for n in archive.namelist() if n.startswith("evidence/")]
    record = json.loads(archive.read(f"{ref}.json"))["case"]
    assert "Disposed of on 21 November 2051" in record["tombstone"]
    assert record["answers"] == [] and record["chronology"] == [] and record["notes"] == []
    assert "MARKER" not in json.dumps(record) and "Dan" not in json.dumps(record)
    with service.kernel.session() as session:
        case = repo.case_by_ref(session, ref)
        assert case is not None and case.disposed_at is not None
    if shutil.which("pdftotext"):  # the bundle test in test_workspace.py insists on CI
        pdf = tmp_path / "disposed.pdf"
        pdf.write_bytes(archive.read(f"{ref}.pdf"))
        text = subprocess.run(
            ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout
        assert "Disposed of on 21 November 2051" in " ".join(text.split())
        assert "MARKER" not in text and "Dan" not in text


@pytest.mark.issue(24, 1)
async def test_the_case_page_says_how_the_case_is_kept_and_shows_a_reclassification(workspace):
    ref = workspace.case_ref  # cyberbullying of a pupil: the DSL's, about a child
    http = await workspace.signed_in("dsl1", "Mr Patel")
    async with http:
        _, page = await _page(http, workspace.url(f"/web/cases/{ref}"))
        assert "Kept as: Safeguarding records about a child: 25 years" in page
        said = workspace.service.receive(
            StaffMessage(
                "console", "dsl1", f"reclassify {ref} staff because it was about a teacher",
                name="Mr Patel",
            )
        ).replies[0]  # fmt: skip
        assert "is now kept as: Abuse or impersonation aimed at staff" in said.text
        _, page = await _page(http, workspace.url(f"/web/cases/{ref}"))
        assert "Kept as: Abuse or impersonation aimed at staff or the school: 6 years" in page
        assert "Retention class changed, by Mr Patel: child-safeguarding to staff-abuse" in page
        assert "it was about a teacher" in page
