"""The bot's one aiohttp server: /livez, /readyz (and /healthz, the same as /readyz), and
/metrics when SCHOOLBOT_METRICS_TOKEN is set.

Slack, Teams and the comment webhook mount their routes here."""

from __future__ import annotations

import asyncio
import concurrent.futures
import gc
import logging
import sqlite3

import sqlalchemy as sa
from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.typedefs import Handler

from bot.config import Settings
from bot.dispatch import BotService, Trust
from bot.observability import logs, metrics
from bot.platforms import PLATFORMS
from bot.platforms.base import Platform
from bot.platforms.email.platform import EMAIL
from bot.web import pages
from bot.web.access import WebAccess, school_in
from bot.web.common import COOKIE
from bot.web.headers import add_security_headers

SERVICE_KEY = web.AppKey("service", BotService)  # the first school's
TRUST_KEY = web.AppKey("trust", Trust)
log = logging.getLogger(__name__)


async def livez(_request: web.Request) -> web.Response:
    """The process is up and serving: restart it if this fails."""
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """The bot can do its work: the database takes a write. (/healthz answers the same.)
    The schools it serves are named: a school added while running shows once picked up."""
    trust = request.app[TRUST_KEY]
    if problem := await asyncio.to_thread(database_problem, trust.engine):
        return web.json_response({"status": "degraded", "database": problem}, status=503)
    names = [service.kernel.pack.school.name for service in trust.services]
    return web.json_response(
        {"status": "ok", "database": "ok", "school": names[0], "schools": names}
    )


class RedactingAccessLogger(AbstractAccessLogger):
    """Access lines without query strings or sign-in tokens (a token in a log opens a case),
    tagged with the request's id and platform (see `observe`)."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        path = request.path
        if path.startswith("/web/sign-in/"):
            path = "/web/sign-in/…"
        # The middleware has gone by now: its id is on the response, its platform recomputed.
        request_id = response.headers.get(REQUEST_ID_HEADER)
        tag = logs.RequestTag(request_id, platform_of(request)) if request_id else None
        self.logger.info(
            "%s %s %s %.0fms",
            request.method,
            path,
            response.status,
            time * 1000,
            extra={"request_tag": tag},
        )


REQUEST_ID_HEADER = "X-Request-Id"


def platform_of(request: web.BaseRequest) -> str | None:
    """Which door a request came in by, from the module of the handler it was routed to
    (bot.platforms.slack..., bot.web.webhook, bot.web...); None for health and metrics."""
    if not isinstance(request, web.Request):  # not routed (a malformed request line)
        return None
    handler = request.match_info.route.handler
    module = getattr(handler, "__module__", "") or ""
    parts = module.split(".")
    if parts[:2] == ["bot", "platforms"] and len(parts) > 2:
        return parts[2]
    if module == "bot.web.webhook":
        return "webhook"
    if parts[:2] == ["bot", "web"] and module != "bot.web.metrics":
        return "web"
    return None


@web.middleware
async def observe(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Give each request an id of our own (returned as X-Request-Id) that its log lines
    carry, and count requests to the doors by platform and outcome."""
    platform = platform_of(request)
    request_id = logs.new_request_id()
    token = logs.bind(logs.RequestTag(request_id, platform))
    status = 500
    try:
        response = await handler(request)
        status = response.status
        # Set even on a streamed download that has sent its headers: the access log reads it.
        response.headers[REQUEST_ID_HEADER] = request_id
        return response
    except web.HTTPException as exc:
        status = exc.status
        exc.headers[REQUEST_ID_HEADER] = request_id
        raise
    finally:
        logs.reset(token)
        if platform is not None:
            metrics.request_done(platform, status)


# aiohttp refuses a request line or header over 8 KB itself, quoting its start in the log
# and the answer. We let the parser take up to PARSER_LIMIT and refuse over LINE_LIMIT here,
# where we can say so plainly and end the session or link the request carried.
LINE_LIMIT = 8190
PARSER_LIMIT = 64 * 1024


@web.middleware
async def refuse_oversized(request: web.Request, handler: Handler) -> web.StreamResponse:
    """414 for an address, 431 for a header, over LINE_LIMIT; any token in it is ended."""
    too_long_url = len(request.raw_path) > LINE_LIMIT
    too_long_header = any(len(value) > LINE_LIMIT for value in request.headers.values())
    if not (too_long_url or too_long_header):
        return await handler(request)
    trust = request.app[TRUST_KEY]
    cookie = request.cookies.get(COOKIE)
    link = request.path.removeprefix("/web/sign-in/") if "/sign-in/" in request.path else None
    # The session's school ends the session; the link's school uses up the link.
    for token in {cookie, link} - {None}:
        service = trust.known(school_in(token))
        if service is not None and isinstance(access := service.outbox.web, WebAccess):
            await service.work.run(access.end_exposed, cookie, request.path)
    log.warning("refused an oversized request (%s)", "address" if too_long_url else "header")
    status = 414 if too_long_url else 431
    response = web.Response(
        status=status,
        text="That request was too large. If you were signing in, ask for a new link in chat.",
    )
    response.force_close()
    return response


def database_problem(engine: sa.Engine, wait_seconds: float = 0.5) -> str | None:
    """Why a write would not go through now ("locked", "read-only", "unreachable"), or
    None. On SQLite a plain SELECT succeeds while another process holds the write lock and
    every turn fails, so take the write lock (BEGIN IMMEDIATE) on a connection of our own
    with a short wait, and give it straight back."""
    try:
        path = engine.url.database
        if engine.dialect.name == "sqlite" and path and path != ":memory:":
            probe = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=wait_seconds)
            try:
                probe.execute("BEGIN IMMEDIATE")
                probe.rollback()
            finally:
                probe.close()
            return None
        with engine.connect() as connection:
            if engine.dialect.name == "postgresql":
                read_only = connection.execute(sa.text("SHOW transaction_read_only")).scalar()
                return None if read_only == "off" else "read-only"
            connection.execute(sa.text("SELECT 1"))
        return None
    except (sa.exc.SQLAlchemyError, sqlite3.Error) as exc:
        log.warning("readiness check: the database can't take a write: %s", type(exc).__name__)
        return "locked" if "locked" in str(exc).lower() else "unreachable"


def active_platforms(settings: Settings) -> list[tuple[Platform, str]]:
    """The platforms this configuration turns on, each with the mode it runs in."""
    return [(c, mode) for c in PLATFORMS if (mode := c.mode(settings)) is not None]


def active_senders(settings: Settings) -> list[tuple[Platform, str]]:
    """The chat platforms turned on, then email if it is: what start-up checks."""
    email = [(EMAIL, mode)] if (mode := EMAIL.mode(settings)) is not None else []
    return active_platforms(settings) + email


def create_app(served: BotService | Trust, settings: Settings | None = None) -> web.Application:
    """The server for a trust's schools (or one school's service, a trust of one)."""
    trust = served if isinstance(served, Trust) else Trust.of(served)
    service = trust.first
    logs.redact_library_logs()
    app = web.Application(
        client_max_size=30 * 1024 * 1024,
        middlewares=[observe, refuse_oversized],
        handler_args={"max_line_size": PARSER_LIMIT, "max_field_size": PARSER_LIMIT},
    )
    app[SERVICE_KEY] = service
    app[TRUST_KEY] = trust
    app.on_response_prepare.append(add_security_headers)
    app.router.add_get("/livez", livez)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/healthz", readyz)
    # /privacy and /terms, which the Teams app links to; the notice names the services in use.
    if settings is None:
        pages.mount(app, service)
    else:
        pages.mount(app, service, [p.name for p, _ in active_senders(settings)])
    app.on_startup.append(_size_thread_pool)
    if settings is not None:
        for platform, mode in active_platforms(settings):
            if platform.mount is not None:
                platform.mount(app, trust, settings, mode)
        if (email_mode := EMAIL.mode(settings)) is not None and EMAIL.mount is not None:
            EMAIL.mount(app, trust, settings, email_mode)
        from bot import scheduler
        from bot.web.webhook import CommentHook

        scheduler.mount(app, trust, settings.tick_seconds)
        if settings.webhook_secret:
            CommentHook(service, settings.webhook_secret.get_secret_value()).mount(app)
        from bot.web import metrics as metrics_route

        token = settings.metrics_token
        metrics_route.mount(app, trust, token.get_secret_value() if token else None)
    if service.outbox.web is not None:
        from bot.web import routes

        assert isinstance(service.outbox.web, WebAccess)  # the one kind runtime.py sets
        routes.mount(app, trust, service.outbox.web)
    app.on_startup.append(_freeze_heap)  # last: after every other start-up step
    return app


_frozen = False


async def _freeze_heap(_app: web.Application) -> None:
    """Once per process, after start-up: move everything loaded so far (modules, botbuilder's
    models, the policy pack) out of the garbage collector's reach. A full collection scans
    every tracked object and pauses the event loop for it, 70-90 ms with botbuilder loaded,
    enough to push a Teams reply's p99 well past its target; with the start-up heap frozen
    a pause is a few ms. Objects made later (requests, sessions) are collected as before."""
    global _frozen
    if not _frozen:
        _frozen = True
        gc.collect()
        gc.freeze()


async def _size_thread_pool(app: web.Application) -> None:
    """The event loop's default threads are for blocking network calls in libraries
    (botbuilder sends Teams replies from them, each waiting for the connector): plenty, as
    each mostly waits on a socket. Database work has its own threads (BotService.run)."""
    asyncio.get_running_loop().set_default_executor(
        concurrent.futures.ThreadPoolExecutor(max_workers=32, thread_name_prefix="schoolbot-net")
    )
