"""Issue 23: names as they are shown (pages, chat, the bundle), the bundle streamed, and
the smaller faults of point 19 (the report for any term, the confirmation banner, headers
on every page, file names in downloads, a tampered file's trace).
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import zipfile

import aiohttp
import pytest

from bot.storage import repository as repo
from bot.web.bundle import build_bundle
from bot.web.downloads import build_case_file_for
from tests.fakes.workspace_harness import PDF_BYTES, add_file, csrf_of, tiny_png
from tests.helpers import say

SPOOF = "invoice\u202efdp.png"
# U+202A-U+202E, U+2066-U+2069, U+200E/F and U+061C: the bidirectional controls.
BIDI_CONTROLS = [*map(chr, range(0x202A, 0x202F)), *map(chr, range(0x2066, 0x206A)),
                 "\u200e", "\u200f", "\u061c"]  # fmt: skip


async def _get(http: aiohttp.ClientSession, url: str) -> tuple[int, str, aiohttp.ClientResponse]:
    async with http.get(url) as response:
        return response.status, await response.text(errors="replace"), response


@pytest.mark.issue(23, 15)
async def test_15_bidi_controls_are_taken_out_of_names_on_pages_in_chat_and_documents(
    workspace,
):
    ref = workspace.case_ref
    item = add_file(workspace, SPOOF, tiny_png(), by="console:dan")
    http = await workspace.signed_in("dsl1", "Mr\u202e Patel")
    async with http:
        _, page, _ = await _get(http, workspace.url(f"/web/cases/{ref}"))
        async with http.get(workspace.url(f"/web/cases/{ref}/evidence/{item}")) as r:
            disposition = r.headers["Content-Disposition"]
        async with http.get(workspace.url(f"/web/cases/{ref}/bundle.zip")) as r:
            archive = zipfile.ZipFile(io.BytesIO(await r.read()))
    chat = " ".join(say(workspace.service, "dsl1", f"case {ref}"))
    record = json.loads(archive.read(f"{ref}.json"))
    pdf_names = " ".join(archive.namelist())
    for shown in (page, chat, disposition, json.dumps(record, ensure_ascii=False), pdf_names):
        assert not any(c in shown for c in BIDI_CONTROLS), shown[:200]
    assert "invoicefdp.png" in page and "invoicefdp.png" in chat
    assert "Viewed in the workspace, by Mr Patel" in page


@pytest.mark.issue(23, 15)
def test_15_a_file_name_is_kept_without_bidi_controls(workspace):
    kept = workspace.service.kernel.store_evidence(SPOOF, "image/png", tiny_png())
    assert kept.filename == "invoicefdp.png"


@pytest.mark.issue(23, 18)
async def test_18_the_bundle_is_streamed_with_the_same_files_and_manifest(workspace):
    ref = workspace.case_ref
    big = bytes(range(256)) * 8 * 1024  # 2 MB: many pieces
    add_file(workspace, "recording.pdf", big)
    kernel = workspace.service.kernel
    http = await workspace.signed_in("dsl1", "Mr Patel")
    async with http, http.get(workspace.url(f"/web/cases/{ref}/bundle.zip")) as r:
        assert r.headers.get("Transfer-Encoding") == "chunked"  # sent as it is made
        assert "Content-Length" not in r.headers
        assert r.headers["Content-Security-Policy"].startswith("default-src 'none'")
        data = await r.read()
    streamed = zipfile.ZipFile(io.BytesIO(data))
    record = await kernel.work.run(build_case_file_for, kernel, _case(workspace))
    whole = zipfile.ZipFile(io.BytesIO(build_bundle(kernel, record)))
    assert streamed.namelist() == whole.namelist()
    assert streamed.namelist()[-1] == "MANIFEST.sha256"

    def steady(name: str, data: bytes) -> bytes:
        """The record's PDF and JSON say when the bundle was made (and the download adds a
        chronology line), so the manifest is compared on every other file."""
        if name != "MANIFEST.sha256":
            return data
        lines = data.decode().splitlines()
        return "\n".join(
            line for line in lines
            if line.split("  ", 1)[-1].startswith("evidence/")
            or not line.endswith((".pdf", ".json"))
        ).encode()  # fmt: skip

    for name in streamed.namelist():
        if not name.endswith((".pdf", ".json")) or name.startswith("evidence/"):
            assert steady(name, streamed.read(name)) == steady(name, whole.read(name)), name
    evidence = sorted(n for n in streamed.namelist() if n.startswith("evidence/"))
    assert [streamed.read(n) for n in evidence] == [tiny_png(), PDF_BYTES, big]
    listed = dict(
        reversed(line.split("  ", 1))
        for line in streamed.read("MANIFEST.sha256").decode().splitlines()
    )
    assert set(listed) == set(streamed.namelist()) - {"MANIFEST.sha256"}
    for name, digest in listed.items():
        assert hashlib.sha256(streamed.read(name)).hexdigest() == digest, name


def _case(workspace):
    with workspace.service.kernel.session() as session:
        case = repo.case_by_ref(session, workspace.case_ref)
        assert case is not None
        return case


@pytest.mark.issue(23, 19)
@pytest.mark.parametrize("term", ["autumn-0001", "spring-0001", "autumn-0000", "autumn-9999"])
async def test_19_the_report_answers_for_any_term_year(workspace, term):
    http = await workspace.signed_in("slt1", "Mrs Khan")
    async with http:
        for path in ("/web/report", "/web/report/report.csv", "/web/report/report.pdf"):
            status, _, _ = await _get(http, workspace.url(f"{path}?term={term}"))
            assert status == 200, path
        status, page, _ = await _get(http, workspace.url("/web/report?term=spring-2000"))
        assert status == 200 and "?term=autumn-1999" not in page  # no link before 2000


@pytest.mark.issue(23, 19)
async def test_19_the_banner_shows_only_our_own_messages(workspace):
    ref = workspace.case_ref
    http = await workspace.signed_in("dsl1", "Mr Patel")
    async with http:
        _, page, _ = await _get(http, workspace.url(f"/web/cases/{ref}?done=Call+0800+NOW"))
        assert "0800" not in page and 'class="done"' not in page
        async with http.post(
            workspace.url(f"/web/cases/{ref}/acknowledge"), data={"csrf": csrf_of(page)}
        ) as r:
            assert str(r.url).endswith("?done=acknowledged")
            assert f"acknowledged {ref}." in await r.text()


@pytest.mark.issue(23, 19)
async def test_19_privacy_terms_and_health_pages_send_the_security_headers(workspace):
    async with aiohttp.ClientSession() as http:
        for path in ("/privacy", "/terms", "/livez", "/readyz", "/healthz", "/nowhere"):
            async with http.get(workspace.url(path)) as r:
                assert r.headers["X-Frame-Options"] == "DENY", path
                assert r.headers["X-Content-Type-Options"] == "nosniff", path
                assert r.headers["Referrer-Policy"] == "no-referrer", path
                csp = r.headers["Content-Security-Policy"]
                assert "default-src 'none'" in csp and "script-src" not in csp, path
                assert "unsafe-inline" not in csp, path


@pytest.mark.issue(23, 19)
async def test_19_file_names_go_out_as_rfc_6266_says(workspace):
    ref = workspace.case_ref
    item = add_file(workspace, "证据 截图.png", tiny_png())
    http = await workspace.signed_in("dsl1", "Mr Patel")
    async with http, http.get(workspace.url(f"/web/cases/{ref}/evidence/{item}")) as r:
        disposition = r.headers["Content-Disposition"]
    assert disposition.isascii()
    assert disposition.startswith('attachment; filename="')
    assert "filename*=UTF-8''%E8%AF%81%E6%8D%AE%20%E6%88%AA%E5%9B%BE.png" in disposition


@pytest.mark.issue(23, 19)
async def test_19_opening_a_tampered_file_is_in_the_chronology_and_the_log(workspace, caplog):
    caplog.set_level(logging.INFO)
    ref = workspace.case_ref
    path = workspace.service.kernel.evidence.path_for(hashlib.sha256(tiny_png()).hexdigest())
    path.write_bytes(b"\x89PNG\r\n\x1a\n something else")
    http = await workspace.signed_in("dsl1", "Mr Patel")
    async with http:
        status, _, _ = await _get(http, workspace.url(f"/web/cases/{ref}/evidence/1"))
        assert status == 409
        _, page, _ = await _get(http, workspace.url(f"/web/cases/{ref}"))
    assert "Evidence file not opened: it no longer matches its fingerprint, by Mr Patel" in page
    logged = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert any("failed its hash check" in line and ref in line for line in logged)
    assert not any("MARKER" in line or "Mr Patel" in line for line in logged)
