"""The web workspace over real HTTP: sign-in links, sessions, roles, CSRF, headers, files.

Every request goes to our real aiohttp app (tests/fakes/workspace_harness.py). The clock is the
tests' FakeClock, so link expiry and session limits are checked without sleeping.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import re
import shutil
import subprocess
import zipfile
from datetime import timedelta

import aiohttp
import pytest

from bot.domain.turns import ButtonPress
from bot.storage import repository as repo
from tests.fakes.workspace_harness import PDF_BYTES, csrf_of, tiny_png
from tests.helpers import grant


async def _get(http: aiohttp.ClientSession, url: str) -> tuple[int, str, aiohttp.ClientResponse]:
    async with http.get(url, allow_redirects=True) as response:
        return response.status, await response.text(errors="replace"), response


async def test_no_page_or_file_without_a_session(workspace):
    ref = workspace.case_ref
    async with aiohttp.ClientSession() as http:
        for path in ("/web/", f"/web/cases/{ref}", f"/web/cases/{ref}/evidence/1",
                     f"/web/cases/{ref}/bundle.zip"):  # fmt: skip
            status, body, _ = await _get(http, workspace.url(path))
            assert status == 401, path
            assert "MARKER" not in body and "Please sign in from chat" in body
        async with http.post(workspace.url(f"/web/cases/{ref}/note"), data={"text": "x"}) as r:
            assert r.status == 401


async def test_a_link_works_once_and_for_ten_minutes(workspace, clock):
    link = workspace.link("dsl1", "Mr Patel")
    async with aiohttp.ClientSession() as http:
        async with http.get(link, allow_redirects=False) as first:
            assert first.status == 303
            cookie = first.headers["Set-Cookie"]
            assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/web" in cookie
            assert "Secure" not in cookie  # the public URL here is plain http on loopback
        async with http.get(link, allow_redirects=False) as again:
            assert again.status == 403
            assert "work once" in await again.text()
    late = workspace.link("dsl1")
    clock.advance(minutes=10, seconds=1)
    async with aiohttp.ClientSession() as http, http.get(late, allow_redirects=False) as r:
        assert r.status == 403
    async with (
        aiohttp.ClientSession() as http,
        http.get(workspace.url("/web/sign-in/not-a-real-token")) as r,
    ):
        assert r.status == 403


async def test_the_cookie_is_secure_when_the_public_url_is_https(workspace):
    workspace.access.public_url = "https://schoolbot.example.org"
    link = workspace.link("dsl1").replace("https://schoolbot.example.org", workspace.url(""))
    async with aiohttp.ClientSession() as http, http.get(link, allow_redirects=False) as r:
        assert "Secure" in r.headers["Set-Cookie"]


async def test_sessions_end_after_30_minutes_idle_or_8_hours(workspace, clock):
    http = await workspace.signed_in("dsl1", "Mr Patel")
    async with http:
        clock.advance(minutes=29)
        assert (await _get(http, workspace.url("/web/")))[0] == 200
        clock.advance(minutes=31)
        assert (await _get(http, workspace.url("/web/")))[0] == 401
    http = await workspace.signed_in("dsl1", "Mr Patel")
    async with http:
        for _ in range(17):  # busy all day, never idle for 30 minutes
            clock.advance(minutes=29)
            status = (await _get(http, workspace.url("/web/")))[0]
        assert status == 401  # 17 x 29 minutes is past 8 hours


async def test_sign_out_ends_the_session(workspace):
    http = await workspace.signed_in("dsl1", "Mr Patel")
    async with http:
        _, page, _ = await _get(http, workspace.url("/web/"))
        async with http.post(workspace.url("/web/sign-out"), data={"csrf": csrf_of(page)}) as r:
            assert r.status == 200 and "signed out" in (await r.text())
        assert (await _get(http, workspace.url("/web/")))[0] == 401


async def test_a_member_of_staff_sees_only_their_own_reports(workspace):
    ref = workspace.case_ref
    http = await workspace.signed_in("erin", "Erin")
    async with http:
        status, page, _ = await _get(http, workspace.url("/web/"))
        assert status == 200 and ref not in page and "Your team's cases" not in page
        for path in (f"/web/cases/{ref}", f"/web/cases/{ref}/evidence/1",
                     f"/web/cases/{ref}/bundle.zip", "/web/cases/CB-9999"):  # fmt: skip
            status, body, _ = await _get(http, workspace.url(path))
            assert status == 404, path
            assert "MARKER" not in body
    http = await workspace.signed_in("dan", "Dan Smith")
    async with http:
        _, page, _ = await _get(http, workspace.url("/web/"))
        assert ref in page and "Your team's cases" not in page
        status, page, _ = await _get(http, workspace.url(f"/web/cases/{ref}"))
        assert status == 200 and "Status" in page
        assert "MARKER" not in page  # the reporter sees the status, not the team's record
        assert (await _get(http, workspace.url(f"/web/cases/{ref}/evidence/1")))[0] == 404


async def test_another_team_gets_not_found(workspace):
    http = await workspace.signed_in("slt1", "Mrs Khan")
    async with http:
        status, body, _ = await _get(http, workspace.url(f"/web/cases/{workspace.case_ref}"))
        assert status == 404 and "MARKER" not in body


async def test_a_role_removed_takes_effect_at_once(workspace):
    http = await workspace.signed_in("dsl1", "Mr Patel")
    async with http:
        assert (await _get(http, workspace.url(f"/web/cases/{workspace.case_ref}")))[0] == 200
        with workspace.service.kernel.session() as session:
            repo.remove_role(session, "console", "dsl1", "dsl")
            session.commit()
        assert (await _get(http, workspace.url(f"/web/cases/{workspace.case_ref}")))[0] == 404


async def test_the_dsl_sees_the_case_and_every_view_is_in_the_chronology(workspace):
    http = await workspace.signed_in("dsl1", "Mr Patel")
    async with http:
        status, page, _ = await _get(http, workspace.url(f"/web/cases/{workspace.case_ref}"))
        assert status == 200
        for words in ("Reported by", "dan", "MARKER-DESCRIPTION", "MARKER-shot.png",
                      "PNG image", "PDF document", hashlib.sha256(tiny_png()).hexdigest(),
                      hashlib.sha256(PDF_BYTES).hexdigest(), "Viewed in the workspace, by Mr Patel",
                      "Chronology", "Saturday"):  # fmt: skip
            assert words in page, words
        assert "current_pupil" not in page and "True" not in page


async def test_forms_without_their_csrf_token_get_403_and_change_nothing(workspace):
    ref = workspace.case_ref
    http = await workspace.signed_in("dsl1", "Mr Patel")
    async with http:
        for data in ({}, {"csrf": "wrong"}, {"csrf": ""}):
            async with http.post(workspace.url(f"/web/cases/{ref}/acknowledge"), data=data) as r:
                assert r.status == 403
        _, page, _ = await _get(http, workspace.url(f"/web/cases/{ref}"))
        assert "Acknowledged, by" not in page
        other = await workspace.signed_in("dsl1", "Mr Patel")
        async with other:
            _, other_page, _ = await _get(other, workspace.url(f"/web/cases/{ref}"))
        async with http.post(
            workspace.url(f"/web/cases/{ref}/acknowledge"), data={"csrf": csrf_of(other_page)}
        ) as r:
            assert r.status == 403  # another session's token is not this one's


async def test_acting_from_the_web_uses_the_same_rules_as_chat(workspace):
    ref = workspace.case_ref
    http = await workspace.signed_in("dsl1", "Mr Patel")
    async with http:
        _, page, _ = await _get(http, workspace.url(f"/web/cases/{ref}"))
        token = csrf_of(page)
        async with http.post(
            workspace.url(f"/web/cases/{ref}/acknowledge"), data={"csrf": token}
        ) as r:
            assert r.status == 200 and f"acknowledged {ref}" in await r.text()
        async with http.post(
            workspace.url(f"/web/cases/{ref}/acknowledge"), data={"csrf": token}
        ) as r:
            assert "already acknowledged" in await r.text()  # the chat button now too
        async with http.post(
            workspace.url(f"/web/cases/{ref}/note"),
            data={"csrf": token, "text": "MARKER-NOTE rang home"},
        ) as r:
            page = await r.text()
            assert "MARKER-NOTE rang home" in page and "Note added, by Mr Patel" in page
    reply = workspace.service.press(
        ButtonPress("console", "dsl1", "case.ack", ref, name="Mr Patel")
    ).replies
    assert "already acknowledged" in reply[0].text


async def test_evidence_is_served_safely(workspace):
    ref = workspace.case_ref
    http = await workspace.signed_in("dsl1", "Mr Patel")
    async with http:
        async with http.get(workspace.url(f"/web/cases/{ref}/evidence/1")) as r:
            assert r.status == 200 and await r.read() == tiny_png()
            assert r.headers["Content-Disposition"].startswith("attachment")
            assert r.headers["X-Content-Type-Options"] == "nosniff"
        async with http.get(workspace.url(f"/web/cases/{ref}/evidence/1?view=1")) as r:
            assert r.headers["Content-Disposition"].startswith("inline")  # sniffed: a PNG
            assert r.content_type == "image/png"
        async with http.get(workspace.url(f"/web/cases/{ref}/evidence/2?view=1")) as r:
            assert r.headers["Content-Disposition"].startswith("attachment")  # not an image
            assert r.content_type == "application/octet-stream"
        _, page, _ = await _get(http, workspace.url(f"/web/cases/{ref}"))
        # Downloads are in the history; a picture drawn in the page is the page's view.
        assert "Evidence file downloaded" in page and "Evidence file viewed" not in page


async def test_a_changed_file_shows_a_tamper_warning_and_is_not_served(workspace):
    ref = workspace.case_ref
    path = workspace.service.kernel.evidence.path_for(hashlib.sha256(tiny_png()).hexdigest())
    path.write_bytes(b"\x89PNG\r\n\x1a\n something else")
    http = await workspace.signed_in("dsl1", "Mr Patel")
    async with http:
        _, page, _ = await _get(http, workspace.url(f"/web/cases/{ref}"))
        assert "Tamper warning" in page
        status, body, _ = await _get(http, workspace.url(f"/web/cases/{ref}/evidence/1"))
        assert status == 409 and "be trusted" in body


async def test_every_page_sends_the_security_headers(workspace):
    http = await workspace.signed_in("dsl1", "Mr Patel")
    async with http:
        for path in ("/web/", f"/web/cases/{workspace.case_ref}", "/web/cases/CB-9999",
                     "/web/static/style.css"):  # fmt: skip
            _, _, response = await _get(http, workspace.url(path))
            csp = response.headers["Content-Security-Policy"]
            assert "script-src" not in csp and "'unsafe-inline'" not in csp
            assert "default-src 'none'" in csp
            assert response.headers["X-Frame-Options"] == "DENY"
            assert response.headers["Referrer-Policy"] == "no-referrer"
            assert response.headers["X-Content-Type-Options"] == "nosniff"
    async with aiohttp.ClientSession() as anonymous:
        _, _, response = await _get(anonymous, workspace.url("/web/"))
        assert response.headers["X-Frame-Options"] == "DENY"


async def test_the_bundle_holds_pdf_json_files_and_a_matching_manifest(workspace):
    ref = workspace.case_ref
    http = await workspace.signed_in("dsl1", "Mr Patel")
    async with http:
        async with http.get(workspace.url(f"/web/cases/{ref}/bundle.zip")) as r:
            assert r.status == 200 and r.content_type == "application/zip"
            data = await r.read()
        _, page, _ = await _get(http, workspace.url(f"/web/cases/{ref}"))
        assert "Case bundle downloaded, by Mr Patel" in page
    archive = zipfile.ZipFile(io.BytesIO(data))
    names = set(archive.namelist())
    assert {f"{ref}.pdf", f"{ref}.json", "MANIFEST.sha256"} <= names
    assert archive.read(f"{ref}.pdf").startswith(b"%PDF")
    evidence = sorted(n for n in names if n.startswith("evidence/"))
    assert [archive.read(n) for n in evidence] == [tiny_png(), PDF_BYTES]
    manifest = archive.read("MANIFEST.sha256").decode()
    listed = dict(reversed(line.split("  ", 1)) for line in manifest.splitlines())
    assert set(listed) == names - {"MANIFEST.sha256"}
    for name, digest in listed.items():
        assert hashlib.sha256(archive.read(name)).hexdigest() == digest


async def test_no_case_text_note_or_file_name_reaches_a_log_line(workspace, caplog):
    caplog.set_level(logging.DEBUG)
    ref = workspace.case_ref
    http = await workspace.signed_in("dsl1", "Mr Patel")
    async with http:
        _, page, _ = await _get(http, workspace.url(f"/web/cases/{ref}"))
        await http.post(
            workspace.url(f"/web/cases/{ref}/note"),
            data={"csrf": csrf_of(page), "text": "MARKER-NOTE"},
        )
        for item in (1, 2):
            await _get(http, workspace.url(f"/web/cases/{ref}/evidence/{item}"))
        await _get(http, workspace.url(f"/web/cases/{ref}/bundle.zip"))
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "MARKER" not in text and "Mr Patel" not in text
    assert not re.search(r"sign-in/([0-9]+\.)?[A-Za-z0-9_-]{20,}", text)


async def test_the_list_filters_the_teams_cases(workspace):
    grant(workspace.service, "dsl1", "dsl")
    http = await workspace.signed_in("dsl1", "Mr Patel")
    async with http:
        _, page, _ = await _get(http, workspace.url("/web/?urgent=1"))
        assert workspace.case_ref in page  # a pupil at risk is urgent
        _, page, _ = await _get(http, workspace.url("/web/?status=closed"))
        assert workspace.case_ref not in page
        _, page, _ = await _get(http, workspace.url("/web/?kind=FR"))
        assert workspace.case_ref not in page
        _, page, _ = await _get(http, workspace.url("/web/?kind=CB&status=new"))
        assert workspace.case_ref in page


async def test_the_bundle_pdf_is_real_text_with_the_reference_chronology_and_hashes(
    workspace, tmp_path
):
    if shutil.which("pdftotext") is None:
        if os.environ.get("CI"):
            pytest.fail("pdftotext must be installed on CI (make test installs poppler-utils)")
        pytest.skip("pdftotext is not installed (make test installs poppler-utils as root)")
    ref = workspace.case_ref
    http = await workspace.signed_in("dsl1", "Mr Patel")
    async with http:
        _, page, _ = await _get(http, workspace.url(f"/web/cases/{ref}"))
        await http.post(
            workspace.url(f"/web/cases/{ref}/acknowledge"), data={"csrf": csrf_of(page)}
        )
        async with http.get(workspace.url(f"/web/cases/{ref}/bundle.zip")) as r:
            data = await r.read()
    pdf = tmp_path / "case.pdf"
    pdf.write_bytes(zipfile.ZipFile(io.BytesIO(data)).read(f"{ref}.pdf"))
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    assert f"Title:           {ref} case record" in info
    for words in (ref, "Chronology", "Acknowledged, by Mr Patel", "Reported, by dan",
                  hashlib.sha256(tiny_png()).hexdigest(), hashlib.sha256(PDF_BYTES).hexdigest(),
                  "MARKER-DESCRIPTION"):  # fmt: skip
        assert words in text, words


@pytest.mark.issue(26, 1)
async def test_an_emailed_link_is_used_only_by_its_own_sign_in_button(workspace):
    with workspace.service.kernel.session() as session:
        link = workspace.access.add_link(
            session, "console", "dsl1", None, "/web/", lifetime=timedelta(hours=24), confirm=True
        )
        session.commit()
    button = link.split("?")[0]
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        for _ in range(2):  # a mail filter, then the person: neither GET uses the link
            async with http.get(link) as r:
                page = await r.text()
                assert r.status == 200 and "Sign in" in page
                assert f'action="{button.removeprefix(workspace.url(""))}"' in page
        # Another site's form can't sign anyone in with it (nor use it up).
        for headers in ({"Sec-Fetch-Site": "cross-site"}, {"Origin": "https://evil.example"}):
            async with http.post(button, headers=headers, allow_redirects=False) as r:
                assert r.status == 403
        async with http.post(button, headers={"Sec-Fetch-Site": "same-origin"}) as r:
            assert r.status == 200 and r.url.path == "/web/"
        async with http.post(button, allow_redirects=False) as r:
            assert r.status == 403  # once only
