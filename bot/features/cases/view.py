"""`case REF`: one case in words, for the owning team (and a short view for the reporter).

Each answer is shown with its question and the label of the chosen answer, taken from the
conversation that asked it (bot/dialogs), so the view never shows stored values such as
`current_pupil`, `False` or an ISO time.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from bot.dialogs.declarations import Context, Dialog, Step
from bot.dialogs.engine import OPENING, WORDS
from bot.domain import retention_classes as classes
from bot.domain.cases import CaseStatus, flag_label
from bot.domain.evidence import human_size, type_label
from bot.domain.harm import UKCIS_STEPS
from bot.domain.messages import Mention, Message, mention, plain_name
from bot.domain.policy import PolicyPack
from bot.features.cases import cards, retention
from bot.kernel.core import Kernel
from bot.kernel.registry import Registry
from bot.storage import repository as repo
from bot.storage.scoping import SchoolSession
from bot.storage.tables import Case, Evidence

# Answers in the reporter's own voice, as the team reads them ("Who is being targeted? Me").
SAID_BY_THE_REPORTER = {"Me": "The reporter"}
FIRST_SENTENCE = re.compile(r"^(.+?[?.])(?:\s|$)")


def when(zone: ZoneInfo, moment: datetime) -> str:
    """ "Tue 1 Dec 2026, 20:00" in the school's timezone."""
    return moment.astimezone(zone).strftime("%a %-d %b %Y, %H:%M")


def _day(value: str) -> str:
    return date.fromisoformat(value).strftime("%a %-d %b %Y")


def _question(dialog: Dialog, step: Step, ctx: Context, item: str | None = None) -> str:
    if dialog.answer_labels and item is None:
        return f"{dialog.answer_labels.get(step.key, step.key)}:"
    text = step.text(ctx, item)
    match = FIRST_SENTENCE.match(text)
    return match.group(1) if match else text


def _answer(step: Step, value: Any, ctx: Context, zone: ZoneInfo) -> str:
    if value is None:
        return "No link" if step.kind == "url" else "Not given"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if step.kind in ("choice", "yesno"):  # "Not sure" at a yes-or-no question (SG-DANGER)
        label = next((c.label for c in step.options(ctx) if c.value == value), str(value))
        return SAID_BY_THE_REPORTER.get(label, label)
    if step.kind == "past_datetime":
        if "T" in value:
            return when(zone, datetime.fromisoformat(value))
        return _day(value)
    if step.kind == "any_date":
        return _day(value)
    if step.kind == "left_date":
        return date.fromisoformat(value).strftime("%B %Y")
    if step.kind == "age_or_birthday":
        if value.get("age") is not None:
            return f"{value['age']}"
        if value.get("born_on"):
            return f"born {date.fromisoformat(value['born_on']).strftime('%-d %B %Y')}"
        return "Not sure"
    if isinstance(value, list):
        return cards.in_words([str(v) for v in value])
    return str(value)


def answer_pairs(
    registry: Registry, pack: PolicyPack, case: Case, zone: ZoneInfo
) -> list[tuple[str, str]]:
    """(question, answer) in the order they were asked, both in the dialog's own words."""
    conversation = registry.conversations.get(registry.case_kind(case.kind).dialog)
    if conversation is None:  # a kind no feature opens any more: show the stored answers
        return [(f"{key}:", str(value)) for key, value in case.details.items()]
    dialog = conversation.dialog
    details = case.details
    ctx = Context(pack, details, case.created_at.astimezone(zone))
    pairs = []
    for step in dialog.steps:
        if step.key not in details or step.kind == "files" or step.key == "confirm":
            continue
        value = details[step.key]
        if step.repeat_over is not None:
            for i, item in enumerate(step.repeat_over(ctx)):
                if isinstance(value, dict) and str(i) in value:
                    answer = _answer(step, value[str(i)], ctx, zone)
                    pairs.append((_question(dialog, step, ctx, item), answer))
            continue
        pairs.append((_question(dialog, step, ctx), _answer(step, value, ctx, zone)))
        if words := details.get(step.key + WORDS):
            pairs.append(("In their words:", str(words)))
    return pairs


def answer_lines(registry: Registry, pack: PolicyPack, case: Case, zone: ZoneInfo) -> list[str]:
    pairs = answer_pairs(registry, pack, case, zone)
    return [f"• {question} {answer}" for question, answer in pairs]


def _by(case: Case, key: str) -> str:
    platform, _, user = key.partition(":")
    return mention(user) if platform == case.platform else user


def evidence_lines(session: SchoolSession, case: Case, zone: ZoneInfo) -> list[str]:
    rows = session.exec(
        select(Evidence)
        .where(col(Evidence.school_id) == session.school_id, Evidence.case_id == case.id)
        .order_by(Evidence.id)  # type: ignore[arg-type]
    ).all()
    if not rows:
        return ["Evidence: none."]
    lines = [f"Evidence ({len(rows)} file{'s' if len(rows) != 1 else ''}):"]
    for e in rows:
        lines.append(
            f"• {plain_name(e.filename)}: {type_label(e.content_type, e.filename)}, "
            f"{human_size(e.size)}, added by {_by(case, e.uploaded_by)} on {when(zone, e.uploaded_at)}. "
            f"SHA-256 {e.sha256}"
        )
    return lines


def reporter_words(case: Case, platform_titles: Mapping[str, str]) -> str:
    """The reporter for text with no mentions: their name, or the platform and user id."""
    if case.reporter_name:
        return case.reporter_name
    return f"{platform_titles.get(case.platform, case.platform)} user {case.reporter_id}"


def case_view(
    kernel: Kernel, session: SchoolSession, case: Case, *, for_team: bool, history: list[str]
) -> Message:
    """The owning team sees everything; the reporter sees what it is and where it stands."""
    registry, pack = kernel.registry, kernel.pack
    zone = ZoneInfo(pack.calendar.timezone)
    assert case.id is not None
    if case.disposed_at is not None:
        return Message(tombstone_text(registry, case))
    approval = repo.approval_for(session, case.id)
    status = cards.status_label(case, approval.status if approval else None)
    kind = registry.case_kind(case.kind)
    urgent = " Urgent." if case.urgent and case.status != CaseStatus.CLOSED else ""
    lines = [f"{case.ref}: {kind.title}. Status: {status}.{urgent}"]
    if not for_team:
        lines.append(f"You reported it on {when(zone, case.created_at)}.")
        return Message("\n".join(lines))
    lines.append(f"Reported by {mention(case.reporter_id)} on {when(zone, case.created_at)}.")
    flags = [flag_label(f) for f in case.flags if f != "urgent"]
    if flags:
        lines.append(f"Flags: {', '.join(flags)}.")
    if opening := case.details.get(OPENING):
        lines += ["", f"Their first message: {opening}"]
    lines += ["", "Answers:", *answer_lines(registry, pack, case, zone)]
    if "harm:nudes" in case.flags:  # SG-NUDES: what the DSL does next, from the UKCIS advice
        lines += ["", "UKCIS steps (sharing nudes and semi-nudes):"]
        lines += [f"{n}. {step}" for n, step in enumerate(UKCIS_STEPS, 1)]
    lines += ["", *evidence_lines(session, case, zone)]
    if history:
        lines += ["", "History:", *history]
    if case.outcome:
        lines += ["", f"Outcome (for the record): {case.outcome}"]
    kept = classes.retention_class(retention.case_class(kernel, case)).record
    lines.append(f"Kept as: {kept.lower()}.")
    people = {
        case.reporter_id: Mention(case.reporter_id, reporter_words(case, kernel.platform_titles))
    }
    for match in re.findall(r"<@([^<>\s]+)>", "\n".join(lines)):
        people.setdefault(match, Mention(match, match))
    return Message("\n".join(lines), mentions=tuple(people.values()))


def tombstone_text(registry: Registry, case: Case) -> str:
    """All that is left of a disposed case (bot/records/retention.py)."""
    stone = case.details.get("tombstone", {})
    kind = registry.case_kind(case.kind).title

    def day(key: str) -> str:
        return _day(stone[key]) if stone.get(key) else "not recorded"

    return (
        f"{case.ref}: {kind}. Reported {day('opened_on')}, closed {day('closed_on')}. "
        f"Outcome: {stone.get('outcome') or case.outcome}. {stone.get('disposed', '')}"
    ).strip()
