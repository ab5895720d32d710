"""Email as a way out of chat for the escalation ladder: on when SMTP_HOST is set.

It is not a chat platform (no one talks to the bot by email, and no one's id is an email
id), so it is declared here rather than in bot.platforms.PLATFORMS; the server, the
banner and the start-up checks ask for it by name.
"""

from __future__ import annotations

from aiohttp import web

from bot.config import Settings
from bot.dispatch import Trust
from bot.platforms.base import Platform


def mode(settings: Settings) -> str | None:
    return settings.smtp_security if settings.smtp_host else None


def _where(settings: Settings) -> str:
    from bot.platforms.email.server import MailSettings

    mail = MailSettings.from_settings(settings)
    return f"{mail.host}:{mail.port} ({mail.security.upper()}, {mail.sign_in})"


def _status(settings: Settings, mode: str | None) -> str:
    if mode is None:
        return "Email: off (set SMTP_HOST to email unacknowledged alerts; see docs/operations.md)."
    return f"Email: unacknowledged alerts are emailed through {_where(settings)}."


def _mount(app: web.Application, trust: Trust, settings: Settings, mode: str) -> None:
    from bot.platforms.email.sends import EmailSendLoop
    from bot.platforms.email.server import MailServer, MailSettings
    from bot.platforms.school_loops import SchoolSendLoops

    mail = MailSettings.from_settings(settings)
    loop = SchoolSendLoops(trust, lambda school: EmailSendLoop(school.kernel, MailServer(mail)))

    async def lifecycle(_app: web.Application):
        await loop.start()
        yield
        await loop.stop()

    app.cleanup_ctx.append(lifecycle)


async def _check(settings: Settings, mode: str) -> list[str]:
    """One line: does the mail server take our sign-in? Nothing is sent."""
    from bot.platforms.email.server import MailProblem, MailServer, MailSettings

    mail = MailSettings.from_settings(settings)
    if problems := mail.problems():
        return [f"Email: can't send yet: {'; '.join(problems)}."]
    try:
        await MailServer(mail).check()
    except MailProblem as problem:
        return [
            f"Email: {problem} at {_where(settings)}. Check the SMTP_ settings; "
            "escalation emails wait in the outbox until it works."
        ]
    return [f"Email: signed in to the mail server {_where(settings)}."]


EMAIL = Platform("email", "Email", mode, _status, _mount, _check)
