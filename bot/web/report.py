"""The governors' termly report in the web workspace, for SLT only.

The page shows the same figures as `schoolbot report` (aggregates, protected so no one can be picked out),
each chart an SVG served from its own same-origin URL so the page keeps its strict
Content-Security-Policy. Roles are read again on every request; anyone not in SLT gets
"not found", as for a case that isn't theirs.
"""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

from aiohttp import web

from bot.domain.cases import teams_of
from bot.kernel.core import Kernel
from bot.records import governors, governors_counts
from bot.records.governors_render import CHARTS, charts, render, report_pdf
from bot.web import common


def mount(app: web.Application) -> None:
    app.router.add_get("/web/report", report_page)
    app.router.add_get("/web/report/{chart}.svg", chart_svg)
    app.router.add_get("/web/report/report.pdf", download)
    app.router.add_get("/web/report/report.csv", download)


def is_slt(kernel: Kernel, visitor: common.Visitor) -> bool:
    return "slt" in teams_of(kernel.pack, visitor.actor)


async def _figures(
    request: web.Request,
) -> tuple[common.Visitor, governors.Figures] | web.Response:
    """The visitor and the term's figures when they are in SLT, or the page for anyone else."""
    visitor = await common.current_visitor(request)
    if visitor is None:
        return common.signed_out(request)
    service = common.school_service(request)
    if not is_slt(service.kernel, visitor):
        return common.not_found(request)
    try:
        term = governors.parse_term(request.query.get("term", "")[:20])
    except governors.TermError:
        term = governors.term_of(service.kernel.now().date())
    return visitor, await service.work.run(governors_counts.figures, service.kernel, term)


async def report_page(request: web.Request) -> web.Response:
    found = await _figures(request)
    if isinstance(found, web.Response):
        return found
    visitor, data = found
    previous = _term_of(data.term.first - timedelta(days=1))
    following = _term_of(data.term.last + timedelta(days=1))
    return common.page(
        request,
        "report.html",
        {
            "visitor": visitor,
            "data": data,
            "charts": charts(data),
            "rows": data.rows(),
            "previous": previous,
            "following": following,
        },
    )


def _term_of(day: date) -> governors.Term | None:
    """The term a day is in, or None past the first or last year a report can be for."""
    term = governors.term_of(day)
    return term if governors.FIRST_YEAR <= term.year <= governors.LAST_YEAR else None


async def chart_svg(request: web.Request) -> web.Response:
    name = request.match_info["chart"]
    found = await _figures(request)
    if isinstance(found, web.Response):
        return found
    _visitor, data = found
    if name not in CHARTS:
        return common.not_found(request)
    svg = await asyncio.to_thread(render, data, name, "svg")
    return web.Response(body=svg, content_type="image/svg+xml")


async def download(request: web.Request) -> web.Response:
    """The PDF or the CSV, as `schoolbot report` writes them, to attach to governors' papers."""
    found = await _figures(request)
    if isinstance(found, web.Response):
        return found
    _visitor, data = found
    if request.path.endswith(".pdf"):
        body = await asyncio.to_thread(report_pdf, data)
        kind, suffix = "application/pdf", "pdf"
    else:
        body, kind, suffix = data.csv().encode("utf-8"), "text/csv", "csv"
    return web.Response(
        body=body,
        content_type=kind,
        headers={
            "Content-Disposition": f'attachment; filename="governors-{data.term.key}.{suffix}"'
        },
    )
