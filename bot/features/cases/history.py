"""A case's history in words, from the audit trail: for alerts and for the case view."""

from __future__ import annotations

from typing import Any

from bot.domain.messages import plain_name
from bot.domain.policy import PolicyPack
from bot.features.cases import cards
from bot.storage import repository as repo
from bot.storage.scoping import SchoolSession

HISTORY = {
    "case.acknowledged": "Acknowledged by {who} at {when}.",
    "case.assigned": "Assigned to {who} at {when}.",
    "case.note": "Note added by {who} at {when}.",
    "case.closed": "Closed by {who} at {when}.",
    "case.reopened": "Reopened by {who} at {when}.",
    "approval.approved": "Approved by {who} ({role}) at {when}.",
    "approval.rejected": "Rejected by {who} ({role}) at {when}.",
    "case.completed": "The rest of the report was added by {who} at {when}.",
    "case.report_stopped": (
        "{who} stopped the report part-way at {when}; what they said so far is kept here."
    ),
    "case.asked_reporter": "{who} asked the reporter to finish it at {when}.",
    "case.unfinished": (
        "Left unfinished by its reporter (last answer {since}); passed to the safeguarding "
        "lead at {when}."
    ),
    "evidence.removed": (
        "A file sent with the report was deleted unseen at {when}, because the bot may not "
        "keep an image of a child (SHA-256 {sha256})."
    ),
    "upload.refused": (
        "The reporter tried to send a file at {when}; it was refused and not kept, as the "
        "UKCIS guidance says. They may still hold a copy."
    ),
    "case.escalated": "Not yet acknowledged at {when}: emailed to {emailed} people.",
    "retention.reclassified": "Retention class changed by {who} at {when}: {was} to {to}.",
    "retention.kept": "Reviewed by {who} at {when}: kept until {until}.",
    "retention.dispose_approved": "Reviewed by {who} at {when}: to be disposed of.",
}
NOTE_IN_FULL = "Note by {who} at {when}: {note}"
# In the team's own view the reason is shown; a channel's alert says only that it reopened.
REOPENED_IN_FULL = "Reopened by {who} at {when}: {reason}"
# A case reopened keeps, in its team's view, the outcome it was closed with each time.
CLOSED_IN_FULL = "Closed by {who} at {when}, with the outcome: {outcome}"


def lines(pack: PolicyPack, session: SchoolSession, ref: str, *, notes: bool = False) -> list[str]:
    """What happened to a case. With `notes` (the case view, for the owning team) the
    notes' text and the weekday; alerts in a channel say only that a note was added."""
    out = []
    for event in repo.timeline(session, ref):
        who = plain_name(str(event.detail.get("by") or event.actor.split(":", 1)[-1]))
        when = (cards.when if notes else cards.local)(pack, event.at)
        text = HISTORY.get(event.action)
        if notes and event.action == "case.note":
            text = NOTE_IN_FULL
        if notes and event.action == "case.reopened":
            text = REOPENED_IN_FULL
        if notes and event.action == "case.closed" and event.detail.get("outcome"):
            text = CLOSED_IN_FULL
        if text:
            line = text.format(who=who, when=when, **_safe(event.detail))
            if notes and event.action.startswith("retention.") and event.detail.get("reason"):
                line += f" Reason: {event.detail['reason']}"
            out.append(line)
    return out


def _safe(detail: dict[str, Any]) -> dict[str, Any]:
    return {
        "role": detail.get("role_label", detail.get("role", "")),
        "note": detail.get("note", ""),
        "reason": detail.get("reason", ""),
        "outcome": detail.get("outcome", ""),
        "sha256": detail.get("sha256", ""),
        "since": detail.get("since", ""),
        "emailed": detail.get("emailed", ""),
        "was": detail.get("was", ""),
        "to": detail.get("to", ""),
        "until": detail.get("until", ""),
    }
