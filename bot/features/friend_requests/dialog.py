"""Conversation 1: "a pupil sent me a friend request" (FR-* clauses).

sender -> [former pupil: left_on?, age] -> family -> platform -> accepted -> concerning
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from bot.dialogs.common import (
    social_network_label,
    social_network_step,
    with_social_network,
    yes_no,
)
from bot.dialogs.declarations import Context, Dialog, Step
from bot.dialogs.outcome import Outcome
from bot.dialogs.safeguarding import danger_step, in_danger
from bot.domain import harm
from bot.domain.cases import CaseKind
from bot.domain.messages import Choice
from bot.features.friend_requests.rules import (
    FriendRequestFacts,
    decide_friend_request,
    retention_class,
)


def _senders(ctx: Context) -> tuple[Choice, ...]:
    pupil = (
        "A pupil (at our school or any other school)"
        if ctx.pack.relationships.any_school
        else "A current pupil"
    )
    return (
        Choice("current_pupil", pupil),
        Choice("former_pupil", "A former pupil"),
        Choice("parent", "A parent or carer"),
        Choice("young_person", "Another young person"),
    )


KIND = CaseKind(
    "FR",
    "Friend or follow request",
    dialog="friend_request",
    standard_fields=("sender", "platform", "already_accepted", "concerning"),
    classify=retention_class,
)

_PARENT = re.compile(r"\b(mum|mom|mother|dad|father|parent|carer|guardian|step-?(mum|dad))s?\b")
# Not "old": "a 15-year-old pupil" is a current pupil.
_FORMER = re.compile(
    r"\b(former|ex|past)[- ]?(pupil|student)s?\b|\b(pupil|student) who (has )?left\b"
)
_PUPIL = re.compile(
    r"\b(pupil|student|tutee|learner)s?\b|\bin my (form|class|tutor group)\b|\by(ea)?r ?\d{1,2}\b"
)
# Someone related to a pupil ("a pupil's brother", "my friend's son") is not the pupil.
_RELATED = re.compile(
    r"\b(?!(?:it|that|what|there|here|he|she|who|let)'s)[a-z]+'s\b"
    r"|\b(brother|sister|sibling|cousin|son|daughter|nephew|niece)s?\b"
)
_OTHER_SCHOOL = re.compile(r"\b(another|other|different) school\b")


def _understand(text: str, ctx: Context) -> tuple[dict[str, Any], str]:
    """Who sent it and where, when the opening sentence says so plainly."""
    return with_social_network(_sender(text, ctx), text)


def _sender(text: str, ctx: Context) -> tuple[dict[str, Any], str]:
    """Who sent it, when the opening sentence says so plainly ("a pupil sent me ...")."""
    said = text.lower().replace("’", "'")
    if _PARENT.search(said):
        sender = "parent"
    elif _RELATED.search(said):
        return {}, ""  # "a pupil's brother": not the pupil, so ask
    elif _FORMER.search(said):
        sender = "former_pupil"
    elif _PUPIL.search(said):
        elsewhere = _OTHER_SCHOOL.search(said) and not ctx.pack.relationships.any_school
        sender = "young_person" if elsewhere else "current_pupil"
    else:
        return {}, ""
    note = (
        f"You said it came from {SENDER_LABELS[sender]}, so I won't ask who sent it. "
        "Say back to change that."
    )
    return {"sender": sender}, note


def _former(ctx: Context) -> bool:
    return ctx.answers.get("sender") == "former_pupil"


def _needs_leaving_date(ctx: Context) -> bool:
    return _former(ctx) and ctx.pack.relationships.former_pupils.rule == "years_or_age"


SENDER_LABELS = {
    "current_pupil": "a pupil",
    "former_pupil": "a former pupil",
    "parent": "a parent or carer",
    "young_person": "another young person",
}


def _worrying_about_a_child(ctx: Context) -> bool:
    """SG-DANGER: something in their messages worries the member of staff."""
    return bool(ctx.answers.get("concerning"))


def _finish(ctx: Context) -> Outcome:
    a = ctx.answers
    age_info = a.get("age") or {}
    facts = FriendRequestFacts(
        sender=a["sender"],
        family=bool(a["family"]),
        platform=a["platform"],
        already_accepted=bool(a["accepted"]),
        concerning=bool(a["concerning"]),
        left_on=date.fromisoformat(a["left_on"]) if a.get("left_on") else None,
        age=age_info.get("age"),
        born_on=date.fromisoformat(age_info["born_on"]) if age_info.get("born_on") else None,
    )
    decision = decide_friend_request(ctx.pack, facts, ctx.today)
    danger = in_danger(ctx)
    guidance = [harm.danger_guidance(ctx.pack), *decision.guidance] if danger else decision.guidance
    return Outcome(
        kind=KIND,
        open_case=decision.open_case or danger,
        team="dsl",
        urgent=decision.urgent or danger,
        guidance=guidance,
        summary={
            "sender": SENDER_LABELS[facts.sender],
            "platform": social_network_label(facts.platform),
            "already_accepted": yes_no(facts.already_accepted),
            "concerning": yes_no(facts.concerning),
        },
        details={**a, "verdict": decision.verdict},
        flags=(["danger_now"] if danger else [])
        + (["urgent"] if decision.urgent or danger else []),
        closing=(
            ""
            if decision.open_case or danger
            else "There's nothing to report, so nothing has been sent to anyone."
        ),
    )


FRIEND_REQUEST = Dialog(
    name="friend_request",
    title="Friend or follow request",
    intro="I'll help you with that. A few quick questions, then I'll tell you what to do.",
    steps=(
        Step("sender", "Who sent the request?", "choice", choices=_senders),
        Step(
            "left_on",
            "Roughly when did they leave? A month and year is fine, like July 2023.",
            "left_date",
            ask_if=_needs_leaving_date,
        ),
        Step(
            "age",
            "How old are they now? You can give their date of birth instead, or say not sure.",
            "age_or_birthday",
            ask_if=_former,
        ),
        Step("family", "Are they a member of your family?", "yesno"),
        social_network_step("Which app or site was it on?"),
        Step("accepted", "Have you already accepted it or replied?", "yesno"),
        Step(
            "concerning",
            "Is there anything in their messages or profile that worries you?",
            "yesno",
            hint="For example, signs they may be at risk, or messages that feel inappropriate.",
        ),
        danger_step(_worrying_about_a_child, first=False),
    ),
    finish=_finish,
    understand=_understand,
)
