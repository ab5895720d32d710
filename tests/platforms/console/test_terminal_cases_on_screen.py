"""Issue 23 at the terminal, where several alerts share one screen: every button shown has
its own number, a label on more than one case asks which, the reply to what the person
asked for is what a label presses first, every prompt names its case, and what the chat
says about a case (closed, reopened, a note) is true to the case as it is now."""

from __future__ import annotations

import io
import re

import pytest

from bot.domain.turns import ButtonPress
from bot.features.cases import cards
from bot.platforms.console.chat import ConsoleChat
from bot.web.access import WebAccess
from tests.fakes.terminal import chat
from tests.helpers import grant, report_fr, say, the_case
from tests.platforms.test_case_acts_on_every_platform import THREAT_AGAINST_PUPIL


def two_alerts(service) -> None:
    """A routine friend request (FR-0001), then an urgent threat against a pupil (CB-0001)."""
    grant(service, "dsl1", "dsl")
    grant(service, "dsl2", "dsl")
    report_fr(service)
    say(service, "teacher", *THREAT_AGAINST_PUPIL)


def dsl_screen(service) -> tuple[ConsoleChat, io.StringIO]:
    """The DSL opens the terminal chat: the menu, then both alerts."""
    out = io.StringIO()
    screen = ConsoleChat(service, "dsl1", out=out, name="Mr Patel")
    screen.show_turn(service.greet("console", "dsl1"))
    screen.check_inbox()
    return screen, out


def typed(screen: ConsoleChat, out: io.StringIO, line: str, *form: str) -> str:
    start, lines = len(out.getvalue()), list(form)
    screen.handle_line(line, lambda: lines.pop(0) if lines else None)
    return out.getvalue()[start:]


@pytest.mark.issue(23, 2)
def test_terminal_numbers_are_unique_on_screen_and_press_the_alert_they_are_printed_under(
    service_factory,
):
    service = service_factory("dukeries-academy")
    two_alerts(service)
    screen, out = dsl_screen(service)
    shown = out.getvalue()
    fr_alert, cb_alert = shown.split("[Friend or follow request FR-0001]")[1].split("CB-0001]", 1)
    [fr_close] = re.findall(r"(\d+)\) Close with outcome", fr_alert)
    [cb_close] = re.findall(r"(\d+)\) Close with outcome", cb_alert)
    assert fr_close != cb_close
    numbers = re.findall(r"(\d+)\) ", shown)
    assert len(numbers) == len(set(numbers))  # no number on screen twice

    asked = typed(screen, out, fr_close, "Declined; advice given")
    assert "Outcome, for the case record (FR-0001, friend or follow request): " in asked
    assert "Message to the reporter for FR-0001" in asked
    assert the_case(service, "FR-0001").status == "closed"
    assert the_case(service, "CB-0001").status == "new"  # the urgent case is untouched


@pytest.mark.issue(23, 2)
def test_a_button_name_on_two_cases_asks_which_and_every_prompt_names_the_case(
    service_factory,
):
    service = service_factory("dukeries-academy")
    two_alerts(service)
    screen, out = dsl_screen(service)
    which = typed(screen, out, "Acknowledge")
    assert 'More than one case on screen has "Acknowledge": ' in which
    assert "FR-0001" in which and "CB-0001" in which and "Nothing has changed" in which
    assert the_case(service, "CB-0001").status == "new"
    assert the_case(service, "FR-0001").status == "new"

    asked = typed(screen, out, "close CB-0001", "cancel")
    assert "Outcome, for the case record (CB-0001, urgent cyberbullying or online abuse): " in asked
    assert "Nothing has changed: CB-0001 is as it was." in asked
    assert the_case(service, "CB-0001").status == "new"


@pytest.mark.issue(23, 2)
def test_open_after_case_opens_that_case_though_another_alert_arrived_in_between(
    service_factory,
):
    service = service_factory("dukeries-academy")
    service.outbox.web = WebAccess(service.kernel, "http://127.0.0.1")
    two_alerts(service)
    screen, out = dsl_screen(service)
    # A colleague acknowledges FR-0001 while the DSL looks CB-0001 up: its update arrives
    # on screen just after the case view.
    ack = ButtonPress("console", "dsl2", cards.CASE_ACK, "FR-0001", name="Ms Lee")
    service.press(ack)
    looked = typed(screen, out, "case CB-0001")
    assert looked.index("CB-0001: Cyberbullying") < looked.index("FR-0001")
    opened = typed(screen, out, "open")
    assert "Here's your sign-in link for CB-0001" in opened


@pytest.mark.issue(23, 12)
def test_note_and_reopen_typed_with_a_reference_do_what_they_say(service_factory):
    service = service_factory("dukeries-academy")
    grant(service, "dsl1", "dsl")
    report_fr(service)
    chat(service, "dsl1")  # the alert, read and left
    later = chat(
        service, "dsl1",
        "note FR-0001", "Spoke to the pupil",
        "close FR-0001", "Declined", "",
        "acknowledge FR-0001",
        "note FR-0001",
        "reopen FR-0001", "The pupil sent another request",
    )  # fmt: skip
    replies = [part.split("\n", 1)[1] for part in later.split("you> ")[1:]]
    noted, closed, acknowledged, noted_again, reopened = replies
    assert "Your note (FR-0001, friend or follow request): Note added to FR-0001" in noted
    assert "Outcome, for the case record (FR-0001, friend or follow request): " in closed
    assert "already acknowledged" not in acknowledged
    assert 'FR-0001 is closed, so it has no "acknowledge" button now. You can: Reopen.' in (
        acknowledged
    )
    assert "FR-0001 is closed" in noted_again and "Add note" not in noted_again
    assert "Reason for reopening (FR-0001, friend or follow request): " in reopened
    assert "Acknowledge" not in reopened.split("Reason for reopening")[0]
    assert "FR-0001 is open again" in reopened
    assert the_case(service, "FR-0001").status == "acknowledged"


@pytest.mark.issue(23, 12)
def test_a_role_holders_first_chat_shows_each_alert_once_as_it_is_now(service_factory):
    service = service_factory("dukeries-academy")
    grant(service, "dsl1", "dsl")
    grant(service, "dsl2", "dsl")
    report_fr(service)
    for action, text in ((cards.CASE_ACK, None), (cards.CASE_ASSIGN, None)):
        service.press(ButtonPress("console", "dsl2", action, "FR-0001", text, name="Ms Lee"))
    first = chat(service, "dsl1")
    assert first.count("[Friend or follow request FR-0001]") == 1
    assert "being handled" in first and "A new friend or follow request case" not in first
