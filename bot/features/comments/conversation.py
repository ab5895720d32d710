"""Logging a comment from chat: offer the register's open accounts, and when the dialog
finishes, log it with its deadline and reminders."""

from __future__ import annotations

import logging
from typing import Any

from pydantic import ValidationError

from bot.dialogs.outcome import Outcome
from bot.domain.cases import Actor
from bot.domain.messages import Button, Message
from bot.features.cases.cards import local
from bot.features.comments import cards as cc
from bot.features.comments import queries as comments_queries
from bot.features.comments.dialog import CommentOutcome
from bot.features.comments.moderation import Moderation, RegisterError
from bot.features.comments.rules import CommentIn
from bot.kernel.core import Kernel
from bot.storage.scoping import SchoolSession
from bot.storage.tables import OfficialAccount

log = logging.getLogger(__name__)


def prepare(kernel: Kernel, session: SchoolSession) -> dict[str, Any] | Message:
    accounts = comments_queries.open_accounts(session)
    if not accounts:
        return Message(
            "There are no official accounts in the register yet, so there's nothing "
            "to log a comment against. Ask your admin to add the account first."
        )
    return {"accounts": [[a.id, a.name] for a in accounts]}


def finish(
    kernel: Kernel,
    session: SchoolSession,
    actor: Actor,
    name: str,
    outcome: Outcome | CommentOutcome,
) -> list[Message]:
    assert isinstance(outcome, CommentOutcome)
    pack = kernel.pack
    try:
        data = CommentIn.model_validate(outcome.fields)
        comment, _ = Moderation(kernel).log_comment(
            session, data, "chat", actor.key, actor.platform
        )
    except (ValidationError, RegisterError) as problem:
        log.info("comment not logged: %s", type(problem).__name__)
        return [Message(f"Sorry, I couldn't log that comment: {problem}. Please start again.")]
    due = local(pack, comment.due_at)
    # The person who logged it is told nothing more, so if they moderate the account
    # their confirmation carries the buttons the other moderators' message has.
    account = session.get(OfficialAccount, comment.account_id)
    shown: tuple[Button, ...] = ()
    if account is not None and actor.key in account.contacts:
        shown = cc.moderator_nudge(pack, comment, account, "new", kernel.now()).buttons
    extra = (
        " Because of what it is, SLT have been told now."
        if comment.escalated_at is not None
        else ""
    )
    # What the other moderators are told, the one who logged it reads too (a complaint's
    # reply must be agreed by the head, MO-COMPLAINT), as the CLI's moderators do.
    advice = cc.advice_text(pack, comment)
    text = (
        f"Logged as {comment.ref}. A reply is due by {due} "
        f"{pack.cite('MO-24H')}. I'll remind the moderators before then.{extra}"
        + (f"\n{advice}" if advice else "")
    )
    return [Message(text.replace(" .", "."), buttons=shown)]
