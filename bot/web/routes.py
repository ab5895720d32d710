"""The DSL's case workspace: web pages served by the bot's own aiohttp server.

Every request finds the signed-in person from their session cookie and reads their roles
afresh, so a role removed in chat or on the server takes effect at once. A case that is
not yours is "not found", whether or not it exists. Buttons on the page call the same
domain code as the chat buttons, so a chat click and a web click cannot both win.
"""

from __future__ import annotations

import logging
from importlib import resources
from urllib.parse import urlencode, urlsplit

import aiohttp_jinja2
import jinja2
from aiohttp import web

from bot.dispatch import BotService, Trust
from bot.domain.cases import CaseStatus, teams_of
from bot.domain.turns import ButtonPress
from bot.features.cases import cards
from bot.web import forms, listing
from bot.web.access import WebAccess
from bot.web.common import (
    ACCESS_KEY,
    ACTIONS,
    COOKIE,
    SERVICE_KEY,
    TRUST_KEY,
    current_visitor,
    form_expired,
    load_case,
    not_found,
    page,
    record_event,
    redirect,
    school_service,
    show_message,
    signed_out,
    team_case,
    web_access,
)
from bot.web.downloads import build_case_file_for, bundle, evidence_file
from bot.web.forms import FormTooLarge, read_form, too_large

log = logging.getLogger(__name__)


def mount(app: web.Application, served: BotService | Trust, access: WebAccess) -> None:
    """The workspace for every school of the trust; `access` is the first school's."""
    trust = served if isinstance(served, Trust) else Trust.of(served)
    app[ACCESS_KEY] = access
    app[SERVICE_KEY] = trust.first
    app[TRUST_KEY] = trust
    templates = resources.files("bot.web") / "templates"
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(str(templates)),
        autoescape=jinja2.select_autoescape(default=True),
        context_processors=[],
    )
    app.router.add_get("/web/", case_list)
    app.router.add_get("/web", to_case_list)
    app.router.add_get("/web/sign-in/{token}", sign_in)
    app.router.add_post("/web/sign-in/{token}", sign_in_pressed)
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


async def to_case_list(_request: web.Request) -> web.Response:
    """`/web`, without the slash. (aiohttp wants async handlers; a plain one is deprecated.)"""
    return redirect("/web/")


# --- signing in and out -----------------------------------------------------------------


# Chat apps fetch a link to preview it as soon as it is posted: Slack, Teams (Skype's
# previewer) and the like. Their fetch must not use up the link nor get the session. (Not
# "Teams" alone: the Teams desktop app's own browser says so, with a person at it.)
PREVIEWERS = ("slackbot", "skypeuripreview", "microsoftpreview", "teamsbot",
              "linkexpanding", "facebookexternalhit", "twitterbot", "discordbot",
              "whatsapp", "telegrambot", "linkedinbot", "embedly")  # fmt: skip


def is_preview(request: web.Request) -> bool:
    """A HEAD, or a GET by a known link previewer: not a person opening the link."""
    if request.method != "GET":
        return True
    agent = request.headers.get("User-Agent", "").lower()
    return any(name in agent for name in PREVIEWERS)


async def sign_in(request: web.Request) -> web.Response:
    if is_preview(request):
        return show_message(
            request,
            200,
            "Sign in to schoolbot",
            "This is a one-time sign-in link for the person it was sent to. Open it in your "
            "browser to sign in.",
        )
    if "confirm" in request.query:
        # An emailed link: a mail filter may open it first, so only the button uses it.
        action = f"/web/sign-in/{request.match_info['token'][:100]}"
        return page(
            request,
            "message.html",
            {
                "title": "Sign in to schoolbot",
                "text": "This link is for you alone and works once. Press the button to "
                "sign in and see the alert.",
                "button": {"action": action, "label": "Sign in"},
                "visitor": None,
            },
        )
    return await redeem_link(request)


async def sign_in_pressed(request: web.Request) -> web.Response:
    """The "Sign in" button on an emailed link's page; only from our own page. (Browsers
    say where a form came from in Sec-Fetch-Site; Origin is "null" under our no-referrer
    policy, so it counts only when it names another site.)"""
    origin = request.headers.get("Origin", "null")
    site = request.headers.get("Sec-Fetch-Site", "same-origin")
    if site != "same-origin" or (origin != "null" and urlsplit(origin).netloc != request.host):
        return show_message(
            request, 403, "This link can't be used", "Open the link from your email again."
        )
    return await redeem_link(request)


async def redeem_link(request: web.Request) -> web.Response:
    """Use the link once: the session cookie, then on to the page it was made for."""
    token = request.match_info["token"][:100]
    service = school_service(request, token)  # the link's school decides
    access = web_access(service)
    redeemed = await service.work.run(access.redeem, token)
    if redeemed is None:
        return show_message(
            request,
            403,
            "This link can't be used",
            "Sign-in links work once, and only for a while (10 minutes from chat, a day from "
            "an email). Ask schoolbot for a new one: press “Open in browser” on the alert, "
            "or type “case” and the reference in chat.",
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
    visitor = await current_visitor(request)
    if visitor is None:
        return signed_out(request)
    try:
        form = await read_form(request, visitor)
    except FormTooLarge:
        return too_large(request)
    if form is None:
        return show_message(
            request, 403, "Please try again", "That form had expired. Reload the page."
        )
    service = school_service(request)
    await service.work.run(web_access(service).end, request.cookies.get(COOKIE))
    response = show_message(
        request, 200, "Signed out", "You've signed out. You can close this tab."
    )
    response.del_cookie(COOKIE, path="/web")
    return response


async def stylesheet(_request: web.Request) -> web.Response:
    css = (resources.files("bot.web") / "static" / "style.css").read_text("utf-8")
    return web.Response(text=css, content_type="text/css")


# --- pages ------------------------------------------------------------------------------


async def case_list(request: web.Request) -> web.Response:
    visitor = await current_visitor(request)
    if visitor is None:
        return signed_out(request)
    service = school_service(request)
    filters = listing.Filters.from_query(request.query, service.kernel.registry.case_kinds)
    rows = await service.work.run(listing.cases_for, service.kernel, visitor.actor, filters)
    return page(
        request,
        "list.html",
        {
            "visitor": visitor,
            "team": bool(teams_of(service.kernel.pack, visitor.actor)),
            "slt": "slt" in teams_of(service.kernel.pack, visitor.actor),
            "own": rows.own,
            "team_cases": rows.team,
            "filters": filters,
            "kinds": [(k.code, k.title) for k in service.kernel.registry.case_kinds.values()],
            "statuses": [(s.value, listing.STATUS_WORDS[s]) for s in CaseStatus],
        },
    )


async def case_page(request: web.Request) -> web.Response:
    visitor = await current_visitor(request)
    if visitor is None:
        return signed_out(request)
    service = school_service(request)
    case, on_team = await service.work.run(
        load_case, service.kernel, visitor, request.match_info["ref"]
    )
    if case is None:
        return not_found(request)
    if not on_team:
        return page(
            request,
            "own_case.html",
            {
                "visitor": visitor,
                "case": case,
                "kind": service.kernel.registry.case_kind(case.kind).title,
                "status": listing.STATUS_WORDS[CaseStatus(case.status)],
                "opened": listing.local_time(service.kernel.pack, case.created_at),
            },
        )
    if request.method == "GET":  # a person's view; a HEAD (a link checker) is none
        record = await service.work.run(record_event, service.kernel, visitor, case, "case.viewed")
    else:
        record = await service.work.run(build_case_file_for, service.kernel, case)
    context = forms.case_context(service.kernel, visitor, case, record)
    context["done"] = forms.done_message(request.query.get("done", ""), case.ref)
    return page(request, "case.html", context)


async def case_action(request: web.Request) -> web.Response:
    found = await team_case(request)
    if isinstance(found, web.Response):
        return found
    visitor, _, case = found
    name = request.match_info["action"]
    action = ACTIONS.get(name)
    if action is None:
        return not_found(request)
    try:
        form = await read_form(request, visitor)
    except FormTooLarge as error:
        return await forms.form_again(request, visitor, case, error)
    if form is None:
        return form_expired(request)
    text = (form.get("text") or "").strip() or None
    message = (form.get("message") or "").strip() or None if action == cards.CASE_CLOSE else None
    press = ButtonPress(
        visitor.user.platform,
        visitor.user.user_id,
        action,
        case.ref,
        text,
        message,
        visitor.user.name,
    )
    service = school_service(request)
    done, key = forms.RECORDED[name][0], visitor.actor.key
    before = await service.work.run(forms.count_of, service.kernel, case.ref, done, key)
    await service.work.run(service.press, press)
    after = await service.work.run(forms.count_of, service.kernel, case.ref, done, key)
    outcome = forms.done_key(name, before, after)
    raise web.HTTPSeeOther(f"/web/cases/{case.ref}?" + urlencode({"done": outcome}))
