"""Account approvals (one role and a chain of them), on SQLite and PostgreSQL."""

from __future__ import annotations

import threading

import pytest
from sqlmodel import select

from bot.domain.turns import ButtonPress, StaffMessage
from bot.features.accounts import approvals
from bot.storage.tables import ApprovalDecision, Case, OfficialAccount
from tests.helpers import (
    DEFAULT_REQUEST,
    grant,
    last_alert_button,
    make_service,
    say,
    two_stage_pack,
)

KJS_REQUEST = [
    "I want to set up a Twitter account for PE",
    "KJS PE",
    "x",
    "Share PE news",
    "Parents and pupils",
    "School newsletter",
    "Sam Lee, Jo Park",
    "open",
    "Fixtures and results",
    "yes",
    "yes",
    "yes",
]


@pytest.fixture
def service(database_url, clock, tmp_path):
    return make_service(database_url, two_stage_pack(), clock, tmp_path / "evidence")


def submit(service, user="req") -> str:
    reply = say(service, user, *DEFAULT_REQUEST)[0]
    assert "AC-0001" in reply, reply
    return "AC-0001"


def test_two_stage_chain_approves_and_registers(service):
    grant(service, "dsl1", "dsl")
    grant(service, "head", "headteacher")
    grant(service, "nobody_special", "moderator")
    ref = submit(service)

    approve = last_alert_button(service, "dsl1", "Approve")
    assert approve.value == f"{ref}:0"
    # The headteacher cannot jump the queue: stage 1 belongs to the DSL.
    [refusal] = service.press(
        ButtonPress("console", "head", approvals.APPROVE, approve.value)
    ).replies
    assert "Only the Designated Safeguarding Lead" in refusal.text
    [refusal] = service.press(
        ButtonPress("console", "nobody_special", approvals.APPROVE, approve.value)
    ).replies
    assert "Nothing has changed" in refusal.text

    [ok] = service.press(
        ButtonPress("console", "dsl1", approvals.APPROVE, approve.value, name="Dee")
    ).replies
    assert "now goes to the Headteacher" in ok.text
    # A double click on the same (now stale) button decides nothing more.
    [again] = service.press(
        ButtonPress("console", "dsl1", approvals.APPROVE, approve.value)
    ).replies
    assert "already been decided" in again.text

    updated = [m for m in service.intake.inbox("console", "head") if m.buttons][-1]
    assert "Approved by Dee (Designated Safeguarding Lead)" in updated.text
    assert "stage 2 of 2" in updated.text
    final = next(b for b in updated.buttons if b.label == "Approve")
    [done] = service.press(
        ButtonPress("console", "head", approvals.APPROVE, final.value, name="Head")
    ).replies
    assert "approved" in done.text

    with service.kernel.session() as session:
        [account] = session.exec(select(OfficialAccount)).all()
        case = session.exec(select(Case)).one()
        decisions = session.exec(select(ApprovalDecision)).all()
    assert (account.name, account.status, account.moderators) == (
        "Year 6 Blog",
        "open",
        ["Ann Bell", "Cy Dee"],
    )
    assert case.status == "closed" and case.outcome == "approved"
    assert [(d.stage, d.role, d.approve) for d in decisions] == [
        (0, "dsl", True),
        (1, "headteacher", True),
    ]
    [notice] = [m for m in service.intake.inbox("console", "req") if "Good news" in m.text]
    assert ref in notice.text


def test_rejection_needs_a_reason_and_tells_the_requester(service):
    grant(service, "dsl1", "dsl")
    ref = submit(service)
    reject = last_alert_button(service, "dsl1", "Reject")
    assert reject.asks_for
    [ask] = service.press(
        ButtonPress("console", "dsl1", approvals.REJECT, reject.value, text="  ")
    ).replies
    assert "give a reason" in ask.text
    service.press(
        ButtonPress("console", "dsl1", approvals.REJECT, reject.value, text="Pupils under 13")
    )
    with service.kernel.session() as session:
        case = session.exec(select(Case)).one()
    assert case.status == "closed" and case.outcome == "rejected: Pupils under 13"
    [notice] = [m for m in service.intake.inbox("console", "req") if ref in m.text]
    assert "Reason: Pupils under 13" in notice.text


def test_two_approvers_clicking_at_once_give_one_outcome(service):
    grant(service, "dsl1", "dsl")
    grant(service, "dsl2", "dsl")
    submit(service)
    value = last_alert_button(service, "dsl1", "Approve").value
    barrier = threading.Barrier(2)
    results: dict[str, str] = {}

    def click(user: str, approve: bool) -> None:
        barrier.wait()
        action = approvals.APPROVE if approve else approvals.REJECT
        [reply] = service.press(
            ButtonPress("console", user, action, value, text="No", name=user)
        ).replies
        results[user] = reply.text

    threads = [
        threading.Thread(target=click, args=("dsl1", True)),
        threading.Thread(target=click, args=("dsl2", False)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with service.kernel.session() as session:
        decisions = session.exec(select(ApprovalDecision)).all()
    assert len(decisions) == 1, results
    losers = [text for text in results.values() if "already" in text or "a moment ago" in text]
    assert len(losers) == 1, results


def test_single_role_approval_kjs(database_url, clock, tmp_path):
    service = make_service(database_url, "king-jamess-school", clock, tmp_path)
    grant(service, "it", "director_of_it")
    grant(service, "teacher", "slt")
    reply = say(service, "req", *KJS_REQUEST)[0]
    assert "It now goes to the Director of IT for approval. (Policy 2.2)" in reply
    value = last_alert_button(service, "it", "Approve").value
    [refused] = service.press(ButtonPress("console", "teacher", approvals.APPROVE, value)).replies
    assert "Only the Director of IT" in refused.text
    [done] = service.press(ButtonPress("console", "it", approvals.APPROVE, value)).replies
    assert "approved" in done.text


def test_fewer_than_two_named_staff_is_refused(service_factory):
    service = service_factory("king-jamess-school")
    say(service, "r", *KJS_REQUEST[:6])
    [reply] = service.receive(StaffMessage("console", "r", "Sam Lee")).replies
    assert "at least 2 named people. (Policy 2.2)" in reply.text
    assert "You gave 1: Sam Lee" in reply.text


@pytest.mark.issue(23, 30)
def test_wording_approved_as_the_role_and_rejected_said_once(service):
    grant(service, "dsl1", "dsl")
    grant(service, "head", "headteacher")
    ref = submit(service)
    approve = last_alert_button(service, "dsl1", "Approve")
    [done] = service.press(ButtonPress("console", "dsl1", approve.action, approve.value)).replies
    assert done.text.startswith("Approved as the Designated Safeguarding Lead."), done.text
    reject = last_alert_button(service, "head", "Reject")
    service.press(ButtonPress("console", "head", reject.action, reject.value, "Not needed"))
    card = [m for m in service.intake.inbox("console", "head") if ref in (m.title or "")][-1]
    assert card.text.count("Rejected") == 1 and "Reason: Not needed" in card.text, card.text
