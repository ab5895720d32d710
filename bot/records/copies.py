"""The copies a record leaves outside its own row, removed when it is disposed of.

A case or comment is also quoted in the outbox (every alert, reminder and reply about
it), in the bot's own messages on Slack and Teams, in one-time web links that land on it,
in requests not yet run, and in an unfinished conversation that joined it. Each is found
by the record's id or its reference and emptied in the disposal's own transaction; the
chat messages are replaced with a short notice (or deleted) by the platform's send loop.
"""

from __future__ import annotations

import json
import re
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select

from bot.domain.messages import Message, Priority
from bot.storage import outbox as outbox_rows
from bot.storage.scoping import SchoolSession
from bot.storage.tables import DialogState, IntakeRequest, Outbox, WebSignIn

GONE = "This message was disposed of under the school's retention schedule."
# What replaces the bot's own alert in a Slack or Teams channel or chat.
RETRACTED = "{ref}: this alert's record has been disposed of under the school's retention schedule."
NOT_CHAT = ("console", "email")  # the terminal reads the outbox itself; emails can't be recalled
WITHDRAWN = "withdrawn"  # an outbox status: a send the disposal stopped before it went
CASE_KEY = "case"  # dialogs.engine.CASE: the case an unfinished conversation joined


def _naming(ref: str) -> re.Pattern[str]:
    """The reference as a whole word: CM-0004 but not CM-00041."""
    return re.compile(rf"(?<![A-Za-z0-9]){re.escape(ref)}(?![0-9])")


def _text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def scrub_outbox(
    session: SchoolSession, ref: str, case_id: int | None, now: Any
) -> tuple[int, int]:
    """Every queued or sent message about the record: its text becomes a notice, a send
    not yet made is withdrawn, and each chat message already posted is queued to be
    replaced on the platform. Returns (messages emptied, chat messages to replace)."""
    naming = _naming(ref)
    about = sa.cast(col(Outbox.message), sa.Text).like(f"%{ref}%")
    where = about if case_id is None else sa.or_(col(Outbox.case_id) == case_id, about)
    rows = [
        row
        for row in session.exec(
            select(Outbox)
            .where(col(Outbox.school_id) == session.school_id, where)
            .order_by(col(Outbox.id))
        )
        if (case_id is not None and row.case_id == case_id) or naming.search(_text(row.message))
    ]
    gone = Message(GONE).to_dict()
    posted: dict[tuple[str, str], Outbox] = {}
    for row in rows:
        values: dict[str, Any] = {"message": gone}
        if row.status == "pending" and row.platform != "console":  # the terminal reads it
            values.update(status=WITHDRAWN, claim_token=None)
        session.execute(
            sa.update(Outbox)
            .where(col(Outbox.school_id) == session.school_id, col(Outbox.id) == row.id)
            .values(**values)
        )
        if row.status == "sent" and row.external_ref and row.platform not in NOT_CHAT:
            posted.setdefault((row.platform, row.external_ref), row)
    notice = Message(RETRACTED.format(ref=ref), retract=True).to_dict()
    for row in posted.values():
        outbox_rows.enqueue(
            session,
            now,
            row.platform,
            row.target_kind,
            row.target,
            message=notice,
            replaces_id=row.id,
            priority=Priority.NORMAL,
        )
    return len(rows), len(posted)


def scrub_links_and_requests(session: SchoolSession, ref: str) -> int:
    """One-time web links that land on the record, and requests not yet run that quote
    it (the accepted-request table). Returns how many rows went."""
    naming = _naming(ref)
    gone = 0
    links = select(WebSignIn.token_hash, WebSignIn.next_path).where(
        col(WebSignIn.school_id) == session.school_id, col(WebSignIn.next_path).like(f"%{ref}%")
    )
    for token_hash, path in session.exec(links).all():
        if naming.search(path):
            session.execute(
                sa.delete(WebSignIn).where(
                    col(WebSignIn.school_id) == session.school_id,
                    col(WebSignIn.token_hash) == token_hash,
                )
            )
            gone += 1
    quoted = sa.or_(
        sa.cast(col(IntakeRequest.payload), sa.Text).like(f"%{ref}%"),
        sa.cast(col(IntakeRequest.replies), sa.Text).like(f"%{ref}%"),
    )
    for request in session.exec(
        select(IntakeRequest).where(col(IntakeRequest.school_id) == session.school_id, quoted)
    ).all():
        if naming.search(_text(request.payload)) or naming.search(_text(request.replies)):
            session.execute(
                sa.delete(IntakeRequest).where(
                    col(IntakeRequest.school_id) == session.school_id,
                    col(IntakeRequest.id) == request.id,
                )
            )
            gone += 1
    return gone


def drop_joined_conversations(session: SchoolSession, ref: str) -> list[str]:
    """Unfinished conversations that joined the case (an alarm or an unfinished report
    opened it): deleted with it. Returns the SHA-256 of the files they held."""
    files: list[str] = []
    like = sa.cast(col(DialogState.state), sa.Text).like(f"%{ref}%")
    for row in session.exec(
        select(DialogState).where(col(DialogState.school_id) == session.school_id, like)
    ).all():
        if row.state.get(CASE_KEY) != ref:
            continue
        files += files_in(row.state)
        session.execute(
            sa.delete(DialogState).where(
                col(DialogState.school_id) == session.school_id,
                col(DialogState.platform) == row.platform,
                col(DialogState.user_id) == row.user_id,
            )
        )
    return files


def files_in(value: Any) -> list[str]:
    """The SHA-256 of every file record inside saved answers or details, however nested."""
    found: list[str] = []
    if isinstance(value, dict):
        sha = value.get("sha256")
        if isinstance(sha, str) and re.fullmatch(r"[0-9a-f]{64}", sha):
            found.append(sha)
        for item in value.values():
            found += files_in(item)
    elif isinstance(value, list):
        for item in value:
            found += files_in(item)
    return found
