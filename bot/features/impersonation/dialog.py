"""Conversation 5: a fake or impersonation account (CB-BLOCK, MO-REGULAR).

pretends_to_be -> platform -> address -> posts -> evidence (files, "done") -> contacting
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
from bot.dialogs.safeguarding import danger_step, in_danger
from bot.domain import harm
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
    guidance = advice.guidance
    if danger:  # the DSL owns it, not SLT: say so instead of "reported to SLT"
        pack = ctx.pack
        routed = pack.guidance(
            "CB-SAFEGUARD" if pack.has("CB-SAFEGUARD") else "CB-REPORT-SENIOR",
            f"Because a child may be in danger, this has gone to the "
            f"{pack.role_label(pack.lead_dsl_role)} as urgent.",
        )
        guidance = [harm.danger_guidance(pack), routed, *advice.guidance[1:]]
    return Outcome(
        kind=KIND,
        open_case=True,
        # A child in danger from it (grooming, threats): the safeguarding lead owns it.
        team="dsl" if danger else "slt",
        urgent=advice.urgent or danger,
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
        + (["urgent"] if advice.urgent or danger else []),
        tasks=advice.tasks,
        evidence=evidence,
    )


IMPERSONATION = Dialog(
    name="impersonation",
    title="Fake account report",
    intro=(
        "Thanks for spotting this. I'll record the fake account and pass it to the senior "
        "leadership team. It takes about a minute."
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
        danger_step(lambda ctx: bool(ctx.answers.get("contacting")), first=False),
    ),
    finish=_finish,
    understand=lambda text, ctx: with_social_network(({}, ""), text),
)
