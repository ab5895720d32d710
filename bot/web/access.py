"""Who is at the browser: one-time sign-in links from chat, then a short-lived session.

Staff already proved who they are to Slack, Teams or the terminal, so the bot hands the
person who asked a link bound to their own platform user id. The link works once, for ten
minutes, and starts a session that ends after 30 minutes idle or 8 hours at most. Only
hashes of the tokens are stored. Roles are never cached here: every request reads them.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlmodel import col

from bot.domain.messages import clean_name
from bot.storage.scoping import SchoolSession
from bot.storage.tables import WebSession, WebSignIn

if TYPE_CHECKING:
    from bot.kernel.core import Kernel

LINK_LIFETIME = timedelta(minutes=10)
IDLE_LIMIT = timedelta(minutes=30)
SESSION_LIMIT = timedelta(hours=8)


def new_token(school_id: int) -> str:
    """A link's or session's token: its school's number, a dot, then 256 random bits. The
    number tells a request which school's records to look in before anything is known; it
    is part of what is hashed, so changing it finds nothing."""
    return f"{school_id}.{secrets.token_urlsafe(32)}"


def school_in(token: str | None) -> int | None:
    """The school a token names; None for one from before schools (the first school's)."""
    number, dot, _ = (token or "").partition(".")
    return int(number) if dot and number.isdigit() and len(number) < 10 else None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class WebUser:
    """The signed-in person, as the chat platform knows them."""

    platform: str
    user_id: str
    name: str | None
    csrf: str


class WebAccess:
    """Issues sign-in links and checks sessions, all in the bot's own database."""

    def __init__(self, kernel: Kernel, public_url: str):
        self.kernel = kernel
        self.public_url = public_url.rstrip("/")

    @property
    def secure(self) -> bool:
        return self.public_url.startswith("https://")

    def issue_link(
        self, platform: str, user_id: str, name: str | None, next_path: str = "/web/"
    ) -> str:
        """A fresh one-time link for this person; `next_path` is where it lands."""
        with self.kernel.session() as session:
            link = self.add_link(session, platform, user_id, name, next_path)
            session.commit()
        return link

    def add_link(
        self,
        session: SchoolSession,
        platform: str,
        user_id: str,
        name: str | None,
        next_path: str,
        *,
        lifetime: timedelta | None = None,
        confirm: bool = False,
    ) -> str:
        """The same, inside the caller's unit of work (a chat button press); an emailed
        link is given a longer `lifetime` (still once only). With `confirm`, opening the
        link shows a "Sign in" button and only pressing it uses the link: mail filters
        (Safe Links and the like) open every link in an email before the person does."""
        token = new_token(self.kernel.work.school_id)
        now = self.kernel.now()
        session.add(
            WebSignIn(
                token_hash=_digest(token),
                platform=platform,
                user_id=user_id,
                name=clean_name(name),
                next_path=next_path if next_path.startswith("/web/") else "/web/",
                created_at=now,
                expires_at=now + (lifetime or LINK_LIFETIME),
            )
        )
        link = f"{self.public_url}/web/sign-in/{token}"
        return f"{link}?confirm=1" if confirm else link

    def redeem(self, token: str) -> tuple[str, str] | None:
        """Use a link once: (session token, where to go), or None if used, expired or unknown."""
        now = self.kernel.now()
        with self.kernel.session() as session:
            claimed = session.execute(
                sa.update(WebSignIn)
                .where(
                    col(WebSignIn.school_id) == session.school_id,
                    col(WebSignIn.token_hash) == _digest(token),
                    col(WebSignIn.used_at).is_(None),
                    col(WebSignIn.expires_at) > now,
                )
                .values(used_at=now)
                .returning(
                    col(WebSignIn.platform),
                    col(WebSignIn.user_id),
                    col(WebSignIn.name),
                    col(WebSignIn.next_path),
                )
            ).first()
            if claimed is None:
                session.rollback()
                return None
            session_token = new_token(self.kernel.work.school_id)
            session.add(
                WebSession(
                    token_hash=_digest(session_token),
                    platform=claimed.platform,
                    user_id=claimed.user_id,
                    name=claimed.name,
                    csrf=secrets.token_urlsafe(24),
                    created_at=now,
                    last_seen_at=now,
                )
            )
            session.commit()
            return session_token, claimed.next_path

    def user_for(self, session_token: str | None) -> WebUser | None:
        """The session's person if it is still live; each use keeps it alive (idle limit)."""
        if not session_token or len(session_token) > 100:
            return None
        now = self.kernel.now()
        with self.kernel.session() as session:
            row = session.get(WebSession, _digest(session_token))
            if (
                row is None
                or row.ended_at is not None
                or now - row.last_seen_at > IDLE_LIMIT
                or now - row.created_at > SESSION_LIMIT
            ):
                return None
            row.last_seen_at = now
            session.add(row)
            session.commit()
            return WebUser(row.platform, row.user_id, clean_name(row.name), row.csrf)

    def end_exposed(self, session_token: str | None, path: str) -> None:
        """End the session and use up the sign-in link a refused, oversized request
        carried: such a request may have been logged on its way here, token and all."""
        self.end(session_token)
        if not path.startswith("/web/sign-in/"):
            return
        token = path.removeprefix("/web/sign-in/").split("?", 1)[0][:100]
        with self.kernel.session() as session:
            session.execute(
                sa.update(WebSignIn)
                .where(
                    col(WebSignIn.school_id) == session.school_id,
                    col(WebSignIn.token_hash) == _digest(token),
                    col(WebSignIn.used_at).is_(None),
                )
                .values(used_at=self.kernel.now())
            )
            session.commit()

    def end(self, session_token: str | None) -> None:
        if not session_token or len(session_token) > 100:
            return
        with self.kernel.session() as session:
            session.execute(
                sa.update(WebSession)
                .where(
                    col(WebSession.school_id) == session.school_id,
                    col(WebSession.token_hash) == _digest(session_token),
                )
                .values(ended_at=self.kernel.now())
            )
            session.commit()
