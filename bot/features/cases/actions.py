"""The owning team's buttons on a case: acknowledge, assign, add a note, close.

Every press re-checks the presser's role against the database, whatever the platform
showed them, and every change is a compare-and-set so a double click acts once.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from sqlmodel import col

from bot.domain.cases import Actor, CaseStatus, NotAllowed, can_view, require_handler
from bot.domain.messages import Message
from bot.features.cases import alerts, cards, reopening
from bot.kernel.core import Kernel
from bot.kernel.outbox import ALL_CASES, OPEN_WEB
from bot.kernel.registry import ButtonAction, ButtonHandler, Press, Registry
from bot.storage import repository as repo
from bot.storage.scoping import SchoolSession
from bot.storage.tables import Case

log = logging.getLogger(__name__)
MAX_NOTE = 2000
OPEN = (CaseStatus.NEW.value, CaseStatus.ACKNOWLEDGED.value, CaseStatus.IN_PROGRESS.value)
GONE = "I can't find that case any more. Nothing has changed."


def register(registry: Registry) -> None:
    registry.add_button(ButtonAction(cards.CASE_ACK, _press(cards.CASE_ACK), _refusal))
    registry.add_button(ButtonAction(cards.CASE_ASSIGN, _press(cards.CASE_ASSIGN), _refusal))
    registry.add_button(
        ButtonAction(cards.CASE_NOTE, _press(cards.CASE_NOTE), _refusal, asks_for=cards.NOTE_PROMPT)
    )
    registry.add_button(
        ButtonAction(
            cards.CASE_CLOSE,
            _press(cards.CASE_CLOSE),
            _refusal,
            asks_for=cards.CLOSE_OUTCOME,
            also_asks=cards.CLOSE_MESSAGE,
            form_hint=cards.CLOSE_HINT,
        )
    )
    registry.add_button(ButtonAction(cards.CASE_ASK_REPORTER, _ask_reporter, _refusal))
    registry.add_button(
        ButtonAction(
            cards.CASE_REOPEN,
            reopening.reopen,
            reopening.reopen_refusal,
            asks_for=cards.REOPEN_REASON,
            form_hint=cards.REOPEN_HINT,
        )
    )
    registry.add_button(ButtonAction(OPEN_WEB, _web_link))


def _ask_reporter(press: Press) -> list[Message]:
    """The DSL asks the member of staff who left a report unfinished to finish it."""
    if refused := _refusal(press):  # the same checks as every case button
        return [Message(refused)]
    kernel, session = press.kernel, press.session
    case = repo.case_by_ref(session, press.target.ref)
    assert case is not None  # _refusal found it in this transaction
    who = press.actor.name or kernel.pack.role_label(kernel.pack.lead_dsl_role)
    asked = Message(
        f"{who} has seen the report you started ({case.ref}) and asks you to finish it, or "
        "to speak to them in person. Reply here to carry on where you left off."
    )
    kernel.outbox.tell_user(session, case.platform, case.reporter_id, asked, case.id)
    repo.audit(
        session, kernel.now(), press.actor.key, "case.asked_reporter", case.ref, by=press.actor.name
    )
    return [Message(f"I've asked the reporter to finish {case.ref}. Nothing else has changed.")]


def _press(action: str) -> ButtonHandler:
    def pressed(press: Press) -> list[Message]:
        case = repo.case_by_ref(press.session, press.target.ref)
        if case is None:
            return [Message(GONE)]
        try:
            require_handler(press.kernel.pack, press.actor, case.team)
        except NotAllowed as refusal:
            log.info("action %s on %s refused: %s", action, case.ref, type(refusal).__name__)
            return [Message(str(refusal))]
        kernel, session, actor = press.kernel, press.session, press.actor
        return _case_action(
            kernel, session, actor, case, action, text=press.text, message=press.message
        )

    return pressed


def _refusal(press: Press) -> str | None:
    case = repo.case_by_ref(press.session, press.target.ref)
    if case is None or case.id is None:
        return GONE
    try:
        require_handler(press.kernel.pack, press.actor, case.team)
    except NotAllowed as refusal:
        return str(refusal)
    return None


def _web_link(press: Press) -> list[Message]:
    """A one-time sign-in link to the case's page (or, with no case, the list of cases)
    for the person who pressed it only."""
    kernel, session, actor, target = press.kernel, press.session, press.actor, press.target
    what, path = "your cases", "/web/"
    if target.ref != ALL_CASES:
        case = repo.case_by_ref(session, target.ref)
        if case is None or not can_view(
            kernel.pack, actor, case.team, f"{case.platform}:{case.reporter_id}"
        ):
            return [Message(f"I can't find a case {target.ref} that you can see.")]
        what, path = case.ref, f"/web/cases/{case.ref}"
    web = kernel.outbox.web
    if web is None:
        return [Message("The web workspace isn't switched on. Ask your IT lead about it.")]
    # A Slack mention is no name for a web page; the page then shows the user id.
    name = actor.name if actor.name and not actor.name.startswith("<@") else None
    link = web.add_link(session, actor.platform, actor.user_id, name, path)
    return [
        Message(
            f"Here's your sign-in link for {what}. It works once, in the next 10 minutes, "
            f"and only for you, so please don't forward it: {link}"
        )
    ]


def _case_action(
    kernel: Kernel,
    session: SchoolSession,
    actor: Actor,
    case: Case,
    action: str,
    *,
    text: str | None,
    message: str | None = None,
) -> list[Message]:
    now = kernel.now()
    who = actor.name or actor.user_id
    assert case.id is not None
    if action == cards.CASE_ACK:
        if not repo.transition_case(
            session,
            case.id,
            (CaseStatus.NEW.value,),
            {
                "status": CaseStatus.ACKNOWLEDGED.value,
                "acknowledged_at": now,
                "updated_at": now,
            },
        ):
            return [Message(_not_acknowledged(session, case))]
        repo.audit(session, now, actor.key, "case.acknowledged", case.ref, by=who)
        alerts.refresh(kernel, session, case)
        alerts.notify_reporter(kernel, session, case, "acknowledged", who)
        return [Message(f"Thanks, you've acknowledged {case.ref}.")]
    if action == cards.CASE_ASSIGN:
        values = {
            "assignee_id": actor.user_id,
            "updated_at": now,
            "status": CaseStatus.IN_PROGRESS.value,
        }
        if case.assignee_id == actor.user_id:
            return [Message(f"{case.ref} is already assigned to you.")]
        if not repo.transition_case(session, case.id, OPEN, values):
            return [Message(f"{case.ref} is closed. Nothing has changed.")]
        if case.acknowledged_at is None:
            session.execute(
                sa.update(Case)
                .where(col(Case.school_id) == session.school_id, col(Case.id) == case.id)
                .values(acknowledged_at=now)
            )
            alerts.notify_reporter(kernel, session, case, "acknowledged", who)
        repo.audit(session, now, actor.key, "case.assigned", case.ref, by=who)
        alerts.refresh(kernel, session, case)
        return [Message(f"{case.ref} is now assigned to you.")]
    note = (text or "").strip()
    if not note:
        prompt = (
            "Please type your note."
            if action == cards.CASE_NOTE
            else "Please say what the outcome was."
        )
        return [Message(f"{prompt} Nothing has changed yet.")]
    to_reporter = (message or "").strip() or None
    if len(note) > MAX_NOTE or len(to_reporter or "") > MAX_NOTE:
        return [Message(f"Please keep it under {MAX_NOTE:,} characters. Nothing has changed yet.")]
    if action == cards.CASE_NOTE:
        if not _still_open(session, case):
            return [
                Message(
                    f"{case.ref} is closed, so I haven't added the note. "
                    + REOPEN_IT.format(ref=case.ref)
                )
            ]
        repo.audit(session, now, actor.key, "case.note", case.ref, by=who, note=note)
        alerts.refresh(kernel, session, case)
        return [Message(f"Note added to {case.ref}.")]
    if not repo.transition_case(
        session,
        case.id,
        OPEN,
        {
            "status": CaseStatus.CLOSED.value,
            "outcome": note,
            "closed_at": now,
            "updated_at": now,
        },
    ):
        return [Message(f"{case.ref} was already closed. Nothing has changed.")]
    told_before = reopening.reporter_told_closed(session, case.ref)
    tasks = reopening.close_tasks(session, case.id, now, actor.key)
    repo.audit(
        session,
        now,
        actor.key,
        "case.closed",
        case.ref,
        by=who,
        outcome=note,
        to_reporter=to_reporter,
        tasks_closed=tasks,
    )
    alerts.refresh(kernel, session, case)
    done = (
        f" Its {tasks} open follow-up task{'s are' if tasks > 1 else ' is'} marked done with it."
        if tasks
        else ""
    )
    if told_before and not to_reporter:  # reopened and closed again: told once is enough
        return [
            Message(
                f"{case.ref} is closed again.{done} The reporter was told when it first "
                "closed, so they haven't been told again."
            )
        ]
    # The outcome stays in the record; the reporter gets only the closing message.
    alerts.notify_reporter(kernel, session, case, "closed", who, detail=to_reporter)
    told = "with your message" if to_reporter else "that it is closed"
    return [Message(f"{case.ref} is closed.{done} The reporter has been told {told}.")]


REOPEN_IT = "If there's more to do, reopen it first: type reopen {ref}. Nothing has changed."


def _still_open(session: SchoolSession, case: Case) -> bool:
    session.refresh(case)
    return case.status != CaseStatus.CLOSED.value


def _not_acknowledged(session: SchoolSession, case: Case) -> str:
    """Why an acknowledgement changed nothing, true to the case as it is now."""
    if not _still_open(session, case):
        never = " It was closed without being acknowledged." if case.acknowledged_at is None else ""
        return (
            f"{case.ref} is closed, so there's nothing to acknowledge.{never} "
            + REOPEN_IT.format(ref=case.ref)
        )
    return f"{case.ref} was already acknowledged. Nothing has changed."
