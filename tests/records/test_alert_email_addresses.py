"""People's email addresses for the escalation ladder (issue 26 point 3): set only by
`schoolbot roles add ... --email`, never kept in the audit trail, shown to the person in
their subject access export, and gone when they leave (with any email still queued)."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime

import pytest
from sqlmodel import select

from bot.records import leavers, subject_access_export
from bot.storage import db
from bot.storage import repository as repo
from bot.storage.tables import AuditEvent, Outbox, RoleAssignment
from tests.helpers import FakeClock, make_service, report_fr, run_cli

ADDRESS = "sam.dsl@school.example"


def database(tmp_path):
    return f"sqlite:///{tmp_path / 'data' / 'schoolbot.db'}"


@pytest.mark.issue(26, 3)
def test_roles_add_sets_the_address_and_refuses_anything_else(tmp_path):
    added = run_cli(tmp_path, "roles", "add", "sam", "dsl", "--email", ADDRESS)
    assert added.returncode == 0, added.stderr
    assert "email address is saved" in added.stdout and ADDRESS not in added.stdout
    again = run_cli(tmp_path, "roles", "add", "sam", "deputy_dsl")
    assert again.returncode == 0, again.stderr
    refused = run_cli(tmp_path, "roles", "add", "kim", "dsl", "--email", "Kim Jones")
    assert refused.returncode != 0 and "doesn't look like an email address" in refused.stderr
    listed = run_cli(tmp_path, "roles", "list")
    assert "email on file" in listed.stdout and ADDRESS not in listed.stdout
    url = database(tmp_path)
    service = make_service(url, "default", FakeClock(datetime.now(UTC)), tmp_path / "ev")
    with service.kernel.session() as session:
        rows = session.exec(select(RoleAssignment)).all()
        # The address is the person's: a role added later carries it too.
        assert {(r.user_id, r.role, r.email) for r in rows} == {
            ("sam", "dsl", ADDRESS),
            ("sam", "deputy_dsl", ADDRESS),
        }
        events = session.exec(select(AuditEvent)).all()
    assert {e.action for e in events} == {"role.added", "role.email_set"}
    assert all(ADDRESS not in json.dumps(e.detail) for e in events)
    service.engine.dispose()


@pytest.mark.issue(26, 3)
def test_the_address_is_in_their_export_and_goes_when_they_leave(sqlite_url, clock, tmp_path):
    db.upgrade(sqlite_url)
    service = make_service(sqlite_url, "default", clock, tmp_path / "ev")
    now = clock()
    with service.kernel.session() as session:
        repo.add_role(session, "console", "sam", "dsl", "test", now=now)
        repo.add_role(session, "console", "kim", "deputy_dsl", "test", now=now)
        session.flush()
        repo.set_email(session, "console", "sam", ADDRESS)
        repo.set_email(session, "console", "kim", "kim@school.example")
        session.commit()
    service.outbox.emails = True
    report_fr(service, concerning="yes")
    clock.advance(minutes=75)
    for _ in range(3):
        clock.advance(minutes=1)
        service.sweep()
    with service.kernel.session() as session:
        queued = {r.target for r in session.exec(select(Outbox).where(Outbox.platform == "email"))}
        assert queued == {"console:sam", "console:kim"}
        data, _ = subject_access_export.export_zip(
            session, service.kernel, "console", "sam", "today"
        )
    files = zipfile.ZipFile(io.BytesIO(data))
    person = json.loads(files.read("person.json"))
    assert [r["email"] for r in person["roles"]] == [ADDRESS]
    assert f"Email address for alerts: {ADDRESS}" in files.read("summary.txt").decode()
    assert "kim@school.example" not in json.dumps(person)  # nobody else's address
    with service.kernel.session() as session:
        plan = leavers.erase_plan(session, "console", "sam")
        assert any("escalation emails not yet sent" in s.words for s in plan)
        leavers.erase_person(session, "console", "sam", clock(), "cli:test")
        session.commit()
    with service.kernel.session() as session:
        assert repo.email_of(session, "console", "sam") is None
        left = {r.target for r in session.exec(select(Outbox).where(Outbox.platform == "email"))}
        assert left == {"console:kim"}
        events = session.exec(select(AuditEvent)).all()
    assert all(ADDRESS not in json.dumps(e.detail) for e in events)
    service.engine.dispose()
