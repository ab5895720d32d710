"""Official accounts, comments, nudges and escalation, through the service and the terminal.

The clock starts on Saturday 21 November 2026, 15:00 GMT (see conftest). Every sweep is
one scheduler tick; the terminal inbox shows what each person would receive.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from sqlmodel import select

from bot.domain.turns import ButtonPress
from bot.features.comments.moderation import RegisterError
from bot.features.comments.rules import CommentIn
from bot.storage.tables import AuditEvent, Comment, Reminder
from tests.helpers import (
    add_account,
    grant,
    log_comment,
    say,
    seen,
)


def titles(service, user: str) -> list[str]:
    return [m.title or m.text for m in service.intake.inbox("console", user)]


def audit_actions(service, subject: str) -> list[str]:
    with service.kernel.session() as session:
        rows = session.exec(select(AuditEvent).where(AuditEvent.subject == subject))
        return [r.action for r in rows]


def test_register_rules_transfer_close_and_export(service_factory):
    service = service_factory("dukeries-academy")
    with pytest.raises(RegisterError, match="at least 2"):
        service.comments.register_add(
            "t", name="X", purpose="p", platform="", author="a", moderators=["One"], contacts=[]
        )
    with pytest.raises(RegisterError, match="not a chat id"):
        add_account(service, contacts=["U123"])
    account = add_account(service)
    service.comments.register_change(account.id, "t", author="Ms Patel", contacts=["console:mo3"])
    with pytest.raises(RegisterError, match="at least 2"):
        service.comments.register_change(account.id, "t", moderators=["Only One"])
    service.comments.register_change(account.id, "t", close=True)
    with pytest.raises(RegisterError, match="already closed"):
        service.comments.register_change(account.id, "t", close=True)
    rows = list(csv.reader(io.StringIO(service.comments.register_csv())))
    assert rows[0][:4] == ["Site Name/Purpose", "Approved Date", "Author", "Current Status"]
    assert rows[1][:4] == ["PE Twitter - Fixtures and results", "21/11/2026", "Ms Patel", "Closed"]
    assert audit_actions(service, f"account:{account.id}") == [
        "register.added",
        "register.transferred",
        "register.closed",
    ]
    # A closed account takes no new comments.
    with pytest.raises(RegisterError, match="No open account"):
        log_comment(service)


def test_comment_nudged_then_deadline_then_escalated_once_each(service_factory, clock):
    service = service_factory("default")
    grant(service, "head", "slt")
    add_account(service)
    comment = log_comment(service)  # Saturday: due Monday at the end of the day (17:00)
    assert comment.due_at == datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
    assert titles(service, "mo1") == ["Comment CM-0001 awaiting a reply"]
    [new] = service.intake.inbox("console", "mo2")
    assert "Please reply by 23 Nov 17:00" in new.text
    assert {b.label for b in new.buttons} == {
        "Replied",
        "Acknowledged publicly",
        "Offensive: tell SLT",
        "Snooze 1 hour",
    }

    assert service.sweep() == 0  # nothing is due yet
    clock.current = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)  # 4 hours before
    assert service.sweep() == 1
    [nudge] = service.intake.inbox("console", "mo1")
    assert nudge.text.startswith("Reminder: a comment on PE Twitter needs a reply by 23 Nov 17:00")
    assert service.sweep() == 0  # a second tick sends nothing more

    clock.current = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
    service.sweep()
    [deadline] = service.intake.inbox("console", "mo1")
    assert "deadline" in deadline.text
    assert service.intake.inbox("console", "head") == []  # SLT not yet

    clock.advance(hours=1)
    service.sweep()
    [escalated] = service.intake.inbox("console", "head")
    assert "deadline has passed" in escalated.text and "CM-0001" in escalated.title
    with service.kernel.session() as session:
        assert session.get(Comment, comment.id).status == "escalated"
        assert {r.status for r in session.exec(select(Reminder))} == {"done"}


def test_replied_button_closes_once_and_cancels_reminders(service_factory, clock):
    service = service_factory("default")
    add_account(service)
    log_comment(service)
    refused = service.press(
        ButtonPress("console", "stranger", "comment.replied", "CM-0001")
    ).replies
    assert "Only the moderators of PE Twitter or SLT" in refused[0].text
    [done] = service.press(
        ButtonPress("console", "mo1", "comment.replied", "CM-0001", name="Mo")
    ).replies
    assert "closed as replied to" in done.text
    [again] = service.press(ButtonPress("console", "mo2", "comment.replied", "CM-0001")).replies
    assert "already closed" in again.text
    clock.advance(days=5)
    assert service.sweep() == 0  # cancelled: nothing left to send
    assert audit_actions(service, "CM-0001") == ["comment.logged", "comment.replied"]


def test_snooze_reminds_in_an_hour_and_moves_nothing_else(service_factory, clock):
    service = service_factory("default")
    add_account(service)
    log_comment(service)
    service.intake.inbox("console", "mo1")
    [snoozed] = service.press(ButtonPress("console", "mo1", "comment.snooze", "CM-0001")).replies
    assert "in an hour" in snoozed.text
    with service.kernel.session() as session:
        due = sorted((r.kind, r.due_at) for r in session.exec(select(Reminder)))
    assert due == [
        ("comment.deadline", datetime(2026, 11, 23, 17, 0, tzinfo=UTC)),
        ("comment.escalate", datetime(2026, 11, 23, 18, 0, tzinfo=UTC)),
        ("comment.nudge", datetime(2026, 11, 21, 16, 0, tzinfo=UTC)),  # the snooze
        ("comment.nudge", datetime(2026, 11, 23, 13, 0, tzinfo=UTC)),
    ]
    clock.advance(hours=1)
    service.sweep()
    [again] = service.intake.inbox("console", "mo1")
    assert again.text.startswith("Reminder: a comment on PE Twitter")
    assert "comment.snoozed" in audit_actions(service, "CM-0001")


@pytest.mark.parametrize(
    ("fields", "clause_text"),
    [
        ({"offensive": True}, "Hide or remove the comment"),
        ({"complaint": True}, "Complaints Policy"),
        ({"author_type": "press"}, "Don't answer a journalist yourself"),
    ],
)
def test_offensive_complaint_and_press_go_to_slt_at_once(service_factory, fields, clause_text):
    service = service_factory("default")
    grant(service, "head", "slt")
    add_account(service)
    log_comment(service, **fields)
    [alert] = service.intake.inbox("console", "head")
    assert clause_text in alert.text
    assert "CM-0001" in alert.title


def test_parent_offensive_comment_carries_parent_guidance(service_factory):
    service = service_factory("default")
    add_account(service)
    log_comment(service, offensive=True)
    [dm] = service.intake.inbox("console", "mo1")
    assert "invite them in to talk" in dm.text


def test_offensive_button_tells_slt_and_is_audited(service_factory):
    service = service_factory("default")
    grant(service, "head", "slt")
    add_account(service)
    log_comment(service)
    service.press(ButtonPress("console", "mo2", "comment.offensive", "CM-0001", name="Mo Two"))
    [alert] = service.intake.inbox("console", "head")
    assert "Mo Two marked this comment offensive" in alert.text
    assert "comment.offensive" in audit_actions(service, "CM-0001")


def test_catch_up_after_downtime_sends_one_message_per_item(service_factory, clock):
    service = service_factory("default")
    grant(service, "head", "slt")
    add_account(service)
    log_comment(service)
    log_comment(service, text="Second one")
    service.intake.inbox("console", "mo1")  # read the "new comment" messages
    clock.advance(days=4)  # the bot was down all through Monday
    assert service.sweep() == 6  # three reminders each, all due
    overdue = service.intake.inbox("console", "mo1")  # folded: one message per comment ...
    assert [m.text.split(".")[0] for m in overdue] == [
        "A comment on PE Twitter is overdue (due 23 Nov 17:00), so SLT have been told"
    ] * 2
    assert len(service.intake.inbox("console", "head")) == 2  # ... and one escalation each
    assert service.sweep() == 0


def test_account_without_reachable_moderators_goes_to_slt(service_factory):
    service = service_factory("default")
    grant(service, "head", "slt")
    add_account(service, contacts=())
    log_comment(service)
    [alert] = service.intake.inbox("console", "head")
    assert "no moderator I can message" in alert.text


def test_comment_logged_in_the_terminal_conversation(service_factory):
    service = service_factory("default")
    assert "no official accounts in the register" in say(service, "mo1", "log a comment")[0]
    add_account(service)
    replies = say(service, "mo1", "log a comment")
    assert "Which account is it on?" in replies[-1]
    reply = say(
        service,
        "mo1",
        "PE Twitter",
        "A parent or carer",
        "Is sports day on?",
        "today 2pm",
        "no",
        "no",
    )
    assert "Logged as CM-0001. A reply is due by 23 Nov 17:00" in reply[0]
    assert titles(service, "mo2") == ["Comment CM-0001 awaiting a reply"]
    assert titles(service, "mo1") == []  # the person who logged it isn't told again


@pytest.mark.issue(10, 22)
def test_press_enquiry_moderators_are_not_asked_to_reply(service_factory, clock):
    service = service_factory("default")
    grant(service, "slt1", "slt")
    service.comments.register_add(
        "test",
        name="School News",
        purpose="News",
        platform="Facebook",
        author="Ms Author",
        moderators=["Ann", "Bo"],
        contacts=["console:mod1"],
    )
    data = CommentIn(account=1, author_type="press", text="Is the school closing?")
    service.comments.log_comment(data, "cli", "cli:admin")
    [new] = service.intake.inbox("console", "mod1")
    assert "Please don't reply: SLT will answer" in new.text
    assert "Don't answer a journalist yourself" in new.text
    assert "Reply within the deadline" not in new.text and not new.buttons
    [slt_alert] = service.intake.inbox("console", "slt1")
    assert [b.label for b in slt_alert.buttons] == ["Replied", "Acknowledged publicly"]
    # The nudge and the deadline go to SLT, whose reply it is; the moderators hear nothing
    # that asks them to reply.
    for _ in range(4):
        clock.advance(hours=12)
        service.sweep()
    for message in service.intake.inbox("console", "mod1"):
        text = seen(message)
        assert "reply by" not in text.lower() and "needs a reply" not in text, text
        assert not [b for b in message.buttons if b.label == "Replied"], text
    reminders = [seen(m) for m in service.intake.inbox("console", "slt1")]
    assert any("Reminder: the reply to this press enquiry" in t for t in reminders), reminders
