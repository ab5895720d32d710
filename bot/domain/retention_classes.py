"""Retention classes (X-RECORD): what kind of record something is, for how long the law
and national guidance say it must be kept at least, and who decides when it ends.

A record's class belongs to the record (a friend request the DSL owns because the
messages were worrying is a safeguarding record about a child), not to its reference
prefix. The policy pack sets each class's period (`[records.retention]`); it may not set
one below the floor here, whose source is named so a DPO can check it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

CHILD = "child-safeguarding"
ALLEGATION = "allegation"
MALICIOUS = "malicious-allegation"
LOW_LEVEL = "low-level-concern"
STAFF_ABUSE = "staff-abuse"
FRIEND_REQUEST = "routine-friend-request"
COMPLAINT = "complaint"
ACCOUNT = "account"
COMMENT = "comment"
CONVERSATION = "unfinished-conversation"

BOT_MINIMUM = "no national period; the bot's own minimum"


@dataclass(frozen=True)
class RetentionClass:
    key: str
    record: str  # what it covers, in words a DPO reads
    setting: str  # its period's name under [records.retention]
    unit: Literal["years", "days"]
    starts: str  # when the period starts, in words
    floor: int  # the shortest period a pack may set
    source: str  # where the floor comes from
    # Never disposed of automatically: a person decides (keep for longer, or dispose).
    review: bool = False
    # Reviewed by the case's owners (the DSL, or the one role a concern about staff
    # went to), never the DPO, who may not see safeguarding records.
    safeguarding: bool = False


CLASSES: tuple[RetentionClass, ...] = (
    RetentionClass(
        CHILD,
        "Safeguarding records about a child",
        "safeguarding_years",
        "years",
        "from the child's date of birth where the bot knows it; else from closure, and "
        "then a person decides",
        25,
        "IRMS Information Management Toolkit for Schools: child protection files, the "
        "child's date of birth + 25 years",
        review=True,
        safeguarding=True,
    ),
    RetentionClass(
        ALLEGATION,
        "Allegations against staff (KCSIE Part 4)",
        "allegation_years",
        "years",
        "from the allegation, then a person decides (kept to the person's normal pension "
        "age if that is later)",
        10,
        "KCSIE Part 4: until the person's normal pension age or 10 years from the "
        "allegation, whichever is longer",
        review=True,
        safeguarding=True,
    ),
    RetentionClass(
        MALICIOUS,
        "Allegations against staff found to be malicious",
        "malicious_allegation_days",
        "days",
        "after the case is closed",
        1,
        "KCSIE Part 4: malicious allegations are removed from personnel records",
        safeguarding=True,
    ),
    RetentionClass(
        LOW_LEVEL,
        "Low-level concerns about staff, and self-reports",
        "low_level_concern_years",
        "years",
        "after closure, then a person decides (kept at least until the person leaves)",
        1,
        "KCSIE Part 4: low-level concerns are kept at least until the person leaves "
        "the school's employment",
        review=True,
        safeguarding=True,
    ),
    RetentionClass(
        STAFF_ABUSE,
        "Abuse or impersonation aimed at staff or the school",
        "staff_abuse_years",
        "years",
        "after closure",
        6,
        "IRMS Information Management Toolkit for Schools: incidents involving adults, "
        "the date of the incident + 6 years",
    ),
    RetentionClass(
        FRIEND_REQUEST,
        "Friend or follow requests with nothing worrying in them",
        "friend_request_years",
        "years",
        "after closure",
        1,
        BOT_MINIMUM,
    ),
    RetentionClass(
        COMPLAINT,
        "Comments marked as complaints",
        "complaint_years",
        "years",
        "after the complaint is resolved, then a person decides",
        6,
        "IRMS Information Management Toolkit for Schools: complaints files, the date of "
        "resolution + 6 years, then review",
        review=True,
    ),
    RetentionClass(
        ACCOUNT,
        "Official account requests",
        "account_years",
        "years",
        "after the account closes (kept while it is open)",
        1,
        BOT_MINIMUM,
    ),
    RetentionClass(
        COMMENT,
        "Other comments on official accounts",
        "comment_years",
        "years",
        "after the reply",
        1,
        BOT_MINIMUM,
    ),
    RetentionClass(
        CONVERSATION,
        "Conversations started and never finished",
        "abandoned_conversation_days",
        "days",
        "after the last answer",
        1,
        BOT_MINIMUM,
    ),
)
BY_KEY = {c.key: c for c in CLASSES}
# The classes a case can be given (by its kind, or by a person reclassifying it).
CASE_CLASSES = (CHILD, ALLEGATION, MALICIOUS, LOW_LEVEL, STAFF_ABUSE, FRIEND_REQUEST, ACCOUNT)

# What each class is called when someone types it ("reclassify FR-0001 child ...").
SAID = {
    "child": CHILD, "child-safeguarding": CHILD, "safeguarding": CHILD,
    "allegation": ALLEGATION, "malicious": MALICIOUS, "malicious-allegation": MALICIOUS,
    "low-level": LOW_LEVEL, "low-level-concern": LOW_LEVEL, "lowlevel": LOW_LEVEL,
    "staff": STAFF_ABUSE, "staff-abuse": STAFF_ABUSE,
    "friend-request": FRIEND_REQUEST, "routine": FRIEND_REQUEST,
    "routine-friend-request": FRIEND_REQUEST, "account": ACCOUNT,
}  # fmt: skip


def retention_class(key: str) -> RetentionClass:
    return BY_KEY[key]


def class_named(said: str) -> str | None:
    """The class someone typed (a key or a short name), or None."""
    return SAID.get(said.strip().lower().replace(" ", "-").replace("_", "-"))


def amount(n: int, unit: str) -> str:
    singular = unit.removesuffix("s")
    return f"{n} {singular if n == 1 else unit}"


def below_floor(setting: str, value: int) -> str | None:
    """Why `value` is too short for this setting, naming the floor and its source."""
    cls = next((c for c in CLASSES if c.setting == setting), None)
    if cls is None or value >= cls.floor:
        return None
    return (
        f"{setting} = {value} is below the floor of {amount(cls.floor, cls.unit)} for "
        f"{cls.record.lower()} ({cls.source}). Set {cls.floor} or more."
    )
