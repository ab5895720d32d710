"""The three conversations end to end through BotService on a real SQLite database."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.dispatch.service import DB_DOWN
from bot.domain.evidence import EvidenceRefused
from bot.domain.turns import StaffMessage
from bot.storage import repository as repo
from bot.storage.tables import Case, CaseTask, DialogState, Evidence
from tests.helpers import CB_ABOUT_ME, CB_AFTER_EVIDENCE, FR_ANSWERS, grant, make_service, say


def current_step(service, user: str) -> str | None:
    with service.kernel.session() as session:
        row = repo.get_dialog(session, "console", user)
        return row.state["step"] if row else None


def answers(service, user: str) -> dict:
    with service.kernel.session() as session:
        row = session.get(DialogState, (1, "console", user))
        return dict(row.state["answers"]) if row else {}


def cases(service) -> list[Case]:
    with service.kernel.session() as session:
        return list(session.exec(select(Case)))


def test_friend_request_from_pupil_opens_dsl_case_and_alert(service_factory):
    service = service_factory("dukeries-academy")
    grant(service, "dsl1", "dsl")
    reply = say(service, "alice", *FR_ANSWERS)[0]
    assert "decline the request, and don't reply" in reply
    assert "(Policy 5.4)" in reply
    assert "FR-0001" in reply
    [case] = cases(service)
    assert (case.ref, case.team, case.status, case.urgent) == ("FR-0001", "dsl", "new", False)
    alerts = service.intake.inbox("console", "dsl1")
    assert [a.title for a in alerts] == ["Friend or follow request FR-0001"]
    assert {b.label for b in alerts[0].buttons} == {
        "Acknowledge",
        "Assign to me",
        "Add note",
        "Close with outcome",
    }
    # Dukeries alerts are "minimal": no answers at all in the channel (X-CONFIDENTIAL).
    assert [label for label, _ in alerts[0].fields] == ["Status"]
    assert current_step(service, "alice") is None
    # Staff without a team role never see the channel alert.
    assert service.intake.inbox("console", "alice") == []


def test_family_request_gives_advice_and_sends_nothing(service_factory):
    service = service_factory("king-jamess-school")
    grant(service, "dsl1", "dsl")
    reply = say(
        service,
        "bob",
        "a pupil sent me a friend request",
        "current pupil",
        "yes",
        "facebook",
        "no",
        "no",
    )[0]
    assert "Family members are an exception" in reply
    assert "Director of IT" in reply
    assert "nothing has been sent" in reply
    assert cases(service) == []
    assert service.intake.inbox("console", "dsl1") == []


def test_concerning_request_is_urgent(service_factory):
    service = service_factory("harmonize-academy")
    grant(service, "dsl1", "dsl")
    say(service, "c", "friend request", "parent", "no", "tiktok", "no", "yes")
    say(service, "c", "she says she is scared to go home", "no", "done")
    [case] = cases(service)
    assert case.urgent and case.team == "dsl"
    [alert] = service.intake.inbox("console", "dsl1")
    assert alert.urgent and alert.title.startswith("URGENT")


def test_cyberbullying_with_two_files_routes_to_slt_with_tasks(service_factory, clock):
    service = service_factory("harmonize-academy")
    grant(service, "slt1", "slt")
    say(service, "dan", *CB_ABOUT_ME)
    first = service.kernel.store_evidence("shot1.png", "image/png", b"\x89PNG\r\n\x1a\n one")
    second = service.kernel.store_evidence("shot2.jpg", "image/jpeg", b"\xff\xd8\xff two")
    service.receive(StaffMessage("console", "dan", "", files=[first]))
    service.receive(StaffMessage("console", "dan", "", files=[second]))
    reply = say(service, "dan", *CB_AFTER_EVIDENCE)[0]
    assert "CB-0001" in reply and "(Policy 8)" in reply
    [case] = cases(service)
    assert case.team == "slt" and case.urgent  # threatening is urgent
    assert "police" in case.flags
    with service.kernel.session() as session:
        files = session.exec(select(Evidence)).all()
        tasks = {t.clause: t for t in session.exec(select(CaseTask))}
    assert {(f.filename, f.size, f.content_type, f.uploaded_by) for f in files} == {
        ("shot1.png", 12, "image/png", "console:dan"),
        ("shot2.jpg", 7, "image/jpeg", "console:dan"),
    }
    assert all(len(f.sha256) == 64 for f in files)
    assert service.kernel.evidence.path_for(first.sha256).read_bytes().endswith(b" one")
    assert tasks["CB-REMOVAL-24H"].due_at == clock() + timedelta(hours=24)
    assert set(tasks) == {"CB-REMOVAL-24H", "CB-SUPPORT", "CB-POLICE"}
    [alert] = service.intake.inbox("console", "slt1")
    shown = dict(alert.fields)
    assert shown["Evidence files"] == "2"
    assert "What happened" not in shown  # free text stays out of a "standard" alert


def test_pupil_target_goes_to_dsl_as_urgent_and_skips_safeguarding_question(service_factory):
    service = service_factory("default")
    say(
        service,
        "e",
        "I want to report cyberbullying",
        "a pupil",
        "no",
        "bullying or abuse",
        "snapchat",
        "no link",
        "today",
        "Group chat mocking a Year 9 pupil",
        "done",
        "no",
    )
    assert current_step(service, "e") == "pupil_author"
    say(service, "e", "yes")
    [case] = cases(service)
    assert case.team == "dsl" and case.urgent and "behaviour_policy" in case.flags


def test_html_login_page_is_refused_and_conversation_goes_on(service_factory):
    service = service_factory()
    say(service, "f", "report abuse", "me", "facebook", "no link", "today", "abuse")
    with pytest.raises(EvidenceRefused, match="sign-in page"):
        service.kernel.store_evidence(
            "photo.png", "text/html", b"<!DOCTYPE html><html>Sign in</html>"
        )
    with pytest.raises(EvidenceRefused, match="limit"):
        service.kernel.store_evidence(
            "huge.png", "image/png", b"x" * (service.kernel.max_evidence_bytes + 1)
        )
    with pytest.raises(EvidenceRefused, match="aren't accepted"):
        service.kernel.store_evidence("run.exe", "application/x-msdownload", b"MZ")
    assert current_step(service, "f") == "evidence"


@pytest.mark.parametrize(
    "text,dialog",
    [
        ("a pupil sent me a friend request", "friend_request"),
        ("someone keeps posting about me online", "cyberbullying"),
        ("I want to set up a Twitter account for PE", "account_request"),
    ],
)
def test_free_text_starts_the_right_conversation(service_factory, text, dialog):
    service = service_factory()
    service.receive(StaffMessage("console", "u", text))
    with service.kernel.session() as session:
        assert repo.get_dialog(session, "console", "u").dialog == dialog


def test_unrecognised_text_gets_the_menu(service_factory):
    service = service_factory()
    [reply] = service.receive(StaffMessage("console", "u", "hello there")).replies
    shown = [c.value for c in reply.choices]
    assert shown == [*service.kernel.registry.conversations, "my_cases"]  # every one, in order
    assert shown[:5] == [
        "friend_request", "cyberbullying", "impersonation", "account_request", "comment",
    ]  # fmt: skip
    assert current_step(service, "u") is None


# --- cancel, back and help at every step -----------------------------------------------

FR_STEPS = ["sender", "family", "platform", "accepted", "concerning"]


@pytest.mark.parametrize("depth", range(len(FR_STEPS)))
def test_back_cancel_and_help_work_at_every_step(service_factory, depth):
    service = service_factory()
    say(service, "g", *FR_ANSWERS[: depth + 1])
    assert current_step(service, "g") == FR_STEPS[depth]
    before = answers(service, "g")

    [help_reply] = service.receive(StaffMessage("console", "g", "help")).replies
    assert "cancel" in help_reply.text and current_step(service, "g") == FR_STEPS[depth]
    assert answers(service, "g") == before

    service.receive(StaffMessage("console", "g", "back"))
    expected = FR_STEPS[max(depth - 1, 0)]
    assert current_step(service, "g") == expected

    [cancel] = service.receive(StaffMessage("console", "g", "cancel")).replies
    assert "Nothing was sent" in cancel.text
    assert current_step(service, "g") is None and cases(service) == []


def test_back_then_changed_answer_drops_answers_that_no_longer_apply(service_factory):
    service = service_factory("king-jamess-school")
    say(service, "h", "friend request", "former pupil", "July 2025", "17")
    assert current_step(service, "h") == "family"
    say(service, "h", "back", "back", "back", "current pupil", "no", "facebook", "no", "no")
    assert cases(service) == []  # KJS doesn't tell the DSL about routine requests
    with service.kernel.session() as session:
        advice = repo.timeline(session, "console:h")
    assert advice[-1].detail["clauses"][0] == "FR-DECLINE"


def test_conversation_survives_a_restart(service_factory):
    first = service_factory("dukeries-academy")
    say(first, "i", *FR_ANSWERS[:3])
    first.engine.dispose()
    second = service_factory("dukeries-academy")  # a new process on the same database
    [welcome] = second.greet("console", "i")
    assert "Welcome back" in welcome.text and "Which app" in welcome.text
    reply = say(second, "i", *FR_ANSWERS[3:])[0]
    assert "FR-0001" in reply


# --- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad,expected",
    [
        ("x" * 100_000, "too long"),
        ("", "yes or no"),
        ("banana", "yes or no"),
    ],
)
def test_bad_answers_keep_the_conversation_where_it_was(service_factory, bad, expected):
    service = service_factory()
    say(service, "j", "friend request", "1")
    before = answers(service, "j")
    [reply] = service.receive(StaffMessage("console", "j", bad)).replies
    assert expected in reply.text
    assert "member of your family" in reply.text  # the same question again
    assert answers(service, "j") == before


@pytest.mark.parametrize(
    "bad,expected",
    [
        ("31/02", "There's no 31 February"),
        ("25/12/2026", "in the future"),
        ("whenever", "couldn't read that date"),
    ],
)
def test_impossible_and_future_posting_dates(service_factory, bad, expected):
    service = service_factory()
    say(service, "k", "report abuse", "me", "facebook", "no link")
    [reply] = service.receive(StaffMessage("console", "k", bad)).replies
    assert expected in reply.text and current_step(service, "k") == "posted_at"
    assert answers(service, "k")["platform"] == "facebook"


def test_a_url_that_is_not_one(service_factory):
    service = service_factory()
    say(service, "l", "report abuse", "me", "facebook")
    [reply] = service.receive(StaffMessage("console", "l", "my facebook wall")).replies
    assert "doesn't look like a web address" in reply.text
    assert current_step(service, "l") == "url"


def test_locked_database_is_reported_and_nothing_is_lost(service_factory, sqlite_url):
    service = service_factory()
    from bot.storage import db

    service.engine = db.make_engine(sqlite_url, lock_timeout=0.2)
    say(service, "m", "friend request", "1")
    path = sqlite_url.removeprefix("sqlite:///")
    blocker = sqlite3.connect(path)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        [reply] = service.receive(StaffMessage("console", "m", "no")).replies
        assert reply.text == DB_DOWN
    finally:
        blocker.rollback()
        blocker.close()
    assert current_step(service, "m") == "family"
    say(service, "m", "no")
    assert current_step(service, "m") == "platform"


def test_unreachable_database_gets_a_clear_message(clock, tmp_path):
    service = make_service(
        "postgresql+psycopg://postgres@127.0.0.1:1/none", "default", clock, tmp_path
    )
    [reply] = service.receive(StaffMessage("console", "n", "friend request")).replies
    assert reply.text == DB_DOWN


def test_a_fake_account_of_the_school_is_reported_to_slt_with_cited_guidance(service_factory):
    service = service_factory()  # the default pack cites CB-BLOCK 5.8 and MO-REGULAR 7.1
    grant(service, "head", "headteacher")
    first = say(service, "alice", "someone has made a fake account pretending to be the school")
    assert "pretending to be" in first[-1]
    reply = say(
        service, "alice", "The school", "Instagram", "@our_school_fake",
        "It posts our logo and asks parents for bank details", "done", "yes",
        "No, only adults", "no",
    )[0]  # fmt: skip
    assert "report it to Instagram as an impersonation account" in reply
    assert "(Policy 5.8)" in reply and "(Policy 7.1)" in reply
    assert "Your reference is IM-0001" in reply
    [case] = cases(service)
    assert (case.kind, case.team, case.urgent) == ("IM", "slt", True)
    alerts = service.intake.inbox("console", "head")
    assert [a.title for a in alerts] == ["URGENT: Fake or impersonation account IM-0001"]
    assert [label for label, _ in alerts[0].fields] == [
        "Pretending to be", "Platform", "Contacting pupils or parents", "Evidence files",
        "Status", "Flags",
    ]  # fmt: skip
    # The reporter's own view reads as words, not keys.
    [mine] = say(service, "alice", "my cases")[:1]
    assert "IM-0001 Fake or impersonation account: New" in mine
