"""An escalation email as the recipient reads it: plain text and HTML, the same words.

Built from the outbox's neutral Message (bot/features/cases/emails.py decides what it may
say: a reference, the kind, urgent or not, the time); the one-time sign-in link is added
here, at sending time, so no working link is ever stored.
"""

from __future__ import annotations

import html
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from bot.domain.messages import Message

LINK_NOTE = (
    "The link works once, within {hours} hours, and only for you: please don't forward this email."
)
NO_LINK = "Open schoolbot in Slack or Teams to see it (the web workspace is not switched on)."


def compose(
    message: Message,
    sender: str,
    to: str,
    link: str | None,
    *,
    link_hours: int,
    about_a_case: bool = True,
) -> EmailMessage:
    """The email; one not about a case (the bot telling the Headteacher something about
    itself) has no way into the bot's pages."""
    email = EmailMessage()
    email["Subject"] = message.title or "schoolbot"
    email["From"] = sender
    email["To"] = to
    email["Date"] = formatdate(localtime=False)
    domain = sender.rpartition("@")[2] or None
    email["Message-ID"] = make_msgid(domain=domain)
    email["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies to it
    if message.urgent:
        email["Importance"] = "high"
        email["X-Priority"] = "1"
    no_link = NO_LINK if about_a_case else ""
    email.set_content(_plain(message, link, link_hours, no_link))
    email.add_alternative(_html(message, link, link_hours, no_link), subtype="html")
    return email


def _plain(message: Message, link: str | None, link_hours: int, no_link: str) -> str:
    lines = [message.text, ""]
    lines += [f"{label}: {value}" for label, value in message.fields]
    lines.append("")
    if link:
        lines += [f"Open schoolbot: {link}", LINK_NOTE.format(hours=link_hours)]
    elif no_link:
        lines.append(no_link)
    return "\n".join(lines) + "\n"


def _html(message: Message, link: str | None, link_hours: int, no_link: str) -> str:
    e = html.escape
    paragraphs = "".join(f"<p>{e(line)}</p>" for line in message.text.splitlines() if line)
    rows = "".join(
        f'<tr><th scope="row" style="text-align:left;padding-right:1em">{e(label)}</th>'
        f"<td>{e(value)}</td></tr>"
        for label, value in message.fields
    )
    if link:
        way_in = (
            f'<p><a href="{e(link, quote=True)}">Open schoolbot</a></p>'
            f"<p>{e(LINK_NOTE.format(hours=link_hours))}</p>"
        )
    else:
        way_in = f"<p>{e(no_link)}</p>" if no_link else ""
    title = e(message.title or "schoolbot")
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f"</head><body><h1>{title}</h1>{paragraphs}<table>{rows}</table>{way_in}</body></html>"
    )
