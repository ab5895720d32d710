"""The DSL's case workspace: web pages served by the bot's own aiohttp server.

Every request finds the signed-in person from their session cookie and reads their roles
afresh, so a role removed in chat or on the server takes effect at once. A case that is
not yours is "not found", whether or not it exists. Buttons on the page call the same
domain code as the chat buttons, so a chat click and a web click cannot both win.
"""

from __future__ import annotations

import asyncio
import functools
import hmac
import logging
from dataclasses import dataclass
from importlib import resources
from typing import Any
from urllib.parse import urlencode

import aiohttp_jinja2
import jinja2
from aiohttp import web

from bot.domain.cases import Actor, CaseKind, CaseStatus, can_view, teams_of
from bot.services import cards
from bot.services.bot import BotService
from bot.storage import repository as repo
from bot.storage.tables import Case
from bot.web import listing
from bot.web.access import WebAccess, WebUser
from bot.web.bundle import build_bundle
from bot.web.casefile import build_case_file, evidence_path, file_intact
from bot.web.sniff import sniffed_image_type

log = logging.getLogger(__name__)

ACCESS_KEY = web.AppKey("web_access", WebAccess)
SERVICE_KEY = web.AppKey("web_service", BotService)
COOKIE = "schoolbot_session"
MAX_FORM_BYTES = 16 * 1024
ACTIONS = {
    "acknowledge": cards.CASE_ACK,
    "assign": cards.CASE_ASSIGN,
    "note": cards.CASE_NOTE,
    "close": cards.CASE_CLOSE,
}
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


@dataclass(frozen=True)
class Visitor:
    """The signed-in person with the roles they hold right now."""

    user: WebUser
    actor: Actor


def mount(app: web.Application, service: BotService, access: WebAccess) -> None:
    app[ACCESS_KEY] = access
    app[SERVICE_KEY] = service
    templates = resources.files("bot.web") / "templates"
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(str(templates)),
        autoescape=jinja2.select_autoescape(default=True),
        context_processors=[],
    )
    app.middlewares.append(_security_headers)
    app.router.add_get("/web/", case_list)
    app.router.add_get("/web", lambda _request: _redirect("/web/"))
    app.router.add_get("/web/sign-in/{token}", sign_in)
    app.router.add_post("/web/sign-out", sign_out)
    app.router.add_get("/web/static/style.css", stylesheet)
    app.router.add_get("/web/cases/{ref}", case_page)
    from bot.web import hold_routes

    hold_routes.mount(app)
    app.router.add_post("/web/cases/{ref}/{action}", case_action)
    app.router.add_get("/web/cases/{ref}/evidence/{item}", evidence_file)
    app.router.add_get("/web/cases/{ref}/bundle.zip", bundle)
    from bot.web import report  # the governors' report; it uses this module's helpers

    report.mount(app)


@web.middleware
async def _security_headers(request: web.Request, handler: Any) -> web.StreamResponse:
    if not request.path.startswith("/web"):
        return await handler(request)
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        exc.headers.update(SECURITY_HEADERS)
        raise
    response.headers.update(SECURITY_HEADERS)
    return response


def _redirect(location: str) -> web.Response:
    raise web.HTTPSeeOther(location)


def _page(
    request: web.Request, name: str, context: dict[str, Any], status: int = 200
) -> web.Response:
    return aiohttp_jinja2.render_template(name, request, context, status=status)


def _message(request: web.Request, status: int, title: str, text: str) -> web.Response:
    return _page(request, "message.html", {"title": title, "text": text, "visitor": None}, status)


async def _visitor(request: web.Request) -> Visitor | None:
    access = request.app[ACCESS_KEY]
    service = request.app[SERVICE_KEY]
    user = await service.run(access.user_for, request.cookies.get(COOKIE))
    if user is None:
        return None

    def roles() -> Actor:
        with service.session() as session:
            return service.actor(session, user.platform, user.user_id, user.name)

    return Visitor(user, await service.run(roles))


def _signed_out(request: web.Request) -> web.Response:
    return _message(
        request,
        401,
        "Please sign in from chat",
        "You're not signed in, or your session has ended. Ask schoolbot for a new link: "
        "press “Open in browser” on an alert, or type “case” and the reference in chat.",
    )


def _not_found(request: web.Request) -> web.Response:
    return _message(
        request, 404, "Not found", "There is no case here that you can see. Check the link."
    )


# --- signing in and out -----------------------------------------------------------------


async def sign_in(request: web.Request) -> web.Response:
    access = request.app[ACCESS_KEY]
    redeemed = await request.app[SERVICE_KEY].run(access.redeem, request.match_info["token"][:100])
    if redeemed is None:
        return _message(
            request,
            403,
            "This link can't be used",
            "Sign-in links work once and for 10 minutes. Ask schoolbot for a new one: press "
            "“Open in browser” again.",
        )
    token, next_path = redeemed
    response = web.HTTPSeeOther(next_path)
    response.set_cookie(
        COOKIE,
        token,
        httponly=True,
        secure=access.secure,
        samesite="Strict",
        path="/web",
    )
    log.info("web workspace: signed in")
    raise response


async def sign_out(request: web.Request) -> web.Response:
    visitor = await _visitor(request)
    if visitor is None:
        return _signed_out(request)
    form = await _form(request, visitor)
    if form is None:
        return _message(request, 403, "Please try again", "That form had expired. Reload the page.")
    await request.app[SERVICE_KEY].run(request.app[ACCESS_KEY].end, request.cookies.get(COOKIE))
    response = _message(request, 200, "Signed out", "You've signed out. You can close this tab.")
    response.del_cookie(COOKIE, path="/web")
    return response


async def stylesheet(_request: web.Request) -> web.Response:
    css = (resources.files("bot.web") / "static" / "style.css").read_text("utf-8")
    return web.Response(text=css, content_type="text/css")


# --- pages ------------------------------------------------------------------------------


async def case_list(request: web.Request) -> web.Response:
    visitor = await _visitor(request)
    if visitor is None:
        return _signed_out(request)
    service = request.app[SERVICE_KEY]
    filters = listing.Filters.from_query(request.query)
    rows = await service.run(listing.cases_for, service, visitor.actor, filters)
    return _page(
        request,
        "list.html",
        {
            "visitor": visitor,
            "team": bool(teams_of(service.pack, visitor.actor)),
            "slt": "slt" in teams_of(service.pack, visitor.actor),
            "own": rows.own,
            "team_cases": rows.team,
            "filters": filters,
            "kinds": [(k.value, k.title) for k in CaseKind],
            "statuses": [(s.value, listing.STATUS_WORDS[s]) for s in CaseStatus],
        },
    )


def _load(service: BotService, visitor: Visitor, ref: str) -> tuple[Case | None, bool]:
    """The case and whether this person is on its owning team; None if they may not see it."""
    with service.session() as session:
        case = repo.case_by_ref(session, ref.upper()[:20])
        if case is None:
            return None, False
        reporter = f"{case.platform}:{case.reporter_id}"
        if not can_view(service.pack, visitor.actor, case.team, reporter):
            return None, False
        return case, case.team in teams_of(service.pack, visitor.actor)


def _record(service: BotService, visitor: Visitor, case: Case, action: str, **detail: Any) -> Any:
    with service.session() as session:
        repo.audit(
            session,
            service.now(),
            visitor.actor.key,
            action,
            case.ref,
            by=visitor.user.name,
            **detail,
        )
        session.commit()
        fresh = repo.case_by_ref(session, case.ref)
        assert fresh is not None
        return build_case_file(session, service.pack, service.evidence, fresh)


async def case_page(request: web.Request) -> web.Response:
    visitor = await _visitor(request)
    if visitor is None:
        return _signed_out(request)
    service = request.app[SERVICE_KEY]
    case, on_team = await service.run(_load, service, visitor, request.match_info["ref"])
    if case is None:
        return _not_found(request)
    if not on_team:
        return _page(
            request,
            "own_case.html",
            {
                "visitor": visitor,
                "case": case,
                "kind": CaseKind(case.kind).title,
                "status": listing.STATUS_WORDS[CaseStatus(case.status)],
                "opened": listing.local_time(service.pack, case.created_at),
            },
        )
    record = await service.run(_record, service, visitor, case, "case.viewed")
    return _page(
        request,
        "case.html",
        {
            "visitor": visitor,
            "case": record,
            "buttons": {b.action for b in cards.case_buttons(case)},
            "actions": ACTIONS,
            "done": request.query.get("done", "")[:300],
            "close_hint": cards.CLOSE_HINT,
        },
    )


async def _form(request: web.Request, visitor: Visitor) -> dict[str, str] | None:
    """The posted form, or None when its CSRF token is missing or wrong."""
    if request.content_length is not None and request.content_length > MAX_FORM_BYTES:
        return None
    try:
        data = await request.post()
    except (ValueError, web.HTTPException):
        return None
    token = data.get("csrf")
    if not isinstance(token, str) or not hmac.compare_digest(
        token.encode("utf-8", "surrogatepass"), visitor.user.csrf.encode()
    ):
        return None
    return {k: v for k, v in data.items() if isinstance(v, str)}


async def case_action(request: web.Request) -> web.Response:
    visitor = await _visitor(request)
    if visitor is None:
        return _signed_out(request)
    service = request.app[SERVICE_KEY]
    case, on_team = await service.run(_load, service, visitor, request.match_info["ref"])
    if case is None or not on_team:
        return _not_found(request)
    form = await _form(request, visitor)
    if form is None:
        return _message(
            request,
            403,
            "Please try again",
            "That form had expired, so nothing was changed. "
            "Go back, reload the page and try again.",
        )
    action = ACTIONS.get(request.match_info["action"])
    if action is None:
        return _not_found(request)
    text = (form.get("text") or "").strip() or None
    message = (form.get("message") or "").strip() or None if action == cards.CASE_CLOSE else None
    replies = await service.run(
        functools.partial(
            service.handle_action,
            visitor.user.platform,
            visitor.user.user_id,
            action,
            case.ref,
            text,
            visitor.user.name,
            message=message,
        )
    )
    said = " ".join(m.text for m in replies)[:300]
    raise web.HTTPSeeOther(f"/web/cases/{case.ref}?" + urlencode({"done": said}))


async def evidence_file(request: web.Request) -> web.StreamResponse:
    visitor = await _visitor(request)
    if visitor is None:
        return _signed_out(request)
    service = request.app[SERVICE_KEY]
    case, on_team = await service.run(_load, service, visitor, request.match_info["ref"])
    if case is None or not on_team:
        return _not_found(request)
    record = await service.run(build_case_file_for, service, case)
    wanted = request.match_info["item"]
    item = next((e for e in record.evidence if str(e.id) == wanted), None)
    if item is None:
        return _not_found(request)
    intact, missing = await asyncio.to_thread(file_intact, service.evidence, item.sha256)
    if not intact:
        return _message(
            request,
            409,
            "This file can't be trusted",
            "The file on the server no longer matches the fingerprint recorded when it was "
            "reported" + (" (it is missing)" if missing else "") + ", so it has not been "
            "opened. Tell your IT lead: the record may have been tampered with.",
        )
    path = evidence_path(service.evidence, item.sha256)
    head = await asyncio.to_thread(_head, path)
    image = sniffed_image_type(head) if request.query.get("view") == "1" else None
    await service.run(
        _record,
        service,
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


def build_case_file_for(service: BotService, case: Case) -> Any:
    with service.session() as session:
        fresh = repo.case_by_ref(session, case.ref)
        assert fresh is not None
        return build_case_file(session, service.pack, service.evidence, fresh)


async def bundle(request: web.Request) -> web.Response:
    visitor = await _visitor(request)
    if visitor is None:
        return _signed_out(request)
    service = request.app[SERVICE_KEY]
    case, on_team = await service.run(_load, service, visitor, request.match_info["ref"])
    if case is None or not on_team:
        return _not_found(request)
    record = await service.run(_record, service, visitor, case, "bundle.downloaded")
    data = await asyncio.to_thread(build_bundle, service, record)
    return web.Response(
        body=data,
        content_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{case.ref}-bundle.zip"'},
    )
