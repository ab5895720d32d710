"""Conversation 2: cyberbullying or online abuse, with evidence (CB-* clauses).

target -> platform -> url -> posted_at -> description -> evidence (files, "done")
-> threatening -> [police_consent] -> pupil_author -> [safeguarding]
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot.dialogs.common import social_network_label, social_network_step, yes_no
from bot.dialogs.declarations import Context, Dialog, Step
from bot.dialogs.outcome import Outcome
from bot.dialogs.parsing import past_examples
from bot.domain.cases import CaseKind
from bot.domain.messages import Choice
from bot.domain.retention import SAFEGUARDING
from bot.features.cyberbullying.rules import AbuseFacts, PoliceConsent, assess_abuse

KIND = CaseKind(
    "CB",
    "Cyberbullying or online abuse",
    # Abuse the DSL owns may put a child at risk: a safeguarding record. Aimed at staff: SLT.
    retention_by_team=(("dsl", SAFEGUARDING),),
    dialog="cyberbullying",
    standard_fields=(
        "target", "platform", "threatening", "pupil_author", "safeguarding", "evidence",
    ),
    full_fields=("url", "posted_at", "description"),
)  # fmt: skip

TARGETS = (Choice("me", "Me"), Choice("colleague", "A colleague"), Choice("pupil", "A pupil"))
AUTHORS = (Choice("yes", "Yes"), Choice("no", "No"), Choice("unsure", "Not sure"))
TARGET_LABELS = {"me": "the reporter", "colleague": "a colleague", "pupil": "a pupil"}


def _asks_police_consent(ctx: Context) -> bool:
    return (
        bool(ctx.answers.get("threatening"))
        and ctx.answers.get("target") != "pupil"
        and ctx.pack.has("CB-POLICE")
    )


def _consent_prompt(ctx: Context) -> str:
    if ctx.answers.get("target") == "me":
        return "Are you happy for the school to report it to the police? You can change your mind later."
    return "Has your colleague agreed to the school reporting it to the police?"


def _police_consent(answers: Mapping[str, Any]) -> PoliceConsent:
    """Three states: an unanswered question is "not asked", never "declined"."""
    if "police_consent" not in answers:
        return "not_asked"
    return "given" if answers["police_consent"] else "declined"


def _finish(ctx: Context) -> Outcome:
    a = ctx.answers
    evidence = list(a.get("evidence") or [])
    facts = AbuseFacts(
        target=a["target"],
        threatening=bool(a["threatening"]),
        police_consent=_police_consent(a),
        pupil_author=a["pupil_author"],
        safeguarding=bool(a.get("safeguarding")),
    )
    assessment = assess_abuse(ctx.pack, facts, ctx.now)
    posted = a["posted_at"]
    return Outcome(
        kind=KIND,
        open_case=True,
        team=assessment.team,
        urgent=assessment.urgent,
        guidance=assessment.guidance,
        summary={
            "target": TARGET_LABELS[facts.target],
            "platform": social_network_label(a["platform"]),
            "threatening": yes_no(facts.threatening),
            "pupil_author": {"yes": "yes", "no": "no", "unsure": "not sure"}[facts.pupil_author],
            "safeguarding": yes_no(facts.safeguarding or facts.target == "pupil"),
            "evidence": str(len(evidence)),
            "url": a.get("url") or "",
            "posted_at": datetime.fromisoformat(posted).strftime("%-d %b %Y %H:%M")
            if "T" in posted
            else datetime.fromisoformat(posted).strftime("%-d %b %Y"),
            "description": a["description"],
        },
        details={**a, "reported_at": ctx.now.isoformat(timespec="seconds")},
        flags=assessment.flags + (["urgent"] if assessment.urgent else []),
        tasks=assessment.tasks,
        evidence=evidence,
    )


CYBERBULLYING = Dialog(
    name="cyberbullying",
    title="Online abuse report",
    intro=(
        "I'm sorry this is happening. I'll record it and pass it to the right person. "
        "It takes about two minutes."
    ),
    steps=(
        Step("target", "Who is being targeted?", "choice", choices=TARGETS),
        social_network_step("Where was it posted?"),
        Step(
            "url",
            "Please paste the link to the post or profile. If there isn't one (for example a "
            "text message), say no link.",
            "url",
        ),
        Step(
            "posted_at",
            lambda ctx: f"When was it posted? For example {past_examples(ctx.now)}.",
            "past_datetime",
        ),
        Step(
            "description",
            "In a few words, what happened? Only include the personal details that are needed.",
            "text",
            max_chars=3000,
        ),
        Step(
            "evidence",
            "Please send screenshots or files of what was posted. Send as many as you need, "
            "then say done. If you have none, just say done.",
            "files",
            hint="Screenshots, photos, PDFs, videos and saved messages are all fine.",
        ),
        Step("threatening", "Is any of it threatening or intimidating?", "yesno"),
        Step("police_consent", _consent_prompt, "yesno", ask_if=_asks_police_consent),
        Step("pupil_author", "Do you think a pupil posted it?", "choice", choices=AUTHORS),
        Step(
            "safeguarding",
            "Does it raise a safeguarding concern for any child?",
            "yesno",
            ask_if=lambda ctx: ctx.answers.get("target") != "pupil",
        ),
    ),
    finish=_finish,
)
