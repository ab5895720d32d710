"""What every workspace page shares: the signed-in visitor, page and message rendering,
and loading a case only for those who may see it. (Forms: forms.py; headers: headers.py.)"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from bot.dispatch import BotService, Trust
from bot.domain.cases import Actor, can_view, teams_of
from bot.features.cases import cards
from bot.kernel.core import Kernel
from bot.storage import repository as repo
from bot.storage.tables import Case
from bot.web.access import WebAccess, WebUser, school_in
from bot.web.casefile import build_case_file

log = logging.getLogger(__name__)

ACCESS_KEY = web.AppKey("web_access", WebAccess)
SERVICE_KEY = web.AppKey("web_service", BotService)  # the first school's
TRUST_KEY = web.AppKey("web_trust", Trust)
COOKIE = "schoolbot_session"
ACTIONS = {
    "acknowledge": cards.CASE_ACK,
    "assign": cards.CASE_ASSIGN,
    "note": cards.CASE_NOTE,
    "close": cards.CASE_CLOSE,
    "reopen": cards.CASE_REOPEN,
}


@dataclass(frozen=True)
class Visitor:
    """The signed-in person with the roles they hold right now."""

    user: WebUser
    actor: Actor


def redirect(location: str) -> web.Response:
    raise web.HTTPSeeOther(location)


def page(
    request: web.Request, name: str, context: dict[str, Any], status: int = 200
) -> web.Response:
    return aiohttp_jinja2.render_template(name, request, context, status=status)


def show_message(request: web.Request, status: int, title: str, text: str) -> web.Response:
    return page(request, "message.html", {"title": title, "text": text, "visitor": None}, status)


def school_service(request: web.Request, token: str | None = None) -> BotService:
    """The service of the school a sign-in link's `token`, else the session cookie, belongs
    to: a session of one school never reads another's records. A token naming no school
    this process serves is looked up in the first school, where it finds nothing (signed
    out); a school added since the start is served from the scheduler's next tick."""
    if token is None:
        token = request.cookies.get(COOKIE)
    trust = request.app[TRUST_KEY]
    return trust.known(school_in(token)) or trust.first


def web_access(service: BotService) -> WebAccess:
    """The school's sign-in links and sessions (every school has them when the workspace
    is on: runtime.py gives each its own)."""
    access = service.outbox.web
    assert isinstance(access, WebAccess)
    return access


async def current_visitor(request: web.Request) -> Visitor | None:
    service = school_service(request)
    kernel = service.kernel
    user = await kernel.work.run(web_access(service).user_for, request.cookies.get(COOKIE))
    if user is None:
        return None

    def roles() -> Actor:
        with kernel.session() as session:
            return kernel.actor(session, user.platform, user.user_id, user.name)

    return Visitor(user, await kernel.work.run(roles))


def signed_out(request: web.Request) -> web.Response:
    return show_message(
        request,
        401,
        "Please sign in from chat",
        "You're not signed in, or your session has ended. Ask schoolbot for a new link: "
        "press “Open in browser” on an alert, or type “case” and the reference in chat.",
    )


def not_found(request: web.Request) -> web.Response:
    return show_message(
        request, 404, "Not found", "There is no case here that you can see. Check the link."
    )


def load_case(kernel: Kernel, visitor: Visitor, ref: str) -> tuple[Case | None, bool]:
    """The case and whether this person is on its owning team; None if they may not see it."""
    with kernel.session() as session:
        case = repo.case_by_ref(session, ref.upper()[:20])
        if case is None:
            return None, False
        reporter = f"{case.platform}:{case.reporter_id}"
        if not can_view(kernel.pack, visitor.actor, case.team, reporter):
            return None, False
        return case, case.team in teams_of(kernel.pack, visitor.actor)


def record_event(kernel: Kernel, visitor: Visitor, case: Case, action: str, **detail: Any) -> Any:
    with kernel.session() as session:
        repo.audit(
            session,
            kernel.now(),
            visitor.actor.key,
            action,
            case.ref,
            by=visitor.user.name,
            **detail,
        )
        session.commit()
        fresh = repo.case_by_ref(session, case.ref)
        assert fresh is not None
        return build_case_file(session, kernel, fresh)


async def team_case(request: web.Request) -> tuple[Visitor, Kernel, Case] | web.Response:
    """The signed-in visitor and the case in the URL, for its owning team only; otherwise
    the page to answer with (sign in, or "not found", never a hint that the case exists)."""
    visitor = await current_visitor(request)
    if visitor is None:
        return signed_out(request)
    kernel = school_service(request).kernel
    case, on_team = await kernel.work.run(load_case, kernel, visitor, request.match_info["ref"])
    if case is None or not on_team:
        return not_found(request)
    return visitor, kernel, case


def form_expired(request: web.Request) -> web.Response:
    return show_message(
        request,
        403,
        "Please try again",
        "That form had expired, so nothing was changed. Go back, reload the page and try again.",
    )
