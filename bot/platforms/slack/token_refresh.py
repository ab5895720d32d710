"""A bot token that works now, refreshed exactly once however many instances ask.

With token rotation on, Slack's tokens last 12 hours and a refresh token buys the next one
(`oauth.v2.access` with grant_type=refresh_token, made by slack-sdk's `TokenRotator`).
Slack expects one refresh: two instances refreshing together would each get a token, and
the slower one would overwrite the newer with its own. So the refresh runs under a lock
on the install's row: `SELECT ... FOR UPDATE` on PostgreSQL (the others wait, then find
the new token), and on SQLite a compare-and-set claim (`refreshing_until`) that one
process wins while the others wait for its result. Incoming events (the authorize step)
and outbox sends both come here.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

import sqlalchemy as sa
from slack_sdk.errors import SlackApiError, SlackTokenRotationError
from slack_sdk.oauth.token_rotation import TokenRotator
from slack_sdk.web import WebClient
from sqlmodel import select

from bot.platforms.slack.installations import (
    BotAccess,
    SlackInstallations,
    binding,
    now_utc,
    stamp,
)
from bot.storage.scoping import SchoolSession
from bot.storage.tables import SlackInstallation

log = logging.getLogger(__name__)
CLAIM = timedelta(seconds=30)  # a claim left by an instance killed mid-refresh expires
WAIT_STEP = 0.05


class TokenRefresher:
    def __init__(
        self,
        installations: SlackInstallations,
        client_id: str,
        client_secret: str,
        *,
        api_url: str,
        minutes_before_expiry: int = 120,
        clock: Callable[[], datetime] = now_utc,
    ):
        self.installations = installations
        self.work = installations.work
        self.minutes = minutes_before_expiry
        self.clock = clock
        self.rotator = TokenRotator(
            client_id=client_id,
            client_secret=client_secret,
            client=WebClient(base_url=api_url, timeout=10),
        )
        self.postgres = self.work.engine.dialect.name == "postgresql"
        self.refreshes = 0  # refreshes this instance made (for tests and logs)

    # --- what callers use ------------------------------------------------------------------

    async def for_workspace(
        self, enterprise_id: str | None, team_id: str | None
    ) -> BotAccess | None:
        """The bot's access for an incoming request, or None (not installed, disconnected,
        or a Grid workspace mapped to no school)."""
        return await self.work.run(self._for_workspace, enterprise_id, team_id)

    async def for_school(self, school_id: int) -> BotAccess | None:
        """The bot's access for a school's sends, or None while it is disconnected."""
        return await self.work.run(self._for_school, school_id)

    # --- the work, on a database thread ----------------------------------------------------

    def _for_workspace(self, enterprise_id: str | None, team_id: str | None) -> BotAccess | None:
        with self.work.session() as session:
            row = self.installations.row_for(session, enterprise_id, team_id)
            if row is None:
                return None
            school = self.installations.school_of(session, row, enterprise_id, team_id)
        return self._fresh(row, school)

    def _for_school(self, school_id: int) -> BotAccess | None:
        with self.work.session() as session:
            row = self.installations.row_for_school(session, school_id)
        return None if row is None else self._fresh(row, school_id)

    def _due(self, row: SlackInstallation) -> bool:
        soon = self.clock() + timedelta(minutes=self.minutes)
        expiries = (row.bot_token_expires_at, row.user_token_expires_at)
        return any(at is not None and at <= soon for at in expiries)

    def _fresh(self, row: SlackInstallation, school_id: int) -> BotAccess | None:
        if row.disconnected_at is not None or not self._due(row):
            return self.installations.access(row, school_id)
        assert row.id is not None
        if self.postgres:
            return self._refresh_locked(row.id, school_id)
        return self._refresh_claimed(row.id, school_id)

    def _refresh_locked(self, row_id: int, school_id: int) -> BotAccess | None:
        """PostgreSQL: the row lock is held through the refresh; the others wait for it."""
        with self.work.session() as session:
            row = session.exec(
                select(SlackInstallation).where(SlackInstallation.id == row_id).with_for_update()
            ).one_or_none()
            if row is None:
                return None
            if row.disconnected_at is None and self._due(row):
                self._rotate(session, row)
            session.commit()
            return self.installations.access(row, school_id)

    def _refresh_claimed(self, row_id: int, school_id: int) -> BotAccess | None:
        """SQLite: claim the refresh with a compare-and-set; a loser waits for the winner."""
        deadline = time.monotonic() + CLAIM.total_seconds()
        while True:
            with self.work.session() as session:
                now = self.clock()
                claimed = session.connection().execute(
                    sa.update(SlackInstallation)
                    .where(
                        SlackInstallation.id == row_id,  # type: ignore[arg-type]
                        sa.or_(
                            SlackInstallation.refreshing_until.is_(None),  # type: ignore[union-attr]
                            SlackInstallation.refreshing_until < now,  # type: ignore[arg-type,operator]
                        ),
                    )
                    .values(refreshing_until=now + CLAIM)
                )
                session.commit()
                row = session.get(SlackInstallation, row_id)
                if row is None:
                    return None
                session.refresh(row)
                if claimed.rowcount == 1:
                    if row.disconnected_at is None and self._due(row):
                        self._rotate(session, row)
                    row.refreshing_until = None
                    session.add(row)
                    session.commit()
                    return self.installations.access(row, school_id)
                if not self._due(row) or time.monotonic() > deadline:
                    return self.installations.access(row, school_id)
            time.sleep(WAIT_STEP)

    def _rotate(self, session: SchoolSession, row: SlackInstallation) -> None:
        """One oauth.v2.access refresh; on failure the old token is kept (it may still work
        until it expires) and the log says what to do."""
        installation = self.installations.installation_of(row)
        try:
            rotated = self.rotator.perform_token_rotation(
                installation=installation, minutes_before_expiration=self.minutes
            )
        except (SlackTokenRotationError, SlackApiError) as exc:
            error = getattr(getattr(exc, "api_error", exc), "response", {}) or {}
            log.error(
                "Slack: school %s's token could not be refreshed (%s). If it keeps failing, "
                "install the app again from the school's install link.",
                row.school_id,
                error.get("error", type(exc).__name__) if hasattr(error, "get") else "error",
            )
            return
        if rotated is None:
            return
        self.refreshes += 1
        for field in ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token"):
            value = getattr(rotated, field)
            setattr(
                row, field, self.installations.keys.seal(value, binding(row)) if value else None
            )
        row.bot_token_expires_at = stamp(rotated.bot_token_expires_at)
        row.user_token_expires_at = stamp(rotated.user_token_expires_at)
        session.add(row)
        log.info("Slack: school %s's token was refreshed", row.school_id)
