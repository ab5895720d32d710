"""Where each school's Slack install is kept: bolt's installation store, on our own table.

slack-sdk's own SQLAlchemy store does not fit: its token columns hold 200 characters (an
encrypted token is longer) and its cache never expires. Here tokens are sealed with
SLACK_TOKEN_KEYS, bound to their school and workspace (token_keys.py), and nothing is
cached: every look-up is one indexed read, so a token refreshed or revoked by another
instance is seen at once.

A row is one install: a workspace (team id), or an Enterprise Grid org-wide install
(enterprise id, no team), whose workspaces are each mapped to a school
(`slack_workspace_school`). Uninstalling, or revoking the bot's tokens, wipes the tokens
and marks the row disconnected; installing again fills it in and reconnects the school.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from sqlmodel import col, select

from bot.kernel.work import UnitOfWork
from bot.platforms.slack.token_keys import Binding, TokenKeys, TokenLocked
from bot.storage.scoping import SchoolSession
from bot.storage.tables import SlackInstallation, SlackWorkspaceSchool

log = logging.getLogger(__name__)
TOKEN_FIELDS = ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token")


@dataclass(frozen=True)
class BotAccess:
    """What a request or a send needs: the school, and a bot token that works now."""

    installation_id: int
    school_id: int
    enterprise_id: str | None
    team_id: str | None
    bot_token: str
    bot_id: str | None
    bot_user_id: str | None
    bot_scopes: str | None
    dsl_channel: str | None
    slt_channel: str | None


def now_utc() -> datetime:
    """Token expiry is Slack's wall-clock time, whatever clock the bot's records use."""
    return datetime.now(UTC)


def keys_of(
    enterprise_id: str | None, team_id: str | None, *, org_wide: bool | None
) -> tuple[str, str]:
    """The row's key: an org-wide install has the org's id and no team."""
    return (enterprise_id or "", "" if org_wide else (team_id or ""))


def binding(row: SlackInstallation) -> Binding:
    return Binding(row.school_id, row.enterprise_key, row.team_key)


def stamp(value: int | None) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value else None


class SlackInstallations(AsyncInstallationStore):
    """Bolt's installation store (async_save, async_find_*, async_delete_*), plus what the
    adapter needs: routing a workspace to its school, and marking a school disconnected."""

    def __init__(self, work: UnitOfWork, keys: TokenKeys, client_id: str):
        self.work, self.keys, self.client_id = work, keys, client_id

    @property
    def logger(self) -> logging.Logger:
        return log

    # --- rows ------------------------------------------------------------------------------

    @staticmethod
    def row_for(
        session: SchoolSession,
        enterprise_id: str | None,
        team_id: str | None,
        *,
        org_wide: bool | None = False,
    ) -> SlackInstallation | None:
        """This workspace's own install, else its org's org-wide install."""
        wanted = [keys_of(enterprise_id, team_id, org_wide=org_wide)]
        if enterprise_id and not org_wide:
            wanted.append((enterprise_id, ""))
        for enterprise_key, team_key in wanted:
            row = session.exec(
                select(SlackInstallation).where(
                    SlackInstallation.enterprise_key == enterprise_key,
                    SlackInstallation.team_key == team_key,
                )
            ).first()
            if row is not None:
                return row
        return None

    @staticmethod
    def school_of(
        session: SchoolSession,
        row: SlackInstallation,
        enterprise_id: str | None,
        team_id: str | None,
    ) -> int:
        """The school a workspace belongs to. An org-wide install's workspaces are each
        mapped to their school (`schoolbot slack map`); one not mapped (yet) belongs to the
        school whose install link installed the org."""
        if row.is_enterprise_install and team_id:
            mapped = session.get(SlackWorkspaceSchool, (row.enterprise_key, team_id))
            if mapped is not None:
                return mapped.school_id
        return row.school_id

    def access(self, row: SlackInstallation, school_id: int) -> BotAccess | None:
        if row.disconnected_at is not None or not row.bot_token or row.id is None:
            return None
        return BotAccess(
            row.id,
            school_id,
            row.enterprise_key or None,
            row.team_key or None,
            self.keys.open(row.bot_token, binding(row)),
            row.bot_id,
            row.bot_user_id,
            row.bot_scopes,
            row.dsl_channel,
            row.slt_channel,
        )

    def _seal(self, row: SlackInstallation, field: str, token: str | None) -> None:
        setattr(row, field, self.keys.seal(token, binding(row)) if token else None)

    def _open(self, row: SlackInstallation, field: str) -> str | None:
        sealed = getattr(row, field)
        return self.keys.open(sealed, binding(row)) if sealed else None

    # --- saving ----------------------------------------------------------------------------

    def save_for_school(self, installation: Installation, school_id: int | None) -> int:
        """Store an install (a new one, or a reinstall); returns its school."""
        with self.work.session() as session:
            school = self._save(session, installation, school_id)
            session.commit()
            return school

    def _save(self, session: SchoolSession, inst: Installation, school_id: int | None) -> int:
        enterprise_key, team_key = keys_of(
            inst.enterprise_id, inst.team_id, org_wide=inst.is_enterprise_install
        )
        row = session.exec(
            select(SlackInstallation)
            .where(
                SlackInstallation.enterprise_key == enterprise_key,
                SlackInstallation.team_key == team_key,
            )
            .with_for_update()
        ).first()
        if row is None:
            row = SlackInstallation(
                enterprise_key=enterprise_key, team_key=team_key, installed_at=now_utc()
            )
        if school_id is not None:
            row.school_id = school_id
        row.is_enterprise_install = bool(inst.is_enterprise_install)
        row.app_id, row.team_name = inst.app_id, (inst.team_name or None)
        row.bot_id, row.bot_user_id = inst.bot_id, inst.bot_user_id
        row.bot_scopes = ",".join(inst.bot_scopes or []) or None
        row.installer_user_id = inst.user_id
        row.user_scopes = ",".join(inst.user_scopes or []) or None
        row.bot_token_expires_at = stamp(inst.bot_token_expires_at)
        row.user_token_expires_at = stamp(inst.user_token_expires_at)
        for field in TOKEN_FIELDS:
            self._seal(row, field, getattr(inst, field))
        row.installed_at = now_utc()
        row.disconnected_at = row.disconnected_reason = row.refreshing_until = None
        session.add(row)
        return row.school_id

    async def async_save(self, installation: Installation) -> None:
        await self.work.run(self.save_for_school, installation, None)

    async def async_save_bot(self, bot: Bot) -> None:
        """Only a refreshed bot token: the rest of the install is already stored."""

        def save() -> None:
            with self.work.session() as session:
                row = self.row_for(
                    session, bot.enterprise_id, bot.team_id, org_wide=bot.is_enterprise_install
                )
                if row is None:
                    return
                self._seal(row, "bot_token", bot.bot_token)
                self._seal(row, "bot_refresh_token", bot.bot_refresh_token)
                row.bot_token_expires_at = stamp(bot.bot_token_expires_at)
                session.add(row)
                session.commit()

        await self.work.run(save)

    # --- finding ---------------------------------------------------------------------------

    def installation_of(self, row: SlackInstallation) -> Installation:
        def seconds(value: datetime | None) -> int | None:
            return int(value.timestamp()) if value else None

        return Installation(
            app_id=row.app_id,
            enterprise_id=row.enterprise_key or None,
            team_id=row.team_key or None,
            team_name=row.team_name,
            bot_token=self._open(row, "bot_token"),
            bot_id=row.bot_id,
            bot_user_id=row.bot_user_id,
            bot_scopes=row.bot_scopes or "",
            bot_refresh_token=self._open(row, "bot_refresh_token"),
            bot_token_expires_at=seconds(row.bot_token_expires_at),
            user_id=row.installer_user_id or "",
            user_token=self._open(row, "user_token"),
            user_scopes=row.user_scopes or "",
            user_refresh_token=self._open(row, "user_refresh_token"),
            user_token_expires_at=seconds(row.user_token_expires_at),
            is_enterprise_install=row.is_enterprise_install,
            installed_at=row.installed_at.timestamp(),
        )

    def _find(
        self, enterprise_id: str | None, team_id: str | None, *, org_wide: bool | None
    ) -> Installation | None:
        with self.work.session() as session:
            row = self.row_for(session, enterprise_id, team_id, org_wide=org_wide)
            if row is None or row.disconnected_at is not None or not row.bot_token:
                return None
            return self.installation_of(row)

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        return await self.work.run(
            self._find, enterprise_id, team_id, org_wide=is_enterprise_install
        )

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        found = await self.work.run(
            self._find, enterprise_id, team_id, org_wide=is_enterprise_install
        )
        return found.to_bot() if found else None

    # --- uninstalling ----------------------------------------------------------------------

    def disconnect(
        self, enterprise_id: str | None, team_id: str | None, reason: str, *, bot: bool = True
    ) -> int | None:
        """Wipe the tokens (the bot's, or with bot=False the installer's only) and, for
        the bot's, mark the school disconnected. Returns the school, or None if unknown."""
        with self.work.session() as session:
            row = self.row_for(session, enterprise_id, team_id)
            if row is None:
                return None
            fields = TOKEN_FIELDS if bot else ("user_token", "user_refresh_token")
            for field in fields:
                setattr(row, field, None)
            if bot:
                row.disconnected_at, row.disconnected_reason = now_utc(), reason
            session.add(row)
            session.commit()
            return row.school_id

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await self.work.run(self.disconnect, enterprise_id, team_id, "bot deleted")

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        bot = user_id is None  # a user's own token revoked leaves the bot installed
        await self.work.run(self.disconnect, enterprise_id, team_id, "uninstalled", bot=bot)

    async def async_delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await self.work.run(self.disconnect, enterprise_id, team_id, "uninstalled")

    # --- for the send loop and the CLI ------------------------------------------------------

    def row_for_school(self, session: SchoolSession, school_id: int) -> SlackInstallation | None:
        """The install a school's sends go through: its own, else its org's."""
        own = session.exec(
            select(SlackInstallation)
            .where(SlackInstallation.school_id == school_id)
            .order_by(
                col(SlackInstallation.is_enterprise_install), col(SlackInstallation.id).desc()
            )
        ).first()
        if own is not None:
            return own
        mapped = session.exec(
            select(SlackWorkspaceSchool).where(SlackWorkspaceSchool.school_id == school_id)
        ).first()
        return self.row_for(session, mapped.enterprise_id, None, org_wide=True) if mapped else None


def status_lines(session: SchoolSession) -> list[str]:
    """One line per install for `schoolbot slack status`: school, workspace, connected or
    not and what to do. No token is read."""
    lines: list[str] = []
    rows = session.exec(select(SlackInstallation).order_by(col(SlackInstallation.school_id))).all()
    for row in rows:
        where = row.team_name or row.team_key or row.enterprise_key
        kind = "org-wide install" if row.is_enterprise_install else "workspace"
        if row.disconnected_at is not None:
            lines.append(
                f"School {row.school_id}: Slack DISCONNECTED ({row.disconnected_reason}, "
                f"{row.disconnected_at:%Y-%m-%d %H:%M} UTC) in {kind} {where}. Alerts for this "
                "school are held until its Slack admin installs the app again from a new "
                f"link (schoolbot slack link --school {row.school_id})."
            )
        else:
            expiry = row.bot_token_expires_at
            rotating = f", token refreshed before {expiry:%H:%M} UTC" if expiry else ""
            lines.append(f"School {row.school_id}: Slack connected ({kind} {where}{rotating}).")
    return lines or ["No school has installed Slack yet (schoolbot slack link --school N)."]


def reseal_all(session: SchoolSession, keys: TokenKeys) -> tuple[int, int, list[int]]:
    """Re-encrypt every stored token with the first key (`schoolbot secrets rotate`): how
    many were re-encrypted, how many already were, and the schools whose tokens no key
    opens. Nothing is decrypted into a log or the screen; each token keeps its binding."""
    done = already = 0
    locked: list[int] = []
    for row in session.exec(select(SlackInstallation)).all():
        for field in TOKEN_FIELDS:
            sealed = getattr(row, field)
            if not sealed:
                continue
            if keys.sealed_with_first(sealed):
                already += 1
                continue
            try:
                setattr(row, field, keys.rotate(sealed))
                done += 1
            except TokenLocked:
                locked.append(row.school_id)
        session.add(row)
    return done, already, sorted(set(locked))


def map_workspace(session: SchoolSession, enterprise_id: str, team_id: str, school_id: int) -> None:
    """Enterprise Grid: the workspace `team_id` of org `enterprise_id` is `school_id`'s."""
    row = session.get(SlackWorkspaceSchool, (enterprise_id, team_id))
    row = row or SlackWorkspaceSchool(enterprise_id=enterprise_id, team_id=team_id)
    row.school_id = school_id
    session.add(row)


def set_channels(session: SchoolSession, school_id: int, dsl: str | None, slt: str | None) -> bool:
    """The school's own DSL and SLT channels (over SLACK_DSL_CHANNEL/SLACK_SLT_CHANNEL)."""
    rows = session.exec(
        select(SlackInstallation).where(SlackInstallation.school_id == school_id)
    ).all()
    for row in rows:
        row.dsl_channel, row.slt_channel = dsl or row.dsl_channel, slt or row.slt_channel
        session.add(row)
    return bool(rows)
