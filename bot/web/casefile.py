"""One case as the owning team reads it: answers, guidance, tasks, chronology, evidence.

The web page, the PDF and the JSON of a case bundle are all drawn from this, so what a
DSL sees on screen is what they hand to children's social care, the LADO or the police.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from bot.dialogs.engine import OPENING
from bot.domain import retention as rules
from bot.domain.cases import CaseStatus, flag_label, team_label
from bot.domain.evidence import human_size, type_label
from bot.domain.harm import UKCIS_STEPS
from bot.domain.messages import plain_name
from bot.domain.policy import PolicyPack
from bot.features.cases import retention
from bot.features.cases.cards import status_label
from bot.features.cases.opening import GUIDANCE_GIVEN
from bot.features.cases.view import answer_pairs, tombstone_text
from bot.kernel.core import Kernel
from bot.kernel.evidence_store import INTACT, MISSING, EvidenceStore
from bot.kernel.registry import Registry
from bot.storage import repository as repo
from bot.storage.scoping import SchoolSession
from bot.storage.tables import Case, CaseTask, Evidence

STATUS_WORDS = {
    CaseStatus.NEW: "New",
    CaseStatus.ACKNOWLEDGED: "Acknowledged",
    CaseStatus.IN_PROGRESS: "In progress",
    CaseStatus.CLOSED: "Closed",
}

EVENT_WORDS = {
    "case.opened": "Reported",
    "case.acknowledged": "Acknowledged",
    "case.assigned": "Assigned",
    "case.note": "Note added",
    "case.closed": "Closed",
    "case.reopened": "Reopened",
    "case.viewed": "Viewed in the workspace",
    "evidence.viewed": "Evidence file viewed",
    "evidence.downloaded": "Evidence file downloaded",
    "evidence.refused": "Evidence file not opened: it no longer matches its fingerprint",
    "evidence.locked": "Evidence file not opened: this server has no key that opens it",
    "bundle.downloaded": "Case bundle downloaded",
    "approval.approved": "Approved",
    "approval.rejected": "Rejected",
    "register.added": "Added to the register of official accounts",
    "reminder.sent": "Reminder sent",
    "case.hold": "Legal hold placed",
    "case.completed": "Rest of the report added",
    "case.report_stopped": "The reporter stopped the report part-way; what they said is kept",
    "case.asked_reporter": "Reporter asked to finish the report",
    "case.unfinished": "Passed to the safeguarding lead unfinished",
    "upload.refused": "The reporter tried to send a file: refused and not kept (UKCIS guidance); they may still hold a copy",
    "evidence.removed": "File deleted unseen: the bot may not keep an image of a child (SHA-256)",
    "case.hold_released": "Legal hold lifted",
    "case.escalated": "Not acknowledged: emailed",
    "retention.reclassified": "Retention class changed",
    "retention.kept": "Reviewed: kept for longer",
    "retention.dispose_approved": "Reviewed: to be disposed of",
}


@dataclass(frozen=True)
class EvidenceItem:
    id: int
    filename: str
    kind: str
    content_type: str
    size: int
    size_words: str
    sha256: str
    added_by: str
    added_at: str
    intact: bool  # the bytes on disk still hash to the recorded SHA-256
    missing: bool
    added_at_iso: str = ""


@dataclass(frozen=True)
class Event:
    at: str
    who: str
    what: str
    detail: str = ""
    at_iso: str = ""


@dataclass
class CaseFile:
    ref: str
    kind: str
    status: str
    team: str
    urgent: bool
    reporter: str
    opened: str
    updated: str
    closed: str | None
    outcome: str | None
    answers: list[tuple[str, str]] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    # (what the reporter was told, word for word; the policy it rests on, e.g. "Policy 4.1")
    guidance: list[tuple[str, str]] = field(default_factory=list)
    tasks: list[tuple[str, str, str]] = field(default_factory=list)
    notes: list[Event] = field(default_factory=list)
    chronology: list[Event] = field(default_factory=list)
    evidence: list[EvidenceItem] = field(default_factory=list)
    hold: str | None = None  # "Placed by ... on ...: reason" while on legal hold
    retention: str = ""  # its retention class and period, in words (X-RECORD)
    tombstone: str | None = None  # set once disposed of: nothing else is left
    next_steps: list[str] = field(default_factory=list)  # e.g. the UKCIS steps (SG-NUDES)
    # ISO 8601 with the offset, for systems: "opened", "updated", "closed" and each task's due.
    iso: dict[str, str | None] = field(default_factory=dict)
    task_due_iso: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        """Times as ISO 8601 with their offset; the words a person reads as `*_display`."""
        data = asdict(self)
        iso, due = data.pop("iso"), data.pop("task_due_iso")
        for key in ("opened", "updated", "closed"):
            data[f"{key}_display"] = data[key]
            data[key] = iso.get(key)
        data["tasks"] = [
            {"title": title, "due": when, "due_display": shown, "state": state}
            for (title, shown, state), when in zip(data["tasks"], due, strict=True)
        ]
        for items, key in ((data["notes"], "at"), (data["chronology"], "at")):
            for item in items:
                item[f"{key}_display"], item[key] = item[key], item.pop(f"{key}_iso")
        for item in data["evidence"]:
            item["added_at_display"], item["added_at"] = item["added_at"], item.pop("added_at_iso")
        return data


def local_time(pack: PolicyPack, moment: datetime) -> str:
    """ "Tuesday 1 December 2026, 20:00" in the school's own timezone."""
    return moment.astimezone(ZoneInfo(pack.calendar.timezone)).strftime("%A %-d %B %Y, %H:%M")


def iso_time(pack: PolicyPack, moment: datetime) -> str:
    """ "2026-12-01T20:00:00+00:00": the same moment for systems, with its offset."""
    return moment.astimezone(ZoneInfo(pack.calendar.timezone)).isoformat(timespec="seconds")


def file_intact(store: EvidenceStore, sha256: str) -> tuple[bool, bool]:
    """(intact, missing): hash the original bytes again (decrypted when the file is
    encrypted at rest), so a changed file is never passed off as it."""
    state = store.check(sha256)
    return state == INTACT, state == MISSING


def _person(key: str, names: dict[str, str]) -> str:
    return plain_name(_who(key, names))


def _who(key: str, names: dict[str, str]) -> str:
    if key == "system":
        return "schoolbot"
    if key.startswith("cli:"):
        return f"{key.split(':', 1)[1]} (server)"
    return names.get(key) or key.split(":", 1)[-1]


def disposed_case_file(pack: PolicyPack, registry: Registry, case: Case) -> CaseFile:
    """Only the tombstone: no answers, names, notes, chronology or evidence."""
    return CaseFile(
        ref=case.ref,
        kind=registry.case_kind(case.kind).title,
        status=STATUS_WORDS[CaseStatus(case.status)],
        team=team_label(pack, case.team),
        urgent=False,
        reporter="Removed at disposal",
        opened=local_time(pack, case.created_at),
        updated=local_time(pack, case.updated_at),
        closed=local_time(pack, case.closed_at) if case.closed_at else None,
        outcome=case.outcome,
        tombstone=tombstone_text(registry, case),
    )


def guidance_given(pack: PolicyPack, case: Case) -> list[tuple[str, str]]:
    """Each line the reporter read, in order, with the policy behind it in the school's own
    words ("Policy 4.1"): two lines resting on one clause are two lines, never one twice."""
    given = case.details.get(GUIDANCE_GIVEN)
    if given is None:  # recorded before the advice itself was kept: the clauses only
        given = [[clause, ""] for clause in case.guidance]
    lines = []
    for clause, text in given:
        reference = pack.cite(clause).strip("()")
        said = text.removesuffix(f" {pack.cite(clause)}") if text else ""
        lines.append((said or "(the advice's words were not recorded)", reference))
    return lines


def build_case_file(session: SchoolSession, kernel: Kernel, case: Case) -> CaseFile:
    """Everything the team may read about a case, for its page and its bundle."""
    pack, store, registry = kernel.pack, kernel.evidence, kernel.registry
    events = repo.timeline(session, case.ref)
    # Display names as people gave them when they acted, so the record reads as names.
    names: dict[str, str] = {}
    for event in events:
        if by := event.detail.get("by"):
            names.setdefault(event.actor, str(by))
    if case.disposed_at is not None:
        return disposed_case_file(pack, registry, case)
    reporter_key = f"{case.platform}:{case.reporter_id}"
    kind = registry.case_kind(case.kind)
    decided = repo.approval_statuses(session, [case.id] if case.id else [])
    record = CaseFile(
        ref=case.ref,
        kind=kind.title,
        status=status_label(case, decided.get(case.id or 0)),
        team=team_label(kernel.pack, case.team),
        urgent=case.urgent,
        reporter=plain_name(case.reporter_name or _person(reporter_key, names)),
        opened=local_time(pack, case.created_at),
        updated=local_time(pack, case.updated_at),
        closed=local_time(pack, case.closed_at) if case.closed_at else None,
        outcome=case.outcome,
        iso={
            "opened": iso_time(pack, case.created_at),
            "updated": iso_time(pack, case.updated_at),
            "closed": iso_time(pack, case.closed_at) if case.closed_at else None,
        },
    )
    kept = retention.case_class(kernel, case)
    record.retention = rules.rule(pack, kept, retention.in_force(session)).words
    if case.held_at is not None:
        held_on = local_time(pack, case.held_at)
        record.hold = f"Placed by {plain_name(case.held_by or '')} on {held_on}: {case.hold_reason}"
    record.answers = answer_pairs(registry, pack, case, ZoneInfo(pack.calendar.timezone))
    if opening := case.details.get(OPENING):
        record.answers.insert(0, ("Their first message:", str(opening)))
    if "harm:nudes" in case.flags:  # SG-NUDES: the DSL's next steps, from the UKCIS advice
        record.next_steps = list(UKCIS_STEPS)
    record.flags = [flag_label(flag) for flag in case.flags if flag != "urgent"]
    record.guidance = guidance_given(pack, case)
    tasks = session.exec(
        select(CaseTask)
        .where(col(CaseTask.school_id) == session.school_id, CaseTask.case_id == case.id)
        .order_by(col(CaseTask.due_at))
    )
    for task in tasks:
        state = _task_state(task, case)
        record.tasks.append((task.title, local_time(pack, task.due_at), state))
        record.task_due_iso.append(iso_time(pack, task.due_at))
    for event in events:
        who = _person(event.actor, names)
        at, at_iso = local_time(pack, event.at), iso_time(pack, event.at)
        detail = ""
        if event.action == "case.note":
            detail = str(event.detail.get("note", ""))
            record.notes.append(Event(at, who, "Note", detail, at_iso))
        elif event.action in (
            "evidence.viewed",
            "evidence.downloaded",
            "evidence.refused",
            "evidence.locked",
        ):
            detail = plain_name(str(event.detail.get("file", "")))
        elif event.action == "evidence.removed":
            detail = str(event.detail.get("sha256", ""))
        elif event.action in ("case.hold", "approval.rejected", "case.reopened"):
            detail = str(event.detail.get("reason") or "")
        elif event.action.startswith("retention."):
            detail = _retention_detail(event.detail)
        elif event.action == "case.closed":  # kept in view when the case is reopened
            detail = str(event.detail.get("outcome") or "")
        record.chronology.append(
            Event(at, who, EVENT_WORDS.get(event.action, event.action), detail, at_iso)
        )
    files = session.exec(
        select(Evidence)
        .where(col(Evidence.school_id) == session.school_id, Evidence.case_id == case.id)
        .order_by(col(Evidence.id))
    )
    for item in files:
        intact, missing = file_intact(store, item.sha256)
        record.evidence.append(
            EvidenceItem(
                id=item.id or 0,
                filename=plain_name(item.filename),
                kind=type_label(item.content_type, item.filename),
                content_type=item.content_type,
                size=item.size,
                size_words=human_size(item.size),
                sha256=item.sha256,
                added_by=_person(item.uploaded_by, names),
                added_at=local_time(pack, item.uploaded_at),
                intact=intact,
                missing=missing,
                added_at_iso=iso_time(pack, item.uploaded_at),
            )
        )
    return record


def _retention_detail(detail: dict[str, object]) -> str:
    """A retention decision in the chronology: what changed, and the reason given."""
    changed = f"{detail['was']} to {detail['to']}" if detail.get("to") else ""
    kept = f"kept until {detail['until']}" if detail.get("until") else ""
    return ". ".join(str(p) for p in (changed, kept, detail.get("reason")) if p)


def _task_state(task: CaseTask, case: Case) -> str:
    """Open, done, or closed with the case (marked done when the case was closed)."""
    if task.done_at is None:
        return "Open"
    return "Closed with the case" if task.done_at == case.closed_at else "Done"
