"""A concern about a colleague (issue 21 point 4): it reaches one role privately, never a
team channel, and never the person it is about, whatever roles they hold, in two schools
whose packs name their roles differently."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlmodel import select

from bot.domain.turns import StaffMessage
from bot.records import subject_access
from bot.storage.tables import Case, CaseTask, Outbox
from bot.web.listing import Filters, cases_for
from tests.helpers import grant, seen, tell

ALLEGATION = "They may have harmed a child, or may be a risk to children"
LOW_LEVEL = "Their conduct falls short of that, or breaks the social media policy"
MARKER = "MARKER-CONCERN-TEXT late messages to a Year 9 pupil"
# Every role that handles or routes cases, per school: the subject holds each in turn.
SCHOOLS = {
    "default": ("dsl", "deputy_dsl", "slt", "headteacher", "chair_of_governors"),
    "dukeries-academy": ("dsl", "deputy_dsl", "slt", "principal", "chair_of_governors"),
}


def report(service, concern: str, subject_role_label: str) -> str:
    return tell(
        service, "alice", "Alice Smith",
        "I'm worried about a colleague", concern, subject_role_label, "Mr Subject", "no",
        "snapchat", MARKER, "yesterday",
    )  # fmt: skip


def everyone(service, school: str, subject_role: str) -> None:
    """One holder per role, the subject holding `subject_role` (and only that)."""
    for role in SCHOOLS[school]:
        grant(service, "subject" if role == subject_role else f"holder-{role}", role)


def everything_seen_by(service, user: str) -> str:
    """All a person could read: their chat messages, `case`, `my cases`, the workspace
    listing, their subject access export."""
    kernel = service.kernel
    with kernel.session() as session:
        rows = session.exec(select(Outbox).where(Outbox.target == user)).all()
        messages = [json.dumps(r.message) for r in rows]
        actor = kernel.actor(session, "console", user)
        export = subject_access.collect(session, "console", user, ("console",), kernel.registry)
    listed = cases_for(kernel, actor, Filters())
    said = [
        seen(m)
        for line in ("case SC-0001", "my cases")
        for m in service.receive(StaffMessage("console", user, line)).replies
    ]
    listing = [c.ref for c in (*listed.own, *listed.team)]
    return "\n".join([*messages, *said, json.dumps(export, default=str), *listing])


@pytest.mark.issue(21, 4)
@pytest.mark.parametrize(
    ("school", "subject_role"),
    [(school, role) for school, roles in SCHOOLS.items() for role in roles],
)
def test_the_person_concerned_never_sees_it_whatever_role_they_hold(
    service_factory, school, subject_role
):
    service = service_factory(school)
    everyone(service, school, subject_role)
    label = service.kernel.pack.role_label(subject_role)
    done = report(service, ALLEGATION, label)
    assert "Your reference is SC-0001" in done
    seen_by_subject = everything_seen_by(service, "subject")
    assert "SC-0001" not in seen_by_subject.replace("I can't find a case SC-0001", "")
    assert MARKER not in seen_by_subject and "Mr Subject" not in seen_by_subject
    with service.kernel.session() as session:
        [case] = session.exec(select(Case)).all()
    owner = case.team.removeprefix("role:")
    assert owner != subject_role
    # ...and it reached the one role it went to, by direct message only.
    with service.kernel.session() as session:
        rows = session.exec(select(Outbox).where(Outbox.case_id == case.id)).all()
    assert rows and all(r.target_kind == "user" for r in rows)
    assert {r.target for r in rows} == {f"holder-{owner}"}
    assert "SC-0001" in everything_seen_by(service, f"holder-{owner}")


@pytest.mark.issue(21, 4)
def test_an_allegation_goes_to_the_headteacher_alone_or_the_chair_when_it_is_about_them(
    service_factory,
):
    service = service_factory("default")
    everyone(service, "default", "nobody")
    assert "privately to the Headteacher only" in report(service, ALLEGATION, "Deputy DSL")
    about_the_head = tell(
        service, "bob", "Bob",
        "I'm worried about a colleague", ALLEGATION, "Headteacher", "The head", "no",
        "facebook", "Photos of pupils on a personal account", "today",
    )  # fmt: skip
    assert "privately to the Chair of governors only" in about_the_head
    with service.kernel.session() as session:
        teams = [c.team for c in session.exec(select(Case).order_by(Case.id))]  # type: ignore[arg-type]
    assert teams == ["role:headteacher", "role:chair_of_governors"]
    assert "Don't" in about_the_head or "don't tell your colleague" in about_the_head


@pytest.mark.issue(21, 4)
def test_an_allegation_gets_a_lado_task_due_within_one_working_day(service_factory, clock):
    clock.current = datetime(2026, 12, 4, 16, 0, tzinfo=UTC)  # a Friday, 16:00 in London
    service = service_factory("default")
    everyone(service, "default", "nobody")
    report(service, ALLEGATION, "None of these")
    with service.kernel.session() as session:
        [task] = session.exec(select(CaseTask)).all()
    assert task.title == "Speak to the LADO (within one working day)"
    # One working day (08:00-17:00) after Friday 16:00 is Monday 16:00.
    assert task.due_at == datetime(2026, 12, 7, 16, 0, tzinfo=UTC)


@pytest.mark.issue(21, 4)
def test_a_low_level_concern_about_the_head_goes_to_the_dsl_and_never_a_channel(
    service_factory,
):
    service = service_factory("default")
    everyone(service, "default", "headteacher")
    done = report(service, LOW_LEVEL, "Headteacher")
    assert "privately to the Designated Safeguarding Lead only" in done
    with service.kernel.session() as session:
        kinds = {r.target_kind for r in session.exec(select(Outbox))}
    assert kinds == {"user"}  # no team (channel) message at all


@pytest.mark.issue(21, 4)
def test_a_self_report_says_delete_it_and_tell_your_line_manager(service_factory):
    service = service_factory("king-jamess-school")
    grant(service, "head", "headteacher")
    done = tell(
        service, "carl", "Carl",
        "I posted something I regret", "It's about something I posted myself", "instagram",
        "A photo from the school trip with pupils' faces", "today", "no",
    )  # fmt: skip
    assert "Please delete the post now" in done
    assert "Tell your line manager" in done and "(Policy 2.8)" in done
    assert "Your reference is SC-0001" in done


@pytest.mark.issue(21, 4)
def test_not_sure_who_they_are_goes_to_the_chair_so_it_cannot_reach_the_head(service_factory):
    service = service_factory("default")
    everyone(service, "default", "nobody")
    done = report(service, ALLEGATION, "I'm not sure")
    assert "privately to the Chair of governors only" in done
    with service.kernel.session() as session:
        [case] = session.exec(select(Case)).all()
    assert case.team == "role:chair_of_governors"


@pytest.mark.issue(21, 4)
def test_danger_now_about_the_dsl_says_go_to_the_head_not_the_dsl(service_factory):
    service = service_factory("default")
    everyone(service, "default", "dsl")
    done = tell(
        service, "alice", "Alice Smith",
        "I'm worried about a colleague", ALLEGATION, "Designated Safeguarding Lead",
        "Mr Subject", "yes",
    )  # fmt: skip
    assert "go to the Headteacher in person" in done
    assert "go to the Designated Safeguarding Lead" not in done
