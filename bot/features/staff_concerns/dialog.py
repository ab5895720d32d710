"""Conversation 6: a concern about a colleague's online conduct, or about one's own post
(SG-ALLEGATION, SG-LOW-LEVEL, SG-SELF-REPORT).

concern -> [not self: subject_role -> name] -> [allegation: danger] -> platform -> what
-> posted_at -> [self: deleted]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.dialogs.common import social_network_label, social_network_step, with_social_network
from bot.dialogs.declarations import Context, Dialog, Step
from bot.dialogs.outcome import Outcome
from bot.dialogs.parsing import past_examples
from bot.dialogs.safeguarding import danger_advice, danger_step, in_danger
from bot.domain.cases import CaseKind
from bot.domain.messages import Choice
from bot.domain.policy import PolicyPack
from bot.features.staff_concerns.rules import (
    ConcernFacts,
    assess_concern,
    retention_class,
    route_list,
)

KIND = CaseKind(
    "SC",
    "Concern about a member of staff",
    dialog="staff_concern",
    # Alerts go to one person by direct message; they show what the concern is, not who.
    standard_fields=("concern", "subject_role", "platform"),
    full_fields=("what",),
    labels=(("concern", "Concern"), ("subject_role", "Their role"), ("what", "What happened")),
    classify=retention_class,
)

CONCERNS = (
    Choice("allegation", "They may have harmed a child, or may be a risk to children"),
    Choice("low_level", "Their conduct falls short of that, or breaks the social media policy"),
    Choice("self", "It's about something I posted myself"),
)
CONCERN_LABELS = {
    "allegation": "possible harm or risk to a child (allegation)",
    "low_level": "low-level concern or policy breach",
    "self": "self-report",
}
NOT_LISTED = "none"
NOT_SURE = "unsure"


def _subject_roles(ctx: Context) -> tuple[Choice, ...]:
    """The roles that decide routing, in the school's own words, then "none of these"."""
    pack = ctx.pack
    routes = [
        *pack.safeguarding.allegation_to,
        *pack.safeguarding.low_level_to,
        *pack.safeguarding.self_report_to,
    ]
    keys = [k for k, role in pack.roles.items() if role.team or k in routes]
    return (
        *(Choice(k, pack.role_label(k)) for k in keys),
        Choice(NOT_LISTED, "None of these"),
        Choice(NOT_SURE, "I'm not sure"),
    )


def _about_someone_else(ctx: Context) -> bool:
    return ctx.answers.get("concern") in ("allegation", "low_level")


def _alarm(ctx: Context) -> Outcome | None:
    """A child in danger now from a colleague: the case opens at once, to its one role."""
    if not in_danger(ctx):
        return None
    a = ctx.answers
    role = a.get("subject_role") or NOT_LISTED
    routing = assess_concern(ctx.pack, _facts(a, ctx.pack), ctx.now)
    return Outcome(
        kind=KIND,
        open_case=True,
        team=routing.team,
        urgent=True,
        guidance=[danger_advice(ctx, _go_to(ctx, routing.role))],
        summary={
            "concern": CONCERN_LABELS[a["concern"]],
            "subject_role": ctx.pack.role_label(role) if role not in (NOT_LISTED, NOT_SURE) else "",
        },
        details={**a, "reported_at": ctx.now.isoformat(timespec="seconds")},
        flags=["danger_now", "urgent"],
        tasks=routing.tasks,
    )


def _go_to(ctx: Context, role: str | None) -> str:
    """Whom to go to in person: the role this goes to, never the DSL it may be about."""
    return ctx.pack.role_label(role) if role else "chair of governors"


def _facts(a: Mapping[str, Any], pack: PolicyPack) -> ConcernFacts:
    role = a.get("subject_role") or NOT_LISTED
    if role == NOT_SURE:
        # It could be anyone, the Headteacher too: the last role on the pack's list (by
        # default the chair of governors), as if the person held every role before it.
        routes = route_list(pack, a["concern"])
        return ConcernFacts(
            concern=a["concern"],
            subject_roles=frozenset(routes[:-1]),
            deleted=bool(a.get("deleted")),
        )
    return ConcernFacts(
        concern=a["concern"],
        subject_roles=frozenset() if role == NOT_LISTED else frozenset({role}),
        deleted=bool(a.get("deleted")),
    )


def _finish(ctx: Context) -> Outcome:
    a = ctx.answers
    role = a.get("subject_role") or NOT_LISTED
    facts = _facts(a, ctx.pack)
    routing = assess_concern(ctx.pack, facts, ctx.now)
    danger = in_danger(ctx)
    guidance = routing.guidance
    if danger:
        guidance = [danger_advice(ctx, _go_to(ctx, routing.role)), *guidance]
    return Outcome(
        kind=KIND,
        open_case=True,
        team=routing.team,
        urgent=routing.urgent or danger,
        guidance=guidance,
        summary={
            "concern": CONCERN_LABELS[facts.concern],
            "subject_role": ctx.pack.role_label(role) if role not in (NOT_LISTED, NOT_SURE) else "",
            "platform": social_network_label(a["platform"]),
            "what": a["what"],
        },
        details={**a, "reported_at": ctx.now.isoformat(timespec="seconds")},
        flags=(["danger_now"] if danger else []) + (["urgent"] if routing.urgent or danger else []),
        tasks=routing.tasks,
    )


STAFF_CONCERN = Dialog(
    name="staff_concern",
    title="Concern about a member of staff",
    intro=(
        "Thank you for raising this. It goes privately to one person, never to a team "
        "channel, and never to the person it is about."
    ),
    steps=(
        Step("concern", "Which is closest?", "choice", choices=CONCERNS),
        Step(
            "subject_role",
            "Does the person it's about hold one of these roles? I ask so that it never goes "
            "to them.",
            "choice",
            choices=_subject_roles,
            ask_if=_about_someone_else,
        ),
        Step(
            "name",
            "What is their name? Only the person who handles this will see it.",
            "text",
            max_chars=200,
            ask_if=_about_someone_else,
        ),
        danger_step(lambda ctx: ctx.answers.get("concern") == "allegation", first=False),
        social_network_step("Where was it (which app or site)?"),
        Step(
            "what",
            "In a few words, what happened? Say what you saw or were told; don't look into it "
            "further yourself.",
            "text",
            max_chars=3000,
        ),
        Step(
            "posted_at",
            lambda ctx: f"When was it? For example {past_examples(ctx.now)}.",
            "past_datetime",
        ),
        Step(
            "deleted",
            "Have you deleted the post already?",
            "yesno",
            ask_if=lambda ctx: ctx.answers.get("concern") == "self",
        ),
    ),
    finish=_finish,
    understand=lambda text, ctx: with_social_network(({}, ""), text),
    alarm=_alarm,
)
