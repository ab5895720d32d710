"""Conversation 5: a fake or impersonation account (CB-BLOCK, MO-REGULAR).

pretends_to_be -> platform -> address -> posts -> evidence (files, "done") -> contacting
-> [pupils: is it contacting pupils?] -> [danger]
An account pretending to be the school that contacts pupils may be grooming them, so the
safeguarding lead owns that case, whether or not a child is in danger right now.
"""

from __future__ import annotations

from bot.dialogs.common import (
    social_network_label,
    social_network_step,
    with_social_network,
    yes_no,
)
from bot.dialogs.declarations import Context, Dialog, Step
from bot.dialogs.outcome import Outcome
from bot.dialogs.safeguarding import danger_advice, danger_step, in_danger
from bot.domain.cases import CaseKind
from bot.domain.messages import Choice
from bot.features.impersonation.rules import FakeAccountFacts, advise, retention_class

KIND = CaseKind(
    "IM",
    "Fake or impersonation account",
    dialog="impersonation",
    standard_fields=("pretends_to_be", "platform", "contacting", "evidence"),
    full_fields=("address", "posts"),
    labels=(
        ("pretends_to_be", "Pretending to be"),
        ("contacting", "Contacting pupils or parents"),
        ("address", "Account"),
        ("posts", "What it posts"),
    ),
    classify=retention_class,
)

PRETENDS = (
    Choice("school", "The school"),
    Choice("me", "Me"),
    Choice("colleague", "Another member of staff"),
)
PRETENDS_LABELS = {"school": "the school", "me": "the reporter", "colleague": "a member of staff"}


def _finish(ctx: Context) -> Outcome:
    a = ctx.answers
    evidence = list(a.get("evidence") or [])
    platform = social_network_label(a["platform"])
    facts = FakeAccountFacts(a["pretends_to_be"], platform, bool(a["contacting"]))
    advice = advise(ctx.pack, facts, ctx.now)
    danger = in_danger(ctx)
    pupils = _contacts_pupils(ctx)
    guidance = advice.guidance
    pack = ctx.pack
    dsl = pack.role_label(pack.lead_dsl_role)
    safeguard = "CB-SAFEGUARD" if pack.has("CB-SAFEGUARD") else "CB-REPORT-SENIOR"
    if danger:  # the DSL owns it, not SLT: say so instead of "reported to SLT"
        routed = pack.guidance(
            safeguard, f"Because a child may be in danger, this has gone to the {dsl} as urgent."
        )
        guidance = [danger_advice(ctx), routed, *advice.guidance[1:]]
    elif pupils:  # a possible grooming risk: the DSL owns it and tells SLT what they need
        routed = pack.guidance(
            safeguard,
            f"An account like this contacting pupils may be trying to groom them, so this has "
            f"gone to the {dsl} as urgent. They will involve the senior leadership team.",
        )
        guidance = [routed, *advice.guidance[1:]]
    return Outcome(
        kind=KIND,
        open_case=True,
        # A child in danger from it (grooming, threats): the safeguarding lead owns it.
        team="dsl" if danger or pupils else "slt",
        urgent=advice.urgent or danger or pupils,
        guidance=guidance,
        summary={
            "pretends_to_be": PRETENDS_LABELS[facts.pretends_to_be],
            "platform": platform,
            "contacting": yes_no(facts.contacting),
            "evidence": str(len(evidence)),
            "address": a["address"],
            "posts": a["posts"],
        },
        details={**a, "reported_at": ctx.now.isoformat(timespec="seconds")},
        flags=(["danger_now"] if danger else [])
        + advice.flags
        + (["contacting_pupils"] if pupils else [])
        + (["urgent"] if advice.urgent or danger or pupils else []),
        tasks=advice.tasks,
        evidence=evidence,
    )


def _contacting(ctx: Context) -> bool:
    return bool(ctx.answers.get("contacting"))


def _contacts_pupils(ctx: Context) -> bool:
    """Pupils contacted, or maybe: when in doubt, the safeguarding lead hears."""
    return _contacting(ctx) and ctx.answers.get("pupils") in ("yes", "not_sure")


PUPILS = (
    Choice("yes", "Yes, pupils"),
    Choice("no", "No, only adults"),
    Choice("not_sure", "Not sure"),
)


IMPERSONATION = Dialog(
    name="impersonation",
    title="Fake account report",
    intro=(
        "Thanks for spotting this. I'll record the fake account and pass it to the senior "
        "leadership team, or to the safeguarding lead if it is contacting pupils. It takes "
        "about a minute."
    ),
    steps=(
        Step("pretends_to_be", "Who is the account pretending to be?", "choice", choices=PRETENDS),
        social_network_step("Where is the fake account?"),
        Step(
            "address",
            "What is its address or name? Paste the link if you have it, or type its @handle.",
            "text",
            max_chars=500,
        ),
        Step(
            "posts",
            "In a few words, what does it post or send? Only include the personal details "
            "that are needed.",
            "text",
            max_chars=3000,
        ),
        Step(
            "evidence",
            "Please send screenshots of the account and what it posts, then say done. "
            "If you have none, just say done.",
            "files",
            hint="Screenshots and saved pages are both fine.",
        ),
        Step(
            "contacting",
            "Is it messaging pupils or parents, or asking anyone for money or personal details?",
            "yesno",
        ),
        Step(
            "pupils",
            "Is it contacting pupils, for example messaging them or asking for their numbers?",
            "choice",
            choices=PUPILS,
            ask_if=_contacting,
        ),
        danger_step(_contacting, first=False),
    ),
    finish=_finish,
    understand=lambda text, ctx: with_social_network(({}, ""), text),
)
