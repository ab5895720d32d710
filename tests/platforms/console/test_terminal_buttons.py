"""The terminal chat's numbers and labels press what they say: the numbers shown, an alert
button's label or `<label> <reference>` (in a later chat too), and typed answers that are
not buttons. Driven with ConsoleChat reading a scripted stdin.
"""

from __future__ import annotations

import pytest

from bot.domain.turns import ButtonPress
from bot.storage import repository as repo
from bot.storage.tables import Comment
from tests.fakes.terminal import after, chat
from tests.helpers import (
    DEFAULT_REQUEST,
    add_account,
    dialog_answers,
    grant,
    log_comment,
    make_service,
    say,
)


@pytest.mark.issue(10, 9)
def test_terminal_numbers_are_the_numbers_shown_after_a_report_ends(service_factory):
    service = service_factory()
    grant(service, "dsl1", "dsl")
    # The DSL reports one herself; her team's alert arrives as the report finishes.
    output = chat(service, "dsl1", "friend request", "1", "no", "instagram", "no", "no", "1")
    finished = after(output, "no")
    assert "Your reference is FR-0001" in finished
    assert "1) Acknowledge" in finished  # numbered from 1: no question is open any more
    assert "Acknowledged" in after(output, "1")
    with service.kernel.session() as session:
        assert repo.case_by_ref(session, "FR-0001").status == "acknowledged"
    assert dialog_answers(service, "console", "dsl1") is None  # "1" started nothing


@pytest.mark.issue(10, 9)
def test_terminal_button_label_works_while_a_question_is_open(service_factory):
    service = service_factory()
    grant(service, "dsl1", "dsl")

    def colleague_reports() -> None:
        say(service, "alice", "friend request", "1", "no", "instagram", "no", "no")

    # The alert arrives, then the DSL answers her own question (a new question is shown),
    # then types the alert's button label.
    output = chat(service, "dsl1", "friend request", colleague_reports, "", "1", "Acknowledge")
    assert "4) Another young person" in output  # the question's choices, then the alert's:
    assert "5) Acknowledge" in after(output, "")
    assert "Are they a member of your family?" in after(output, "1")
    assert "Acknowledged" in after(output, "Acknowledge")
    with service.kernel.session() as session:
        assert repo.case_by_ref(session, "FR-0001").status == "acknowledged"
    assert dialog_answers(service, "console", "dsl1") == {"sender": "current_pupil"}


@pytest.mark.issue(10, 9)
def test_terminal_alert_buttons_have_no_numbers_while_a_typed_answer_is_open(
    service_factory,
):
    service = service_factory()
    grant(service, "dsl1", "dsl")

    def colleague_reports() -> None:
        say(service, "alice", "friend request", "1", "no", "instagram", "no", "no")

    steps = ("friend request", "2", "July 2023", colleague_reports, "", "5")
    output = chat(service, "dsl1", *steps)
    assert "How old are they now?" in after(output, "July 2023")
    shown = after(output, "")
    assert "[Acknowledge]" in shown and ") Acknowledge" not in shown
    assert dialog_answers(service, "console", "dsl1")["age"] == {"age": 5}  # an answer
    with service.kernel.session() as session:
        assert repo.case_by_ref(session, "FR-0001").status == "new"  # "5" pressed nothing


@pytest.mark.issue(10, 9)
def test_terminal_label_and_reference_work_for_comments_in_a_later_chat(
    database_url, clock, tmp_path
):
    service = make_service(database_url, "default", clock, tmp_path / "evidence")
    add_account(service)
    log_comment(service)
    first = chat(service, "mo1")  # reads the "new comment" message, and leaves
    assert "CM-0001" in first and "Replied" in first
    later = chat(service, "mo1", "replied cm-0001")  # a new chat: nothing on screen
    assert "CM-0001 is closed as replied to" in after(later, "replied cm-0001")
    with service.kernel.session() as session:
        assert session.get(Comment, 1).status == "replied"


@pytest.mark.issue(10, 9)
def test_readme_close_example_works_in_a_later_chat(database_url, clock, tmp_path):
    """On SQLite and PostgreSQL: the earlier alert is found in the stored messages."""
    service = make_service(database_url, "default", clock, tmp_path / "evidence")
    grant(service, "dsl1", "dsl")
    say(service, "alice", "friend request", "1", "no", "instagram", "no", "no")
    assert "Close with outcome" in chat(service, "dsl1")  # the alert, read and left
    later = chat(service, "dsl1", "close FR-0001", "Spoke to the pupil; request declined.")
    assert "Outcome, for the case record" in after(later, "close FR-0001")
    with service.kernel.session() as session:
        case = repo.case_by_ref(session, "FR-0001")
        assert case.status == "closed" and "request declined" in (case.outcome or "")


@pytest.mark.issue(10, 9)
def test_stale_reject_says_already_decided_before_asking_for_a_reason(
    service_factory,
):
    service = service_factory()
    grant(service, "head1", "headteacher")
    grant(service, "head2", "headteacher")
    say(service, "req", *DEFAULT_REQUEST)

    def colleague_approves() -> None:
        [approve] = [
            b
            for m in service.intake.inbox("console", "head2")
            for b in m.buttons
            if b.label == "Approve"
        ]
        service.press(
            ButtonPress("console", "head2", approve.action, approve.value, text=None, name="Head2")
        )

    output = chat(service, "head1", "", colleague_approves, "Reject", "Not needed")
    assert "Reject" in after(output, "")
    pressed = after(output, "Reject").split("you> Not needed")[0]
    assert "already been decided" in pressed
    assert "Why are you rejecting it?" not in pressed


@pytest.mark.issue(11, 4)
def test_terminal_unicode_digits_are_an_answer_not_a_crash(service_factory):
    """`²` and `①` pass str.isdigit() but not int(): the terminal must not crash on them."""
    service = service_factory()
    shown = chat(service, "uma", "²", "①", "friend request", "²", "99999999999999999999")
    assert "Traceback" not in shown
    assert "Who sent the request?" in after(shown, "friend request")
    assert "you> 99999999999999999999" in shown


@pytest.mark.issue(10, 9)
def test_a_moderator_who_logs_a_comment_can_press_replied_on_it(service_factory):
    """The person who logs a comment gets no nudge of their own, so their confirmation
    carries the buttons, and `replied CM-0001` works for them as docs/setup.md says."""
    service = service_factory()
    add_account(service)  # mo1 and mo2 moderate it
    shown = chat(
        service, "mo1", "log a comment", "1", "parent", "When is sports day?",
        "yesterday 4pm", "no", "no", "replied CM-0001",
    )  # fmt: skip
    logged = after(shown, "no")
    assert "Logged as CM-0001" in logged and "Replied" in logged
    assert "CM-0001 is closed as replied to" in after(shown, "replied CM-0001")


def test_terminal_label_and_reference_work_for_every_case_kind_and_say_when_they_press_nothing(
    service_factory,
):
    """`close IM-0001` works like `close FR-0001` (the terminal reads any kind's code), and
    a label and reference that press nothing say why instead of showing the menu."""
    service = service_factory()
    grant(service, "head", "headteacher")
    say(service, "alice", "someone has made a fake account pretending to be the school")
    say(
        service, "alice", "The school", "Instagram", "@our_school_fake",
        "It posts our logo and asks parents for bank details", "done", "yes",
        "No, only adults", "no",
    )  # fmt: skip
    assert "IM-0001" in chat(service, "head")  # the alert, read and left
    later = chat(service, "head", "acknowledge im-0001", "acknowledge IM-0001", "close IM-0009")
    assert "you've acknowledged IM-0001" in after(later, "acknowledge im-0001")
    again = after(later, "acknowledge IM-0001")
    assert 'IM-0001\'s alert has no "acknowledge" button now' in again
    assert "Close with outcome" in again.split("you>")[0]
    assert "I can't find an alert about IM-0009" in after(later, "close IM-0009")
    with service.kernel.session() as session:
        assert repo.case_by_ref(session, "IM-0001").status == "acknowledged"
