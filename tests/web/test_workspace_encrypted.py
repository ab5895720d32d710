"""Evidence encrypted at rest reads as it was sent (issue 24, point 6): the download and
the bundle decrypt it; a file no key opens is a clear page and a line in the case's
history and the log, with none of its content."""

from __future__ import annotations

import base64
import io
import logging
import os
import zipfile

import pytest

from bot.kernel.evidence_keys import EvidenceKeys
from bot.storage import repository as repo
from tests.fakes.workspace_harness import PDF_BYTES, tiny_png


def encrypt_all(workspace, keys: str) -> None:
    store = workspace.service.kernel.evidence
    store.keys = EvidenceKeys.parse(keys)
    for sha in list(store.names()):
        store.encrypt_one(sha)
        assert b"PNG" not in store.path_for(sha).read_bytes()[:64]


@pytest.mark.issue(24, 6)
async def test_downloads_and_the_bundle_decrypt_files_encrypted_at_rest(workspace):
    encrypt_all(workspace, base64.b64encode(os.urandom(32)).decode())
    ref = workspace.case_ref
    http = await workspace.signed_in("dsl1", "Mr Patel")
    async with http:
        async with http.get(workspace.url(f"/web/cases/{ref}/evidence/1")) as r:
            assert r.status == 200 and await r.read() == tiny_png()
        async with http.get(workspace.url(f"/web/cases/{ref}/evidence/1?view=1")) as r:
            assert r.content_type == "image/png"  # sniffed from the decrypted bytes
        async with http.get(workspace.url(f"/web/cases/{ref}")) as r:
            assert "Tamper warning" not in await r.text()
        async with http.get(workspace.url(f"/web/cases/{ref}/bundle.zip")) as r:
            archive = zipfile.ZipFile(io.BytesIO(await r.read()))
    evidence = sorted(n for n in archive.namelist() if n.startswith("evidence/"))
    assert [archive.read(n) for n in evidence] == [tiny_png(), PDF_BYTES]


@pytest.mark.issue(24, 6)
async def test_a_wrong_key_is_a_clear_page_and_a_history_line_without_content(workspace, caplog):
    encrypt_all(workspace, base64.b64encode(os.urandom(32)).decode())
    workspace.service.kernel.evidence.keys = EvidenceKeys.parse(
        base64.b64encode(os.urandom(32)).decode()
    )
    caplog.set_level(logging.INFO)
    ref = workspace.case_ref
    http = await workspace.signed_in("dsl1", "Mr Patel")
    async with http, http.get(workspace.url(f"/web/cases/{ref}/evidence/1")) as r:
        page = await r.text()
        assert r.status == 503 and "encrypted with a key this server" in page
        assert "EVIDENCE_KEYS" in page
    with workspace.service.kernel.session() as session:
        [event] = [e for e in repo.timeline(session, ref) if e.action == "evidence.locked"]
    assert set(event.detail) <= {"file", "by"}
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "can't be decrypted with EVIDENCE_KEYS" in logged and "MARKER" not in logged
