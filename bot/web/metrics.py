"""GET /metrics: the Prometheus metrics (bot/observability/metrics.py), behind a token.

Off unless SCHOOLBOT_METRICS_TOKEN is set; then a scrape must send it as a bearer token
(`Authorization: Bearer ...`). Without one the answer is 401, with a wrong one 403. The
figures kept in the database (the outbox, unacknowledged urgent cases) are read at each
scrape, on the database's own threads.
"""

from __future__ import annotations

import hmac
import logging

from aiohttp import web

from bot.dispatch import BotService, Trust
from bot.observability import metrics
from bot.storage import watch

PATH = "/metrics"
log = logging.getLogger(__name__)


def authorised(request: web.Request, token: str | None) -> web.Response | None:
    """None if the request may read the metrics, else the refusal to send."""
    if not token:
        return web.Response(status=403, text="Metrics are off: set SCHOOLBOT_METRICS_TOKEN.\n")
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        return web.Response(
            status=401,
            text="Send the metrics token as a bearer token.\n",
            headers={"WWW-Authenticate": 'Bearer realm="schoolbot metrics"'},
        )
    if not hmac.compare_digest(given.strip().encode(), token.encode()):
        return web.Response(status=403, text="That is not the metrics token.\n")
    return None


def read_state(service: BotService) -> metrics.State | None:
    """The database's figures, or None if it can't be read now (the scrape still answers)."""
    try:
        with service.kernel.session() as session:
            found = watch.figures(session, service.kernel.now())
    except Exception as exc:  # a scrape must answer while the database is down
        log.warning("metrics: couldn't read the outbox from the database: %s", type(exc).__name__)
        return None
    return metrics.State(found.outbox, found.urgent, found.urgent_oldest, found.waiting)


def read_trust_state(trust: Trust) -> metrics.State | None:
    """Every school's figures added together: one gauge for the install, as before."""
    states = [read_state(service) for service in trust.services]
    if any(state is None for state in states):
        return None
    return metrics.combined([state for state in states if state is not None])


def mount(app: web.Application, trust: Trust, token: str | None) -> None:
    async def scrape(request: web.Request) -> web.Response:
        if (refusal := authorised(request, token)) is not None:
            return refusal
        state = await trust.first.work.run(read_trust_state, trust)
        metrics.record_state(state)
        return web.Response(
            body=metrics.exposition(), headers={"Content-Type": metrics.CONTENT_TYPE}
        )

    app.router.add_get(PATH, scrape)
