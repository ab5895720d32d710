"""The privacy and terms pages the Teams app (and anyone) links to: GET /privacy, /terms.

Plain, short HTML about this school's copy of the bot, filled in from its policy pack. The
Teams package points its developer links here unless SCHOOLBOT_PRIVACY_URL and
SCHOOLBOT_TERMS_URL say otherwise.
"""

from __future__ import annotations

from html import escape

from aiohttp import web

from bot.dispatch import BotService
from bot.domain.policy import PolicyPack
from bot.web import headers

# Inline, and allowed by its hash in the Content-Security-Policy (bot.web.headers).
STYLE = "body { font-family: sans-serif; max-width: 40em; margin: 2em auto; padding: 0 1em; }"
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


def privacy(pack: PolicyPack) -> str:
    from bot.domain.retention import rules

    school = escape(pack.school.name)
    years = "".join(f"<li>{escape(r.record)}: {escape(r.period)}.</li>" for r in rules(pack))
    policy = escape(pack.school.policy_title)
    return PAGE.format(
        style=STYLE,
        title=f"schoolbot at {school}: privacy",
        body=f"""
<p>schoolbot is run by {school} for its staff. It helps staff follow the school's
{policy}. {school} is responsible for the information it holds.</p>
<h2>What it stores</h2>
<ul>
<li>What staff tell it when they report something or ask for an official account: their
answers, any notes, and the files they send as evidence.</li>
<li>Who did what: who reported, who picked a case up, added a note, closed it or decided a
request, and when. This record cannot be changed afterwards.</li>
<li>Each person's chat account id and display name, and which staff hold the
safeguarding (DSL), senior leadership (SLT) or approver roles.</li>
<li>What it needs to send messages later, such as the chat and channel ids it posts in.</li>
</ul>
<p>It is kept on the server the school runs the bot on (its database and data folder). It
is not used for anything else and is not shared with anyone else. Messages travel through the chat service the school uses
(Microsoft Teams or Slack).</p>
<h2>Who can see it</h2>
<ul>
<li>The member of staff who reported something can see their own reports and what happened
to them.</li>
<li>The safeguarding (DSL) team sees the safeguarding cases; the senior leadership (SLT) team
and approvers see the requests and cases that go to them.</li>
<li>The school's IT staff who run the bot can reach the database.</li>
</ul>
<h2>How long it is kept</h2>
<p>The bot deletes records by itself once a day when their time is up, and keeps a log of
what it removed. A case under a legal hold is kept until the hold is lifted.</p>
<ul>{years}</ul>
<p>Technical records (which chat messages were already handled) are removed after a week.</p>
<h2>Questions</h2>
<p>Please contact {school}, for example its data protection lead or the school office. You
can ask what is held about you and ask for it to be corrected.</p>
""",
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


def mount(app: web.Application, service: BotService) -> None:
    async def privacy_page(_request: web.Request) -> web.Response:
        return web.Response(text=privacy(service.kernel.pack), content_type="text/html")

    async def terms_page(_request: web.Request) -> web.Response:
        return web.Response(text=terms(service.kernel.pack), content_type="text/html")

    app.router.add_get("/privacy", privacy_page)
    app.router.add_get("/terms", terms_page)
