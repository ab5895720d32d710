"""Files out of the workspace: evidence (hash checked again, images inline only when the
bytes prove it) and the case bundle for a referral. Each download is in the case's history."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web

from bot.kernel.core import Kernel
from bot.storage import repository as repo
from bot.storage.tables import Case
from bot.web.bundle import build_bundle
from bot.web.casefile import build_case_file, evidence_path, file_intact
from bot.web.common import (
    not_found,
    record_event,
    show_message,
    team_case,
)
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
    intact, missing = await asyncio.to_thread(file_intact, kernel.evidence, item.sha256)
    if not intact:
        return show_message(
            request,
            409,
            "This file can't be trusted",
            "The file on the server no longer matches the fingerprint recorded when it was "
            "reported" + (" (it is missing)" if missing else "") + ", so it has not been "
            "opened. Tell your IT lead: the record may have been tampered with.",
        )
    path = evidence_path(kernel.evidence, item.sha256)
    head = await asyncio.to_thread(_head, path)
    image = sniffed_image_type(head) if request.query.get("view") == "1" else None
    await kernel.work.run(
        record_event,
        kernel,
        visitor,
        case,
        "evidence.viewed" if image else "evidence.downloaded",
        file=item.filename,
    )
    response = web.FileResponse(path)
    safe_name = "".join(c if c.isalnum() or c in "._- " else "_" for c in item.filename)[:120]
    if image:
        response.content_type = image
        response.headers["Content-Disposition"] = f'inline; filename="{safe_name}"'
    else:
        response.content_type = "application/octet-stream"
        response.headers["Content-Disposition"] = f'attachment; filename="{safe_name}"'
    return response


def _head(path: Any) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(32)


def build_case_file_for(kernel: Kernel, case: Case) -> Any:
    with kernel.session() as session:
        fresh = repo.case_by_ref(session, case.ref)
        assert fresh is not None
        return build_case_file(session, kernel, fresh)


async def bundle(request: web.Request) -> web.Response:
    found = await team_case(request)
    if isinstance(found, web.Response):
        return found
    visitor, kernel, case = found
    record = await kernel.work.run(record_event, kernel, visitor, case, "bundle.downloaded")
    data = await asyncio.to_thread(build_bundle, kernel, record)
    return web.Response(
        body=data,
        content_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{case.ref}-bundle.zip"'},
    )
