"""Conversation 2: cyberbullying or online abuse, with evidence (CB-* clauses), and
what may be harming a pupil (SG-DANGER, SG-HARM-TYPES, SG-NUDES).

target -> [colleague: their name] -> [pupil: danger -> harm] -> platform -> [url]
-> posted_at -> description -> [evidence (files, "done"), never for a nude image]
-> threatening -> [police_consent] -> pupil_author -> [safeguarding -> danger_child]
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot.dialogs.common import (
    social_network_label,
    social_network_step,
    with_social_network,
    yes_no,
)
from bot.dialogs.declarations import Context, Dialog, Step
from bot.dialogs.outcome import Outcome
from bot.dialogs.parsing import past_examples
from bot.dialogs.safeguarding import (
    DANGER,
    HARM,
    danger_advice,
    danger_label,
    danger_step,
    harm_step,
    in_danger,
    is_nude_image,
    nude_image_refusal,
    raises_alarm,
    takes_no_files,
)
from bot.domain import harm
from bot.domain.cases import CaseKind
from bot.domain.messages import Choice
from bot.domain.retention_classes import CHILD, STAFF_ABUSE
from bot.features.cyberbullying.rules import AbuseFacts, PoliceConsent, assess_abuse

KIND = CaseKind(
    "CB",
    "Cyberbullying or online abuse",
    # Abuse the DSL owns may put a child at risk: a safeguarding record. Aimed at staff: SLT.
    retention=STAFF_ABUSE,
    retention_by_team=(("dsl", CHILD),),
    dialog="cyberbullying",
    standard_fields=(
        "target", "danger", "harm", "platform", "threatening", "pupil_author", "safeguarding",
        "evidence",
    ),
    full_fields=("url", "posted_at", "description"),
    labels=(("danger", "Child in danger now"), ("harm", "Involves")),
)  # fmt: skip

TARGETS = (Choice("me", "Me"), Choice("colleague", "A colleague"), Choice("pupil", "A pupil"))
AUTHORS = (Choice("yes", "Yes"), Choice("no", "No"), Choice("unsure", "Not sure"))
TARGET_LABELS = {"me": "the reporter", "colleague": "a colleague", "pupil": "a pupil"}


def _about_pupil(ctx: Context) -> bool:
    return ctx.answers.get("target") == "pupil"


# Words that make the reporter the target ("a parent is posting about me"); "a pupil sent
# me self-harm pictures" is still about the pupil.
_AIMED_AT_ME = re.compile(
    r"\b(about|at|against|targeting|bully(ing)?|harass(ing)?|threaten(ing)?|abus(ing)?|"
    r"troll(ing)?|insult(ing)?|attack(ing)?|impersonat(ing)?) me\b|\bmyself\b"
)


def _understand(text: str, ctx: Context) -> tuple[dict[str, Any], str]:
    """A first message about a child ("nudes of a year 10 girl on snap") answers who is
    targeted; what it involves is suggested at its own question and confirmed there."""
    if not harm.about_a_child(text) or _AIMED_AT_ME.search(text.lower()):
        return with_social_network(({}, ""), text)  # "posting about me": not the child
    said = "You said it's about a pupil. Say back to change that."
    return with_social_network(({"target": "pupil"}, said), text)


def _alarm(ctx: Context) -> Outcome | None:
    """A child in danger now, or a nude image of a child: an urgent case for the DSL team
    at once (SG-DANGER, SG-NUDES); the rest of the report joins it."""
    if not raises_alarm(ctx):
        return None
    a = ctx.answers
    danger = in_danger(ctx)
    return Outcome(
        kind=KIND,
        open_case=True,
        team="dsl",
        urgent=True,
        guidance=[danger_advice(ctx)] if danger else [],
        summary={
            "target": TARGET_LABELS.get(a.get("target", ""), "a pupil"),
            "danger": danger_label(ctx),
            "harm": harm.HARM_LABELS.get(a.get(HARM) or "", ""),
        },
        details={**a, "reported_at": ctx.now.isoformat(timespec="seconds")},
        flags=[
            *(["danger_now"] if danger else []),
            *([f"harm:{a[HARM]}"] if a.get(HARM) else []),
            "urgent",
        ],
    )


def _asks_police_consent(ctx: Context) -> bool:
    return (
        bool(ctx.answers.get("threatening"))
        and ctx.answers.get("target") != "pupil"
        and ctx.pack.has("CB-POLICE")
    )


def _consent_prompt(ctx: Context) -> str:
    if ctx.answers.get("target") == "me":
        asked = "Are you happy for the school to report it to the police? You can change your mind later."
    else:
        asked = "Has your colleague agreed to the school reporting it to the police?"
    if ctx.pack.safeguarding.police_without_consent:  # e.g. King James's 2.4
        asked += " If it is illegal, the school will report it whatever the answer."
    return asked


def _police_consent(answers: Mapping[str, Any]) -> PoliceConsent:
    """Three states: an unanswered question is "not asked", never "declined"."""
    if "police_consent" not in answers:
        return "not_asked"
    return "given" if answers["police_consent"] else "declined"


def _description_prompt(ctx: Context) -> str:
    if is_nude_image(ctx):
        return (
            "In words only, what were you told or what did you see? Who is in the image (a "
            "year group is enough), who has it and where is it being shared? Please don't "
            "look at, copy or forward it."
        )
    return "In a few words, what happened? Only include the personal details that are needed."


def _finish(ctx: Context) -> Outcome:
    a = ctx.answers
    evidence = list(a.get("evidence") or [])
    facts = AbuseFacts(
        target=a["target"],
        threatening=bool(a["threatening"]),
        police_consent=_police_consent(a),
        pupil_author=a["pupil_author"],
        safeguarding=bool(a.get("safeguarding")),
        danger_now=in_danger(ctx),
    )
    assessment = assess_abuse(ctx.pack, facts, ctx.now, harm=a.get(HARM))
    if in_danger(ctx):
        assessment.guidance.insert(0, danger_advice(ctx))
        assessment.flags.insert(0, "danger_now")
    posted = a["posted_at"]
    return Outcome(
        kind=KIND,
        open_case=True,
        team=assessment.team,
        urgent=assessment.urgent,
        guidance=assessment.guidance,
        summary={
            "target": TARGET_LABELS[facts.target],
            "danger": danger_label(ctx) if facts.target == "pupil" or in_danger(ctx) else "",
            "harm": harm.HARM_LABELS.get(a.get(HARM) or "", ""),
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
        # Who it is aimed at, so the record is theirs too (a subject access request finds it).
        Step(
            "colleague",
            "What is your colleague's name? Only the people who handle this will see it.",
            "text",
            max_chars=200,
            ask_if=lambda ctx: ctx.answers.get("target") == "colleague",
        ),
        danger_step(_about_pupil),
        harm_step(_about_pupil),
        social_network_step("Where was it posted?"),
        Step(
            "url",
            "Please paste the link to the post or profile. If there isn't one (for example a "
            "text message), say no link.",
            "url",
            ask_if=lambda ctx: not takes_no_files(ctx),
        ),
        Step(
            "posted_at",
            lambda ctx: f"When was it posted? For example {past_examples(ctx.now)}.",
            "past_datetime",
        ),
        Step("description", _description_prompt, "text", max_chars=3000),
        Step(
            "evidence",
            "Please send screenshots or files of what was posted. Send as many as you need, "
            "then say done. If you have none, just say done.",
            "files",
            hint="Screenshots, photos, PDFs, videos and saved messages are all fine.",
            ask_if=lambda ctx: not takes_no_files(ctx),
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
        danger_step(
            lambda ctx: (
                ctx.answers.get("target") != "pupil" and bool(ctx.answers.get("safeguarding"))
            ),
            key=f"{DANGER}_child",
            first=False,
        ),
    ),
    finish=_finish,
    understand=_understand,
    alarm=_alarm,
    refuses_files=nude_image_refusal,
)
