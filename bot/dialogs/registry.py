"""Which conversations exist, and how free text picks one (or falls back to a menu)."""

from __future__ import annotations

import difflib
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


# The words the patterns above look for, so a typo ("freind reqest") can be put right first.
VOCABULARY = (
    "friend", "friended", "request", "follow", "followed", "added", "bully", "bullied",
    "bullying", "abuse", "abusive", "harass", "harassed", "harassment", "troll", "trolling",
    "threat", "threatening", "posting", "posted", "nasty", "fake", "account", "profile",
    "comment", "comments", "official", "reply", "screenshot", "screenshots", "defamatory",
    "create", "setup", "record",
)  # fmt: skip


def correct_typos(text: str) -> str:
    """Replace a word that is a near miss for one of the VOCABULARY words (difflib ratio).

    Only words of five letters or more that start with the same letter are changed, so
    short everyday words ("count", "fake") stay as they are.
    """
    words = re.findall(r"[a-z']+|[^a-z']+", text.lower())
    fixed = []
    for word in words:
        if len(word) >= 5 and word.isalpha() and word not in VOCABULARY:
            near = difflib.get_close_matches(word, VOCABULARY, n=1, cutoff=0.8)
            if near and near[0][0] == word[0]:
                word = near[0]
        fixed.append(word)
    return "".join(fixed)


def classify(text: str) -> str | None:
    said = correct_typos(text)
    for name, pattern in _INTENTS:
        if pattern.search(said):
            return name
    return None
