"""`cancel`, `back` and `help` typed where a button's form asks for words (an outcome, the
words for the reporter, a reason, a note) leave the form: nothing changes and nobody is
sent the word (last round a DSL's `cancel` closed an urgent case and the teacher read
"A message from Mr Patel: cancel")."""

from __future__ import annotations

import io

import pytest
from sqlmodel import select

from bot.domain.turns import ButtonPress, StaffMessage
from bot.features.accounts import approvals
from bot.features.cases import cards
from bot.platforms.console.chat import ConsoleChat
from bot.storage.tables import ApprovalDecision
from tests.helpers import BROWN_JONES_REQUEST, WORRY, grant, tell

FR_ANSWERS = ("friend request", "1", "no", "instagram", "no", WORRY, "no", "done")


def report(service, user="alice"):
    for line in FR_ANSWERS:
        service.receive(StaffMessage("console", user, line, name="Alice Smith"))


def status_of(service, ref):
    [view] = service.receive(StaffMessage("console", "dsl1", f"case {ref}")).replies
    return view.text


@pytest.mark.parametrize("word", ["cancel", "Cancel.", "back", "stop", "help"])
@pytest.mark.parametrize("field", ["text", "message"])
def test_a_control_word_at_the_close_form_changes_nothing(service_factory, word, field):
    service = service_factory("default")
    grant(service, "dsl1", "dsl")
    report(service)
    service.intake.inbox("console", "alice")
    words = {"text": "Spoke to the family", "message": None, field: word}
    press = ButtonPress("console", "dsl1", cards.CASE_CLOSE, "FR-0001", name="Mr Patel", **words)
    [reply] = service.press(press).replies
    assert reply.text.startswith("Nothing has changed: FR-0001 is as it was.")
    if word == "help":
        assert f"fill in “{cards.CLOSE_OUTCOME}”, or type cancel" in reply.text
    assert "Status: Closed" not in status_of(service, "FR-0001")
    assert service.intake.inbox("console", "alice") == []


@pytest.mark.parametrize("word", ["cancel", "back", "help"])
def test_a_control_word_is_never_a_note_or_a_reason(service_factory, word):
    service = service_factory("default")
    grant(service, "dsl1", "dsl")
    grant(service, "head", "headteacher", "slt")
    report(service)
    note = ButtonPress("console", "dsl1", cards.CASE_NOTE, "FR-0001", text=word)
    assert service.press(note).replies[0].text.startswith("Nothing has changed")
    assert f": {word}" not in status_of(service, "FR-0001")
    assert "AC-0001" in tell(service, "req", "Ms Req", *BROWN_JONES_REQUEST)
    service.intake.inbox("console", "req")
    reject = ButtonPress("console", "head", approvals.REJECT, "AC-0001:0", text=word)
    assert service.press(reject).replies[0].text.startswith("Nothing has changed")
    assert service.intake.inbox("console", "req") == []
    with service.kernel.session() as session:
        assert session.exec(select(ApprovalDecision)).all() == []
    reason = ButtonPress("console", "head", approvals.REJECT, "AC-0001:0", text="Too young")
    assert not service.press(reason).replies[0].text.startswith("Nothing has changed")
    with service.kernel.session() as session:
        assert len(session.exec(select(ApprovalDecision)).all()) == 1


def test_terminal_cancel_at_the_outcome_leaves_the_form_without_a_second_question(
    service_factory,
):
    service = service_factory("default")
    grant(service, "dsl1", "dsl")
    report(service)
    out = io.StringIO()
    ConsoleChat(service, "dsl1", out=out, name="Mr Patel").run(
        io.StringIO("\nClose with outcome\ncancel\n")
    )
    shown = out.getvalue()
    assert "Nothing has changed: FR-0001 is as it was." in shown
    assert "Message to the reporter" not in shown
    assert "Status: Closed" not in status_of(service, "FR-0001")
    assert service.intake.inbox("console", "alice") == []
