"""Conversation 4: a moderator logs a comment that needs a reply (MO-24H).

account -> from -> text -> when -> offensive -> complaint
The open accounts are offered as buttons; they are read when the conversation starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.dialogs.declarations import Context, Dialog, Step
from bot.dialogs.parsing import past_examples
from bot.domain.messages import Choice
from bot.features.comments.rules import AUTHOR_LABELS


@dataclass(frozen=True)
class CommentOutcome:
    """Not a case: the service turns this into a comment with a deadline and reminders."""

    fields: dict[str, Any]


def _accounts(ctx: Context) -> tuple[Choice, ...]:
    return tuple(Choice(str(number), name) for number, name in ctx.options.get("accounts", []))


def _finish(ctx: Context) -> CommentOutcome:
    a = ctx.answers
    return CommentOutcome(
        {
            "account": int(a["account"]),
            "author_type": a["author_type"],
            "text": a["text"],
            "received_at": a["received"],
            "offensive": bool(a["offensive"]),
            "complaint": bool(a["complaint"]),
        }
    )


COMMENT = Dialog(
    name="comment",
    title="Comment awaiting a reply",
    intro=lambda ctx: ctx.pack.cited(
        "Let's log the comment so its reply isn't missed. I'll remind the account's "
        "moderators before the deadline.",
        "MO-24H",
    ),
    steps=(
        Step("account", "Which account is it on?", "choice", choices=_accounts),
        Step(
            "author_type",
            "Who wrote it?",
            "choice",
            choices=tuple(Choice(k, v) for k, v in AUTHOR_LABELS.items()),
        ),
        Step(
            "text",
            "What does it say? Paste the comment or a link to it.",
            "text",
            max_chars=2000,
        ),
        Step(
            "received",
            lambda ctx: f"When was it posted? For example {past_examples(ctx.now)}.",
            "past_datetime",
        ),
        Step("offensive", "Is it offensive or abusive?", "yesno"),
        Step("complaint", "Is it a complaint about the school?", "yesno"),
    ),
    finish=_finish,
)
