"""The privacy and terms pages the Teams app (and anyone) links to: GET /privacy, /terms.

Plain HTML about this school's copy of the bot, filled in from its policy pack: the privacy
notice is bot.domain.privacy's, the same text a subject access export and the DPIA carry. The
Teams package points its developer links here unless SCHOOLBOT_PRIVACY_URL and
SCHOOLBOT_TERMS_URL say otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from aiohttp import web

from bot.dispatch import BotService
from bot.domain.policy import PolicyPack
from bot.domain.privacy import DEFAULT_SERVICES, notice
from bot.web import headers

# Inline, and allowed by its hash in the Content-Security-Policy (bot.web.headers).
STYLE = (
    "body { font-family: sans-serif; max-width: 40em; margin: 2em auto; padding: 0 1em; } "
    "table { border-collapse: collapse; } th, td { border: 1px solid #767676; padding: .3em; "
    "text-align: left; vertical-align: top; }"
)
headers.EXTRA_STYLES.append(STYLE)
PAGE = """<!DOCTYPE html>
<html lang="en-GB">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title><style>{style}</style></head>
<body>
<h1>{title}</h1>
{body}
</body>
</html>
"""


def privacy(pack: PolicyPack, services: Sequence[str] = DEFAULT_SERVICES) -> str:
    """The privacy notice (bot.domain.privacy), for the chat services this copy runs."""
    body: list[str] = []
    for section in notice(pack, services):
        body.append(f"<h2>{escape(section.heading)}</h2>")
        body += [f"<p>{escape(p)}</p>" for p in section.paragraphs]
        if section.items:
            body.append("<ul>" + "".join(f"<li>{escape(i)}</li>" for i in section.items) + "</ul>")
        if section.rows:
            body.append(
                '<table><thead><tr><th scope="col">Record</th><th scope="col">Kept for'
                "</th></tr></thead><tbody>"
                + "".join(
                    f"<tr><td>{escape(record)}</td><td>{escape(period)}</td></tr>"
                    for record, period in section.rows
                )
                + "</tbody></table>"
            )
    return PAGE.format(
        style=STYLE,
        title=f"schoolbot at {escape(pack.school.name)}: privacy",
        body="\n".join(body),
    )


def terms(pack: PolicyPack) -> str:
    school, policy = escape(pack.school.name), escape(pack.school.policy_title)
    return PAGE.format(
        style=STYLE,
        title=f"schoolbot at {school}: terms of use",
        body=f"""
<p>schoolbot is provided by {school} for its staff, for school business only.</p>
<ul>
<li>Its advice comes from the school's {policy}. It does not replace the policy, or the
judgement of the safeguarding (DSL) and senior leadership (SLT) teams.</li>
<li>If a child is in immediate danger, call 999 and tell the DSL straight away. Do not wait
for the bot.</li>
<li>Tell it only what is needed and true. What you send is kept as a school record (see the
<a href="/privacy">privacy page</a>).</li>
<li>The school may change or stop the service. The software is provided as it is, without
warranty.</li>
</ul>
<p>Questions: please contact {school}.</p>
""",
    )


def mount(
    app: web.Application, service: BotService, services: Sequence[str] = DEFAULT_SERVICES
) -> None:
    """`services`: the chat services (and email) this copy runs, named as processors."""

    async def privacy_page(_request: web.Request) -> web.Response:
        page = privacy(service.kernel.pack, services)
        return web.Response(text=page, content_type="text/html")

    async def terms_page(_request: web.Request) -> web.Response:
        return web.Response(text=terms(service.kernel.pack), content_type="text/html")

    app.router.add_get("/privacy", privacy_page)
    app.router.add_get("/terms", terms_page)
