"""What staff can type outside a conversation about cases: "my cases", "case FR-0001"."""

from __future__ import annotations

import dataclasses

from bot.dialogs.parsing import normalise
from bot.domain.cases import Actor, CaseStatus, can_view, teams_of
from bot.domain.messages import Message
from bot.features.cases import cards, history, reopening
from bot.features.cases.view import case_view
from bot.kernel.core import Kernel
from bot.kernel.registry import Registry, TextCommand
from bot.storage import repository as repo
from bot.storage.scoping import SchoolSession

MY_CASES = {"my cases", "cases", "my reports", "status"}


def register(registry: Registry) -> None:
    registry.add_command(
        TextCommand("my_cases", _asks_for_my_cases, my_cases, menu_label="My cases")
    )
    registry.add_command(TextCommand("show_case", _names_a_case, show_case))
    registry.add_command(TextCommand("reopen_case", _reopens_a_case, reopen_case))


def _asks_for_my_cases(registry: Registry, text: str, said: str) -> str | None:
    return "" if said in MY_CASES or said == "my_cases" else None


def _names_a_case(registry: Registry, text: str, said: str) -> str | None:
    match = registry.reference_pattern().match(text.strip())
    return match.group(1).upper() if match else None


def _reopens_a_case(registry: Registry, text: str, said: str) -> str | None:
    """ "reopen CB-0003": the reference, for the owning team to reopen it with a reason."""
    words = text.strip().split(None, 1)
    if len(words) != 2 or words[0].lower() != "reopen":
        return None
    return _names_a_case(registry, words[1], normalise(words[1]))


def reopen_case(kernel: Kernel, session: SchoolSession, actor: Actor, ref: str) -> list[Message]:
    """Typed `reopen REF`: the Reopen button, whose form asks why (chat platforms open it
    as a form; the terminal asks on the next line)."""
    case = repo.case_by_ref(session, ref)
    if case is None or not can_view(
        kernel.pack, actor, case.team, f"{case.platform}:{case.reporter_id}"
    ):
        return [Message(f"I can't find a case {ref} that you can see.")]
    if case.team not in teams_of(kernel.pack, actor):
        return [Message("Only the team that owns the case can reopen it. Nothing has changed.")]
    if refusal := reopening.refused(kernel.registry.alerts, case):
        return [Message(refusal)]
    button = cards.reopen_button(case)
    return [
        Message(
            f"To reopen {case.ref}, press Reopen and say why. The reason goes in its record "
            "for the team; the reporter isn't told.",
            buttons=(button,),
        )
    ]


def case_lines(kernel: Kernel, session: SchoolSession, actor: Actor) -> list[str]:
    """The person's own cases, one line each, with where each stands."""
    own = repo.cases_reported_by(session, actor.platform, actor.user_id)
    decided = repo.approval_statuses(session, [c.id for c in own if c.id is not None])
    kinds = kernel.registry
    return [
        f"• {c.ref} {kinds.case_kind(c.kind).title}: "
        f"{cards.status_label(c, decided.get(c.id or 0))}"
        for c in own
    ]


def my_cases(kernel: Kernel, session: SchoolSession, actor: Actor, _: str = "") -> list[Message]:
    lines = case_lines(kernel, session, actor)
    messages = [
        Message(
            "Your cases:\n" + "\n".join(lines) if lines else "You haven't reported anything yet."
        )
    ]
    team_cases = repo.open_cases_for_teams(session, teams_of(kernel.pack, actor))
    if team_cases:
        rows = [
            f"• {c.ref}{' (urgent)' if c.urgent else ''}: "
            f"{cards.STATUS_LABELS[CaseStatus(c.status)]}"
            for c in team_cases
        ]
        messages.append(Message("Open cases for your team:\n" + "\n".join(rows)))
    return messages


def show_case(kernel: Kernel, session: SchoolSession, actor: Actor, ref: str) -> list[Message]:
    pack = kernel.pack
    case = repo.case_by_ref(session, ref)
    if case is None or not can_view(pack, actor, case.team, f"{case.platform}:{case.reporter_id}"):
        # Same answer for "missing" and "not yours", so references can't be probed.
        return [Message(f"I can't find a case {ref} that you can see.")]
    for_team = case.team in teams_of(pack, actor)
    lines = history.lines(pack, session, ref, notes=True) if for_team else []
    view = case_view(kernel, session, case, for_team=for_team, history=lines)
    if for_team:  # what the team can do with it now, as on its alert (or Reopen)
        view = dataclasses.replace(view, buttons=reopening.team_buttons(kernel, case))
    return [kernel.outbox.with_web_button(view, case.ref)]
