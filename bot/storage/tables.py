"""Database tables. Every change to this file needs an Alembic migration (see docs/architecture.md).

Times are stored as UTC. Confidential answers live in `Case.details`, never in alerts or logs.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from bot.storage.schools import SchoolRecord, school_column, school_key_column
from bot.storage.types import UTCDateTime

__all__ = ["SchoolRecord", "UTCDateTime"]


def _json() -> Any:
    return Field(default_factory=dict, sa_type=sa.JSON, sa_column_kwargs={"nullable": False})


def _json_list() -> Any:
    return Field(default_factory=list, sa_type=sa.JSON, sa_column_kwargs={"nullable": False})


def _time(**kwargs: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kwargs)


def _optional_time(**kwargs: Any) -> Any:
    return Field(default=None, sa_type=UTCDateTime, **kwargs)


class RoleAssignment(SQLModel, table=True):
    __tablename__ = "role_assignment"
    __table_args__ = (sa.UniqueConstraint("school_id", "platform", "user_id", "role"),)
    id: int | None = Field(default=None, primary_key=True)
    school_id: int = school_column(index=False)
    platform: str = Field(max_length=20)
    user_id: str = Field(max_length=100, index=True)
    role: str = Field(max_length=50)
    added_by: str = Field(max_length=130)
    added_at: datetime = _time()
    # Where the escalation ladder emails them, set only by `schoolbot roles add --email`.
    email: str | None = Field(default=None, max_length=254)


class DialogState(SQLModel, table=True):
    """A half-finished conversation, saved after every turn so a restart loses nothing."""

    __tablename__ = "dialog_state"
    school_id: int = school_key_column()
    platform: str = Field(primary_key=True, max_length=20)
    user_id: str = Field(primary_key=True, max_length=100)
    dialog: str = Field(max_length=50)
    state: dict[str, Any] = _json()
    updated_at: datetime = _time()
    # Bumped on every saved turn, so two turns racing on the same answer can't both win.
    version: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class Counter(SQLModel, table=True):
    """Per-school numbering: FR-0001 exists in every school."""

    school_id: int = school_key_column()
    name: str = Field(primary_key=True, max_length=20)
    value: int = 0


class Case(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("school_id", "ref"),)
    id: int | None = Field(default=None, primary_key=True)
    school_id: int = school_column(index=False)
    ref: str = Field(max_length=20)
    kind: str = Field(max_length=4, index=True)
    status: str = Field(max_length=20, index=True)
    outcome: str | None = Field(default=None, max_length=1000)
    team: str = Field(max_length=60, index=True)  # "dsl", "slt" or "role:<key>"
    urgent: bool = False
    platform: str = Field(max_length=20)
    reporter_id: str = Field(max_length=100, index=True)
    # Their display name when the platform gave one, so the team knows whom to follow up with.
    reporter_name: str | None = Field(default=None, max_length=200)
    assignee_id: str | None = Field(default=None, max_length=100)
    summary: dict[str, Any] = _json()
    details: dict[str, Any] = _json()
    flags: list[str] = _json_list()
    guidance: list[str] = _json_list()
    created_at: datetime = _time()
    updated_at: datetime = _time()
    acknowledged_at: datetime | None = _optional_time()
    closed_at: datetime | None = _optional_time()
    # Retention (bot/records/retention.py): a disposed case keeps only its tombstone; a
    # case on legal hold is never disposed of.
    disposed_at: datetime | None = _optional_time()
    held_at: datetime | None = _optional_time()
    held_by: str | None = Field(default=None, max_length=130)
    hold_reason: str | None = Field(default=None, max_length=1000)
    # Its retention class (domain.retention_classes), set when it opens from what the
    # report found; a DSL may reclassify it, with a reason, in its chronology.
    retention_class: str | None = Field(default=None, max_length=40)
    # The child's date of birth when the report gave it: a child protection record then
    # runs from it (IRMS). Cleared when the case is disposed of.
    child_born_on: date | None = None


class CaseTask(SQLModel, table=True):
    __tablename__ = "case_task"
    id: int | None = Field(default=None, primary_key=True)
    school_id: int = school_column()
    case_id: int = Field(foreign_key="case.id", index=True)
    clause: str = Field(max_length=30)
    title: str = Field(max_length=200)
    due_at: datetime = _time(index=True)
    done_at: datetime | None = _optional_time()
    done_by: str | None = Field(default=None, max_length=130)


class Evidence(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    school_id: int = school_column()
    case_id: int = Field(foreign_key="case.id", index=True)
    filename: str = Field(max_length=200)
    content_type: str = Field(max_length=100)
    size: int
    sha256: str = Field(max_length=64)
    uploaded_by: str = Field(max_length=130)
    uploaded_at: datetime = _time()


class EvidenceBlob(SQLModel, table=True):
    """An evidence file's bytes when they are kept in the database (EVIDENCE_STORE=database,
    the default on PostgreSQL), so every instance serves them and a database backup holds
    them. Kept once per SHA-256 of the original bytes; AES-256-GCM encrypted with
    EVIDENCE_KEYS when it is set. `stored_at` is when they were last stored: the sweeps
    never delete bytes stored moments ago."""

    __tablename__ = "evidence_blob"
    school_id: int = Field(
        default=1,
        foreign_key="school.id",
        primary_key=True,
        sa_column_kwargs={"server_default": "1"},
    )
    sha256: str = Field(max_length=64, primary_key=True)
    data: bytes = Field(sa_type=sa.LargeBinary, sa_column_kwargs={"nullable": False})
    stored_at: datetime = _time()


class Approval(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    school_id: int = school_column()
    case_id: int = Field(foreign_key="case.id", unique=True)
    stages: list[str] = _json_list()
    current: int = 0
    status: str = Field(max_length=20, index=True)


class ApprovalDecision(SQLModel, table=True):
    """One row per decided stage; the unique key makes a double click decide only once."""

    __tablename__ = "approval_decision"
    __table_args__ = (sa.UniqueConstraint("approval_id", "stage"),)
    id: int | None = Field(default=None, primary_key=True)
    school_id: int = school_column()
    approval_id: int = Field(foreign_key="approval.id", index=True)
    stage: int
    role: str = Field(max_length=50)
    actor: str = Field(max_length=130)
    approve: bool
    reason: str | None = Field(default=None, max_length=1000)
    decided_at: datetime = _time()


class OfficialAccount(SQLModel, table=True):
    """The register of official accounts (AC-REGISTER)."""

    __tablename__ = "official_account"
    id: int | None = Field(default=None, primary_key=True)
    school_id: int = school_column()
    name: str = Field(max_length=200)
    purpose: str = Field(max_length=2000)
    platform: str = Field(max_length=60)
    author: str = Field(max_length=200)
    approved_on: datetime = _time()
    status: str = Field(default="open", max_length=20)
    moderators: list[str] = _json_list()
    case_id: int | None = Field(default=None, foreign_key="case.id")
    # Who the bot nudges about comments: "platform:user_id" (moderators above are names).
    contacts: list[str] = _json_list()
    closed_on: datetime | None = _optional_time()
    disposed_at: datetime | None = _optional_time()


class AuditEvent(SQLModel, table=True):
    """Append-only: database triggers refuse UPDATE and DELETE (see the first migration),
    except the retention sweep's one redaction of free text (migration 0008)."""

    __tablename__ = "audit_event"
    id: int | None = Field(default=None, primary_key=True)
    school_id: int = school_column()
    at: datetime = _time(index=True)
    actor: str = Field(max_length=130)
    action: str = Field(max_length=50)
    subject: str = Field(max_length=50, index=True)
    detail: dict[str, Any] = _json()
    redacted_at: datetime | None = _optional_time()
    redaction: str | None = Field(default=None, max_length=200)


class Outbox(SQLModel, table=True):
    """Messages to deliver, written in the same transaction as the change they announce.

    Sends are claimed by priority (domain.messages.Priority), then oldest first."""

    __table_args__ = (sa.Index("ix_outbox_claim", "platform", "status", "priority", "id"),)
    id: int | None = Field(default=None, primary_key=True)
    school_id: int = school_column()
    platform: str = Field(max_length=20, index=True)  # a chat platform, or "email"
    # "team" (a DSL/SLT channel), "user" (a DM) or "email" (target: "platform:user_id",
    # whose address is read from their role assignment when the email is sent)
    target_kind: str = Field(max_length=10)
    target: str = Field(max_length=100)
    priority: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    message: dict[str, Any] = _json()
    case_id: int | None = Field(default=None, foreign_key="case.id", index=True)
    replaces_id: int | None = Field(default=None)  # an update to an earlier alert
    status: str = Field(default="pending", max_length=20, index=True)
    attempts: int = 0
    next_attempt_at: datetime = _time(index=True)
    last_error: str | None = Field(default=None, max_length=500)
    external_ref: str | None = Field(default=None, max_length=200)
    created_at: datetime = _time()
    sent_at: datetime | None = _optional_time()
    # The instance sending it now. Still set on a due row means that instance stopped
    # between claiming and recording: the message may already be out.
    claim_token: str | None = Field(default=None, max_length=32)


class InboxCursor(SQLModel, table=True):
    """How far a terminal-chat user has read their team's alerts."""

    __tablename__ = "inbox_cursor"
    school_id: int = school_key_column()
    platform: str = Field(primary_key=True, max_length=20)
    user_id: str = Field(primary_key=True, max_length=100)
    last_id: int = 0


class ProcessedDelivery(SQLModel, table=True):
    """Inbound ids already handled, so a retried or duplicated delivery does nothing twice."""

    __tablename__ = "processed_delivery"
    key: str = Field(primary_key=True, max_length=200)
    at: datetime = _time(index=True)


class IntakeRequest(SQLModel, table=True):
    """An intake record: a request the platform was told we have, kept until its work is
    done (the table's name is older than the word).

    Slack is answered before the work runs (see intake/lines.py). This row is what
    survives a crash in between: rows whose instance stops renewing them are run again.
    """

    __tablename__ = "accepted_request"
    id: int | None = Field(default=None, primary_key=True)
    school_id: int = school_column()
    platform: str = Field(max_length=20)
    person: str = Field(max_length=100)
    kind: str = Field(max_length=40)
    payload: dict[str, Any] = _json()
    # The result of the turn it caused (domain.turns.TurnResult.to_stored), written with
    # that turn: a rerun then only sends its replies instead of redoing it.
    replies: Any = Field(default=None, sa_type=sa.JSON, nullable=True)
    instance: str = Field(max_length=32)
    accepted_at: datetime = _time()
    renewed_at: datetime = _time(index=True)


class ConversationRef(SQLModel, table=True):
    """Where a chat platform can reach someone or a channel later (Teams proactive messages).

    `key` is "user:<id>", "channel:<id>" or "team:dsl"/"team:slt" (the channel a team chose).
    """

    __tablename__ = "conversation_ref"
    school_id: int = school_key_column()
    platform: str = Field(primary_key=True, max_length=20)
    key: str = Field(primary_key=True, max_length=200)
    reference: dict[str, Any] = _json()
    updated_at: datetime = _time()


class Comment(SQLModel, table=True):
    """A comment on an official account that is waiting for a reply (MO-24H)."""

    __table_args__ = (sa.UniqueConstraint("school_id", "external_id"),)
    id: int | None = Field(default=None, primary_key=True)
    school_id: int = school_column()
    account_id: int = Field(foreign_key="official_account.id", index=True)
    author_type: str = Field(max_length=10)
    text: str = Field(max_length=4000)
    link: str | None = Field(default=None, max_length=1000)
    received_at: datetime = _time()
    due_at: datetime = _time()
    offensive: bool = False
    complaint: bool = False
    source: str = Field(max_length=10)  # chat, webhook or cli
    logged_by: str = Field(max_length=130)
    platform: str | None = Field(default=None, max_length=20)  # where it was logged from
    external_id: str | None = Field(default=None, max_length=100)
    status: str = Field(default="awaiting", max_length=20, index=True)
    escalated_at: datetime | None = _optional_time()
    closed_at: datetime | None = _optional_time()
    closed_by: str | None = Field(default=None, max_length=130)
    disposed_at: datetime | None = _optional_time()

    @property
    def ref(self) -> str:
        return f"CM-{self.id:04d}"


class Reminder(SQLModel, table=True):
    """Something the scheduler must do at a time: nudge, escalate, re-alert, remind.

    `key` makes scheduling idempotent ("comment:12:nudge", "annual:2027"). A sweep takes
    due rows with FOR UPDATE SKIP LOCKED (PostgreSQL) or a compare-and-set (SQLite) and
    writes their messages to the outbox in the same transaction, so each is done once.
    """

    __table_args__ = (
        sa.Index("ix_reminder_status_due", "status", "due_at"),
        sa.UniqueConstraint("school_id", "key"),
    )
    id: int | None = Field(default=None, primary_key=True)
    school_id: int = school_column(index=False)
    key: str = Field(max_length=100)
    kind: str = Field(max_length=30)
    due_at: datetime = _time()
    status: str = Field(default="pending", max_length=20)
    comment_id: int | None = Field(default=None, foreign_key="comment.id", index=True)
    case_id: int | None = Field(default=None, foreign_key="case.id", index=True)
    task_id: int | None = Field(default=None, foreign_key="case_task.id")
    done_at: datetime | None = _optional_time()
    outcome: str | None = Field(default=None, max_length=200)


class WebSignIn(SQLModel, table=True):
    """A one-time link into the web workspace, sent in chat to the person who asked for it.

    Only the SHA-256 of the token is stored, so a copy of the database opens nothing.
    """

    __tablename__ = "web_sign_in"
    token_hash: str = Field(primary_key=True, max_length=64)
    school_id: int = school_column()
    platform: str = Field(max_length=20)
    user_id: str = Field(max_length=100)
    name: str | None = Field(default=None, max_length=200)
    next_path: str = Field(default="/web/", max_length=200)
    created_at: datetime = _time()
    expires_at: datetime = _time()
    used_at: datetime | None = _optional_time()


class WebSession(SQLModel, table=True):
    """A signed-in browser. Roles are not stored here: they are read again on every request."""

    __tablename__ = "web_session"
    token_hash: str = Field(primary_key=True, max_length=64)
    school_id: int = school_column()
    platform: str = Field(max_length=20)
    user_id: str = Field(max_length=100)
    name: str | None = Field(default=None, max_length=200)
    csrf: str = Field(max_length=64)
    created_at: datetime = _time()
    last_seen_at: datetime = _time()
    ended_at: datetime | None = _optional_time()


class Disposal(SQLModel, table=True):
    """The disposal log: one row per record disposed of, with who authorised it and how
    (for the DPO). Append-only: the database refuses UPDATE and DELETE (migration 0012)."""

    id: int | None = Field(default=None, primary_key=True)
    school_id: int = school_column()
    at: datetime = _time(index=True)
    record_type: str = Field(max_length=30)
    record: str = Field(max_length=50)  # a reference such as CB-0001; never a name
    rule: str = Field(max_length=40)
    rule_words: str = Field(max_length=200)
    due_on: date
    by: str = Field(max_length=60)
    files_deleted: int = 0
    audit_rows_redacted: int = 0
    # "automatic" (the sweep, under the rule in `rule`) or "decision" (a person's review).
    method: str = Field(
        default="automatic", max_length=20, sa_column_kwargs={"server_default": "automatic"}
    )
    # The rule in the school's pack, or the person who decided ("Dee Smith (console:u1)").
    authorised_by: str = Field(default="", max_length=200, sa_column_kwargs={"server_default": ""})


class PolicyRead(SQLModel, table=True):
    """A member of staff's "I've read it" on the yearly policy reminder (X-ANNUAL): who
    confirmed and when, once a year each. The governors' report counts these, never names."""

    __tablename__ = "policy_read"
    __table_args__ = (sa.UniqueConstraint("school_id", "platform", "user_id", "year"),)
    id: int | None = Field(default=None, primary_key=True)
    school_id: int = school_column(index=False)
    platform: str = Field(max_length=20)
    user_id: str = Field(max_length=100, index=True)
    year: int
    confirmed_at: datetime = _time(index=True)


class DailyRun(SQLModel, table=True):
    """One run of a once-a-day (or once-a-year) job for one school, shared by every
    instance: whoever claims the row runs the job; the rest see it and skip. A holder that
    dies stops renewing its lease and another instance finishes the job
    (bot/storage/daily_runs.py). No personal data: job names, days, counts."""

    __tablename__ = "daily_run"
    __table_args__ = (sa.UniqueConstraint("school_id", "job", "period"),)
    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(
        default=1, foreign_key="school.id", sa_column_kwargs={"server_default": "1"}
    )
    job: str = Field(max_length=40)  # "retention", "yearly-reminder"
    period: str = Field(max_length=10)  # the school's day ("2026-12-08"), or a year ("2027")
    state: str = Field(default="running", max_length=10)  # running, done
    holder: str = Field(max_length=40)  # a random id of the instance running it
    lease_until: datetime = _time()
    started_at: datetime = _time()
    finished_at: datetime | None = _optional_time()
    attempts: int = 1  # 2 or more: an instance took over from one that stopped
    items: int | None = None  # how many things it did (records disposed of, people told)


class TeamsSchool(SQLModel, table=True):
    """Which school a Microsoft Teams team, or one channel of it, belongs to, so a trust's
    schools can each have their own teams (`schoolbot teams map-team`). A channel's own
    row wins over its team's; a team with neither is the first school's.

    Trust-wide routing, read before the school of a request is known: it names teams and
    schools, never people."""

    trust_wide: ClassVar[bool] = True  # routing: school_id says where to, not whose

    __tablename__ = "teams_school"
    # "team" or "channel": a team's General channel has the team's own id.
    kind: str = Field(primary_key=True, max_length=10)
    teams_id: str = Field(primary_key=True, max_length=200)
    school_id: int = Field(
        default=1, foreign_key="school.id", sa_column_kwargs={"server_default": "1"}
    )
    added_by: str = Field(max_length=130)
    added_at: datetime = _time()


class SlackInstallation(SQLModel, table=True):
    """One school's Slack install (a workspace, or a whole Enterprise Grid org).

    Tokens are stored encrypted (Fernet, bound to the school and the workspace), so they
    are Text: an encrypted token is several hundred characters. A disconnected install
    (uninstalled, tokens revoked) keeps its row with the tokens wiped, so the school is
    shown as disconnected and its queued sends wait for a reinstall.
    """

    trust_wide: ClassVar[bool] = True  # routing: school_id says where to, not whose

    __tablename__ = "slack_installation"
    __table_args__ = (sa.UniqueConstraint("enterprise_key", "team_key"),)
    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(
        default=1, foreign_key="school.id", sa_column_kwargs={"server_default": "1"}, index=True
    )
    # "" rather than NULL for a missing id, so the unique constraint holds on every database.
    enterprise_key: str = Field(default="", max_length=32)
    team_key: str = Field(default="", max_length=32)
    is_enterprise_install: bool = False
    app_id: str | None = Field(default=None, max_length=32)
    team_name: str | None = Field(default=None, max_length=200)
    bot_id: str | None = Field(default=None, max_length=32)
    bot_user_id: str | None = Field(default=None, max_length=32)
    bot_scopes: str | None = Field(default=None, sa_type=sa.Text)
    bot_token: str | None = Field(default=None, sa_type=sa.Text)  # encrypted
    bot_refresh_token: str | None = Field(default=None, sa_type=sa.Text)  # encrypted
    bot_token_expires_at: datetime | None = _optional_time()
    installer_user_id: str | None = Field(default=None, max_length=32)
    user_scopes: str | None = Field(default=None, sa_type=sa.Text)
    user_token: str | None = Field(default=None, sa_type=sa.Text)  # encrypted
    user_refresh_token: str | None = Field(default=None, sa_type=sa.Text)  # encrypted
    user_token_expires_at: datetime | None = _optional_time()
    installed_at: datetime = _time()
    # Set while one instance refreshes the tokens (SQLite's compare-and-set; PostgreSQL
    # locks the row instead).
    refreshing_until: datetime | None = _optional_time()
    disconnected_at: datetime | None = _optional_time()
    disconnected_reason: str | None = Field(default=None, max_length=40)
    dsl_channel: str | None = Field(default=None, max_length=32)
    slt_channel: str | None = Field(default=None, max_length=32)


class SlackWorkspaceSchool(SQLModel, table=True):
    """Enterprise Grid: which school each workspace of an org-wide install belongs to."""

    trust_wide: ClassVar[bool] = True  # routing: school_id says where to, not whose

    __tablename__ = "slack_workspace_school"
    enterprise_id: str = Field(primary_key=True, max_length=32)
    team_id: str = Field(primary_key=True, max_length=32)
    school_id: int = Field(
        default=1, foreign_key="school.id", sa_column_kwargs={"server_default": "1"}
    )


class SlackOAuthState(SQLModel, table=True):
    """An install link handed out: the one-time OAuth state and the school it installs for."""

    trust_wide: ClassVar[bool] = True  # routing: school_id says where to, not whose

    __tablename__ = "slack_oauth_state"
    state: str = Field(primary_key=True, max_length=64)
    school_id: int = Field(
        default=1, foreign_key="school.id", sa_column_kwargs={"server_default": "1"}
    )
    expires_at: datetime = _time()
