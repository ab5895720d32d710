"""Conversation 1: "a pupil sent me a friend request" (FR-* clauses).

sender -> [former pupil: left_on?, age] -> [family, if the pack has the exception] -> platform
-> accepted -> concerning -> [worry, after a bare yes] -> [danger] -> [evidence (files)]
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
from bot.dialogs.engine import WORDS
from bot.dialogs.outcome import Outcome
from bot.dialogs.safeguarding import (
    NO_FILES,
    danger_advice,
    danger_step,
    in_danger,
    takes_no_files,
)
from bot.domain import harm
from bot.domain.cases import CaseKind
from bot.domain.messages import Choice
from bot.domain.policy import PolicyPack
from bot.features.friend_requests.rules import (
    FriendRequestFacts,
    age_on,
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
    full_fields=("worry",),
    labels=(("worry", "What worries them"),),
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


def _asks_what_worries(ctx: Context) -> bool:
    """A bare yes: ask what it is, in their words. Words given with the yes are enough."""
    return _worrying_about_a_child(ctx) and not ctx.answers.get("concerning" + WORDS)


def _worry_words(ctx: Context) -> str:
    a = ctx.answers
    return " ".join(str(a.get(k) or "") for k in ("concerning" + WORDS, "worry")).strip()


def _no_files(ctx: Context) -> bool:
    """What worries them sounds like a nude image or grooming: no file is asked for or kept."""
    return takes_no_files(ctx) or harm.suggested_harm(_worry_words(ctx)) in NO_FILES


def _asks_for_screenshots(ctx: Context) -> bool:
    return _worrying_about_a_child(ctx) and not _no_files(ctx)


NOT_YET = (
    "I haven't kept that file: I only need screenshots if something in their messages "
    "worries you, and I'll ask for them then."
)


def _file_refusal(ctx: Context) -> str | None:
    """Files only once something worries them (never a possible nude image or grooming)."""
    if _no_files(ctx):
        return harm.NUDE_UPLOAD_REFUSED
    return None if _worrying_about_a_child(ctx) else NOT_YET


def _family_counts(ctx: Context) -> bool:
    """Ask only where the answer changes the advice: a pack with no family exception
    (Merriott-Haselbury 12.b.i) gives the same advice to family, and says so."""
    return ctx.pack.relationships.family_exception


def _finish(ctx: Context) -> Outcome:
    a = ctx.answers
    age_info = a.get("age") or {}
    facts = FriendRequestFacts(
        sender=a["sender"],
        family=bool(a.get("family")),
        platform=a["platform"],
        already_accepted=bool(a["accepted"]),
        concerning=bool(a["concerning"]),
        left_on=date.fromisoformat(a["left_on"]) if a.get("left_on") else None,
        age=age_info.get("age"),
        born_on=date.fromisoformat(age_info["born_on"]) if age_info.get("born_on") else None,
    )
    decision = decide_friend_request(ctx.pack, facts, ctx.today)
    evidence = list(a.get("evidence") or [])
    danger = in_danger(ctx)
    details = {**a, "verdict": decision.verdict}
    if a.get("age"):
        details["age"] = _age_kept(a["age"], facts, ctx, safeguarding=decision.urgent or danger)
    guidance = [danger_advice(ctx), *decision.guidance] if danger else decision.guidance
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
            "concerning": _concerning(ctx),
            "worry": _worry_words(ctx),
        },
        details=details,
        evidence=evidence,
        flags=(["danger_now"] if danger else [])
        + (["urgent"] if decision.urgent or danger else []),
        closing=_closing(ctx.pack, open_case=decision.open_case, urgent=decision.urgent or danger),
    )


def _age_kept(
    given: dict[str, Any], facts: FriendRequestFacts, ctx: Context, *, safeguarding: bool
) -> dict[str, Any]:
    """A date of birth is kept only on a child-safeguarding case, whose record is kept until
    25 years after it; any other case keeps the age it gives, worked out today."""
    if safeguarding or not given.get("born_on"):
        return given
    return {"age": age_on(facts, ctx.today)}


def _concerning(ctx: Context) -> str:
    """Yes or No; a yes with words says where the words are when the alert can't carry
    them (X-CONFIDENTIAL: only a 'full' pack's alert quotes the reporter)."""
    if not _worrying_about_a_child(ctx):
        return yes_no(False)
    if _worry_words(ctx) and ctx.pack.alerts.detail != "full":
        return "Yes (their words are in the case record)"
    return yes_no(True)


def _closing(pack: PolicyPack, *, open_case: bool, urgent: bool) -> str:
    """What happens next. A routine case is one the policy asks the teacher to talk through
    with the DSL (Dukeries 5.4 "must discuss this with"), so it never says there is nothing
    more to do."""
    if not open_case:
        return "There's nothing to report, so nothing has been sent to anyone."
    if urgent:
        return ""  # the urgent line: someone will pick it up as soon as possible
    dsl = pack.role_label(pack.lead_dsl_role)
    return f"I'll message you when the {dsl} picks it up, so you can talk it through."


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
        Step("family", "Are they a member of your family?", "yesno", ask_if=_family_counts),
        social_network_step("Which app or site was it on?"),
        Step("accepted", "Have you already accepted it or replied?", "yesno"),
        Step(
            "concerning",
            "Is there anything in their messages or profile that worries you?",
            "yesno",
            hint="For example, signs they may be at risk, or messages that feel inappropriate.",
        ),
        Step(
            "worry",
            "What worries you? Tell me in your own words.",
            "text",
            ask_if=_asks_what_worries,
            hint="What they said or sent, or what you noticed. The safeguarding lead reads it.",
        ),
        danger_step(_worrying_about_a_child, first=False),
        Step(
            "evidence",
            "Please keep their messages and don't delete anything. If you can, send me "
            "screenshots of the messages that worry you, then say done. If you have none, "
            "just say done.",
            "files",
            ask_if=_asks_for_screenshots,
            hint="Screenshots of their messages or profile are best.",
        ),
    ),
    finish=_finish,
    understand=_understand,
    refuses_files=_file_refusal,
)
