"""Files out of the workspace: evidence (hash checked again, images inline only when the
bytes prove it) and the case bundle for a referral, streamed as it is made.

Each download a person makes is one line in the case's history. A picture drawn in the
case page is part of that page's view, not a line of its own, and a HEAD (a link checker)
records nothing and is sent no file. A file that fails its hash check is not opened, and
the attempt is in the history and the log.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web

from bot.kernel.core import Kernel
from bot.kernel.evidence_store import INTACT, LOCKED, MISSING
from bot.storage import repository as repo
from bot.storage.tables import Case
from bot.web.bundle import bundle_chunks
from bot.web.casefile import build_case_file
from bot.web.common import not_found, record_event, show_message, team_case
from bot.web.headers import content_disposition
from bot.web.sniff import sniffed_image_type

log = logging.getLogger(__name__)


async def evidence_file(request: web.Request) -> web.StreamResponse:
    found = await team_case(request)
    if isinstance(found, web.Response):
        return found
    visitor, kernel, case = found
    record = await kernel.work.run(build_case_file_for, kernel, case)
    wanted = request.match_info["item"]
    item = next((e for e in record.evidence if str(e.id) == wanted), None)
    if item is None:
        return not_found(request)
    person = request.method == "GET"
    state = await asyncio.to_thread(kernel.evidence.check, item.sha256)
    if state == LOCKED:
        if person:
            log.error("case %s: an evidence file can't be decrypted with EVIDENCE_KEYS", case.ref)
            await kernel.work.run(
                record_event, kernel, visitor, case, "evidence.locked", file=item.filename
            )
        return show_message(
            request,
            503,
            "This file can't be opened on this server",
            "It is encrypted with a key this server doesn't have. Nothing has been changed. "
            "Tell your IT lead: EVIDENCE_KEYS must include the key the file was stored with.",
        )
    intact, missing = state == INTACT, state == MISSING
    if not intact:
        if person:
            log.warning("case %s: an evidence file failed its hash check; not opened", case.ref)
            await kernel.work.run(
                record_event, kernel, visitor, case, "evidence.refused", file=item.filename
            )
        return show_message(
            request,
            409,
            "This file can't be trusted",
            "The file on the server no longer matches the fingerprint recorded when it was "
            "reported" + (" (it is missing)" if missing else "") + ", so it has not been "
            "opened. Tell your IT lead: the record may have been tampered with.",
        )
    data = await asyncio.to_thread(kernel.evidence.read, item.sha256)
    image = sniffed_image_type(data[:32]) if request.query.get("view") == "1" else None
    if person and not image:  # an image in the page is part of the page's view
        await kernel.work.run(
            record_event, kernel, visitor, case, "evidence.downloaded", file=item.filename
        )
    # The original bytes, decrypted here when the file is encrypted at rest.
    response = web.Response(body=data if person else None)
    response.content_type = image or "application/octet-stream"
    kind = "inline" if image else "attachment"
    response.headers["Content-Disposition"] = content_disposition(kind, item.filename)
    return response


def build_case_file_for(kernel: Kernel, case: Case) -> Any:
    with kernel.session() as session:
        fresh = repo.case_by_ref(session, case.ref)
        assert fresh is not None
        return build_case_file(session, kernel, fresh)


async def bundle(request: web.Request) -> web.StreamResponse:
    """The zip, sent as it is written: a piece is made (off the event loop) only once the
    last one is on its way, so a download holds one piece in memory, not the bundle."""
    found = await team_case(request)
    if isinstance(found, web.Response):
        return found
    visitor, kernel, case = found
    headers = {
        "Content-Type": "application/zip",
        "Content-Disposition": content_disposition("attachment", f"{case.ref}-bundle.zip"),
    }
    if request.method != "GET":
        return web.Response(headers=headers)
    record = await kernel.work.run(record_event, kernel, visitor, case, "bundle.downloaded")
    chunks = bundle_chunks(kernel, record)
    try:
        # The first piece holds the PDF: if it can't be made, that is a 500, not half a zip.
        piece = await asyncio.to_thread(next, chunks, None)
        response = web.StreamResponse(headers=headers)
        await response.prepare(request)
        while piece is not None:
            await response.write(piece)
            piece = await asyncio.to_thread(next, chunks, None)
        await response.write_eof()
        return response
    finally:
        chunks.close()
