"""Account approvals (one role and a chain) and case actions, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from importlib import resources

import pytest
from sqlmodel import select

from bot.domain.policy import parse_pack
from bot.features.accounts import approvals
from bot.features.cases import cards
from bot.storage.tables import ApprovalDecision, AuditEvent, Case, OfficialAccount
from tests.helpers import DEFAULT_REQUEST, grant, make_service, say

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


def two_stage_pack():
    """The default pack with a DSL-then-headteacher chain (AC-APPROVE-CHAIN)."""
    text = (resources.files("bot.policies") / "default.toml").read_text()
    text = text.replace('stages = ["headteacher"]', 'stages = ["dsl", "headteacher"]')
    text = text.replace('AC-APPROVE-ONE = "6.2"', 'AC-APPROVE-CHAIN = "6.2"')
    return parse_pack(text, "two-stage")


@pytest.fixture
def service(database_url, clock, tmp_path):
    return make_service(database_url, two_stage_pack(), clock, tmp_path / "evidence")


def submit(service, user="req") -> str:
    reply = say(service, user, *DEFAULT_REQUEST)[0]
    assert "AC-0001" in reply, reply
    return "AC-0001"


def button(service, user, action_label):
    alerts = [m for m in service.inbox("console", user) if m.buttons]
    assert alerts, f"{user} has no alert with buttons"
    return next(b for b in alerts[-1].buttons if b.label == action_label)


def test_two_stage_chain_approves_and_registers(service):
    grant(service, "dsl1", "dsl")
    grant(service, "head", "headteacher")
    grant(service, "nobody_special", "moderator")
    ref = submit(service)

    approve = button(service, "dsl1", "Approve")
    assert approve.value == f"{ref}:0"
    # The headteacher cannot jump the queue: stage 1 belongs to the DSL.
    [refusal] = service.handle_action("console", "head", approvals.APPROVE, approve.value)
    assert "Only the Designated Safeguarding Lead" in refusal.text
    [refusal] = service.handle_action("console", "nobody_special", approvals.APPROVE, approve.value)
    assert "Nothing has changed" in refusal.text

    [ok] = service.handle_action("console", "dsl1", approvals.APPROVE, approve.value, name="Dee")
    assert "now goes to the Headteacher" in ok.text
    # A double click on the same (now stale) button decides nothing more.
    [again] = service.handle_action("console", "dsl1", approvals.APPROVE, approve.value)
    assert "already been decided" in again.text

    updated = [m for m in service.inbox("console", "head") if m.buttons][-1]
    assert "Approved by Dee (Designated Safeguarding Lead)" in updated.text
    assert "stage 2 of 2" in updated.text
    final = next(b for b in updated.buttons if b.label == "Approve")
    [done] = service.handle_action("console", "head", approvals.APPROVE, final.value, name="Head")
    assert "approved" in done.text

    with service.session() as session:
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
    [notice] = [m for m in service.inbox("console", "req") if "Good news" in m.text]
    assert ref in notice.text


def test_rejection_needs_a_reason_and_tells_the_requester(service):
    grant(service, "dsl1", "dsl")
    ref = submit(service)
    reject = button(service, "dsl1", "Reject")
    assert reject.asks_for
    [ask] = service.handle_action("console", "dsl1", approvals.REJECT, reject.value, "  ")
    assert "give a reason" in ask.text
    service.handle_action("console", "dsl1", approvals.REJECT, reject.value, "Pupils under 13")
    with service.session() as session:
        case = session.exec(select(Case)).one()
    assert case.status == "closed" and case.outcome == "rejected: Pupils under 13"
    [notice] = [m for m in service.inbox("console", "req") if ref in m.text]
    assert "Reason: Pupils under 13" in notice.text


def test_two_approvers_clicking_at_once_give_one_outcome(service):
    grant(service, "dsl1", "dsl")
    grant(service, "dsl2", "dsl")
    submit(service)
    value = button(service, "dsl1", "Approve").value
    barrier = threading.Barrier(2)
    results: dict[str, str] = {}

    def click(user: str, approve: bool) -> None:
        barrier.wait()
        action = approvals.APPROVE if approve else approvals.REJECT
        [reply] = service.handle_action("console", user, action, value, "No", name=user)
        results[user] = reply.text

    threads = [
        threading.Thread(target=click, args=("dsl1", True)),
        threading.Thread(target=click, args=("dsl2", False)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with service.session() as session:
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
    value = button(service, "it", "Approve").value
    [refused] = service.handle_action("console", "teacher", approvals.APPROVE, value)
    assert "Only the Director of IT" in refused.text
    [done] = service.handle_action("console", "it", approvals.APPROVE, value)
    assert "approved" in done.text


def test_fewer_than_two_named_staff_is_refused(service_factory):
    service = service_factory("king-jamess-school")
    say(service, "r", *KJS_REQUEST[:6])
    [reply] = service.handle_message("console", "r", "Sam Lee")
    assert "at least 2 named people. (Policy 2.2)" in reply.text
    assert "You gave 1: Sam Lee" in reply.text


# --- case actions ------------------------------------------------------------------------


def open_fr_case(service, reporter="alice"):
    say(service, reporter, "friend request", "1", "no", "instagram", "no", "no")


def test_case_actions_are_role_checked_idempotent_and_audited(service):
    grant(service, "dsl1", "dsl")
    grant(service, "slt1", "slt")
    open_fr_case(service)
    ack = button(service, "dsl1", "Acknowledge")
    [refused] = service.handle_action("console", "slt1", cards.CASE_ACK, ack.value)
    assert "Only the safeguarding (DSL) team" in refused.text
    [refused] = service.handle_action("console", "alice", cards.CASE_ACK, ack.value)
    assert "Nothing has changed" in refused.text

    service.handle_action("console", "dsl1", cards.CASE_ACK, ack.value, name="Dee")
    [twice] = service.handle_action("console", "dsl1", cards.CASE_ACK, ack.value)
    assert "already acknowledged" in twice.text
    [picked] = service.inbox("console", "alice")
    assert "picked up by Dee" in picked.text

    service.handle_action("console", "dsl1", cards.CASE_NOTE, ack.value, "Spoke to the pupil")
    [need] = service.handle_action("console", "dsl1", cards.CASE_CLOSE, ack.value, "")
    assert "outcome" in need.text
    service.handle_action("console", "dsl1", cards.CASE_CLOSE, ack.value, "Advice given")
    [closed] = service.inbox("console", "alice")
    assert "is now closed" in closed.text and "Advice given" not in closed.text

    alerts = service.inbox("console", "dsl1")
    final = alerts[-1]
    assert final.buttons == () and "Closed by" in final.text
    assert "Spoke to the pupil" not in final.text  # notes stay out of the channel
    with service.session() as session:
        actions = [e.action for e in session.exec(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions == ["case.opened", "case.acknowledged", "case.note", "case.closed"]


def test_staff_see_only_their_own_cases(service):
    grant(service, "dsl1", "dsl")
    open_fr_case(service, "alice")
    [mine] = service.handle_message("console", "alice", "case FR-0001")
    assert "FR-0001" in mine.text and "Who sent the request?" not in mine.text
    [other] = service.handle_message("console", "bob", "case FR-0001")
    assert "can't find a case FR-0001" in other.text
    [team] = service.handle_message("console", "dsl1", "case FR-0001")
    assert "Who sent the request? A pupil" in team.text
    [own_list] = service.handle_message("console", "bob", "my cases")
    assert "haven't reported anything" in own_list.text


def test_audit_trail_is_append_only(service):
    open_fr_case(service)
    import sqlalchemy as sa

    with service.session() as session, pytest.raises(sa.exc.DatabaseError):
        session.execute(sa.text("UPDATE audit_event SET actor = 'forged'"))
        session.commit()
    with service.session() as session, pytest.raises(sa.exc.DatabaseError):
        session.execute(sa.text("DELETE FROM audit_event"))
        session.commit()
