"""Which conversations exist, and how free text picks one (or falls back to a menu)."""

from __future__ import annotations

import re

from bot.dialogs.account_request import ACCOUNT_REQUEST
from bot.dialogs.comment import COMMENT
from bot.dialogs.cyberbullying import CYBERBULLYING
from bot.dialogs.engine import Dialog
from bot.dialogs.friend_request import FRIEND_REQUEST
from bot.domain.messages import Choice

DIALOGS: dict[str, Dialog] = {
    d.name: d for d in (FRIEND_REQUEST, CYBERBULLYING, ACCOUNT_REQUEST, COMMENT)
}

# The step a menu's buttons answer: there is no conversation yet, so pressing one while a
# conversation is in progress is a stale button, not an answer to that conversation.
MENU_STEP = "menu"

MENU = (
    Choice("friend_request", "A friend or follow request"),
    Choice("cyberbullying", "Online abuse or cyberbullying"),
    Choice("account_request", "A new official account"),
    Choice("comment", "A comment needing a reply"),
    Choice("my_cases", "My cases"),
)

# Order matters: the first dialog whose pattern matches wins.
_INTENTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "comment",
        re.compile(
            r"\b(log|record|add)\b.*\bcomment\b|\bcomment (on|under) (our|the|a) "
            r"(school|official|page|account|post)|\bneeds? a reply\b|\bawaiting (a )?reply\b"
        ),
    ),
    (
        "account_request",
        re.compile(
            r"\b(set ?up|create|open|start|new|make)\b.*\b(account|page|channel|profile|group|"
            r"blog)\b|\bofficial account\b|\baccount (request|approval)\b"
        ),
    ),
    (
        "cyberbullying",
        re.compile(
            r"bull(y|ied|ying)|abus|harass|troll|threat|\bposting about\b|\bposted about\b|"
            r"\bpost(s|ed)? (about|of) me\b|nasty|fake (account|profile)|\bonline about\b|"
            r"\bcomments? about\b|\bhate\b|defam|\bscreenshots?\b"
        ),
    ),
    (
        "friend_request",
        re.compile(
            r"friend(ed)? (request|me)|follow(ed)? (request|me)|\bfollow request|added me|"
            r"\badd(ed)? me\b|\bfriend request|\brequest from\b|wants to (follow|friend)|dm(ed)? me"
        ),
    ),
)


def classify(text: str) -> str | None:
    said = text.lower()
    for name, pattern in _INTENTS:
        if pattern.search(said):
            return name
    return None
