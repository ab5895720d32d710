"""Subject access requests and leavers: `schoolbot records export-person` and
`records erase-person`, on a real database filled through the bot's own conversations
and buttons. Other people carry MARKER names, which must appear in no file of the export."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from sqlmodel import select

from bot.cli import main
from bot.domain.turns import ButtonPress, StaffMessage
from bot.features.cases import cards
from bot.storage.tables import (
    AuditEvent,
    Case,
    DialogState,
    OfficialAccount,
    RoleAssignment,
    WebSignIn,
)
from bot.web.access import WebAccess
from tests.helpers import grant, make_service

SAM = "Sam Taylor"
OTHER = "MARKER-OTHER-NAME"
OTHER_DSL = "MARKER-DSL-NAME"


def _report(service, user: str, name: str, words: str) -> str:
    """A cyberbullying report about a pupil, through the real conversation."""
    lines = [
        "someone is posting nasty things about a pupil",
        "no",  # nobody in danger right now
        "bullying or abuse",
        "instagram",
        "https://instagram.example/p/1",
        "yesterday 8pm",
        words,
        "done",
        "no",
        "no",
    ]
    replies: list[str] = []
    for line in lines:
        replies = [
            m.text for m in service.receive(StaffMessage("console", user, line, name=name)).replies
        ]
    match = re.search(r"CB-\d{4}", " ".join(replies))
    assert match, replies
    return match.group(0)


@pytest.fixture
def school(database_url, clock, tmp_path):
    """Sam (a DSL) reported two cases and acted on a third, reported by someone else.

    Another DSL acknowledged Sam's first case, added a note and closed it with an outcome.
    Sam is also a contact for an official account moderated by someone else, has a
    conversation half-way through, and has asked for a web sign-in link.
    """
    service = make_service(database_url, "default", clock, tmp_path / "evidence")
    service.outbox.web = WebAccess(service.kernel, "http://127.0.0.1")
    grant(service, "sam", "dsl")
    grant(service, "other-dsl", "dsl")
    first = _report(service, "sam", SAM, "SAM-OWN-WORDS first")
    second = _report(service, "sam", SAM, "SAM-OWN-WORDS second")
    third = _report(service, "other1", OTHER, "MARKER-OTHER-WORDS about a pupil")

    def act(*args, **kwargs):
        return service.press(ButtonPress(*args, **kwargs)).replies

    act("console", "other-dsl", cards.CASE_ACK, first, name=OTHER_DSL)
    act("console", "other-dsl", cards.CASE_NOTE, first, "MARKER-OTHER-NOTE", name=OTHER_DSL)
    act("console", "other-dsl", cards.CASE_CLOSE, first, "MARKER-OTHER-OUTCOME", name=OTHER_DSL)
    act("console", "sam", cards.CASE_ACK, third, name=SAM)
    act("console", "sam", cards.CASE_NOTE, third, "SAM-OWN-NOTE on the third", name=SAM)
    service.receive(
        StaffMessage("console", "sam", "someone is posting nasty things about a pupil", name=SAM)
    )
    service.outbox.web.issue_link("console", "sam", SAM, "/web/")
    with service.kernel.session() as session:
        session.add(
            OfficialAccount(
                name="PE department",
                purpose="Fixtures",
                platform="Instagram",
                author="MARKER-AUTHOR-NAME",
                approved_on=service.kernel.now(),
                moderators=[SAM, "MARKER-MODERATOR-NAME"],
                contacts=["console:sam", "console:other1"],
            )
        )
        session.commit()
    return service, database_url, (first, second, third)


def _export(url: str, out: Path, user: str = "sam") -> CliRunner:
    result = CliRunner().invoke(
        main,
        ["records", "export-person", "--platform", "console", "--user", user, "-o", str(out)],
        env={"DATABASE_URL": url},
    )
    assert result.exit_code == 0, result.output
    return result


def test_records_access_export_holds_their_data_and_no_other_persons_name(school, tmp_path):
    service, url, (first, second, third) = school
    out = tmp_path / "sam.zip"
    result = _export(url, out)
    assert "other people's names redacted" in result.output
    with zipfile.ZipFile(out) as archive:
        files = {name: archive.read(name).decode("utf-8") for name in archive.namelist()}
    assert set(files) == {"person.json", "summary.txt", "your-rights.txt"}
    everything = "\n".join(files.values())
    for other in ("MARKER", "other1", "other-dsl"):
        assert other not in everything, other
    data = json.loads(files["person.json"])
    # Their own reports are about a pupil: listed, their content withheld for the DPO.
    reports = {r["reference"]: r for r in data["reports_made"]}
    assert set(reports) == {first, second}
    assert reports[first]["reported_by"] == "you" and "withheld" in reports[first]
    assert "SAM-OWN-WORDS" not in everything
    # The other DSL's actions on Sam's case: what and when, not who or their words.
    about = [e for e in data["audit_entries_about_you"] if e["about"] == first]
    assert {e["action"] for e in about} >= {"case.acknowledged", "case.note", "case.closed"}
    assert all(e["by"] == "[redacted: another person]" for e in about)
    # What Sam did on the third case; the note, on a pupil's record, is withheld.
    mine = [e for e in data["actions_taken"] if e["about"] == third]
    assert {e["action"] for e in mine} == {"case.acknowledged", "case.note"}
    assert "SAM-OWN-NOTE" not in everything
    assert data["roles"] == [
        {
            "role": "dsl",
            "given": data["roles"][0]["given"],
            "given_by": "[redacted: another person]",
            "email": None,
        }
    ]
    assert data["conversation_in_progress"]["dialog"]
    opening = data["conversation_in_progress"]["answers_so_far"]["opening"]
    assert opening.startswith("[held for the DPO's review: R")  # their first message
    [account] = data["accounts_you_are_a_contact_for"]
    assert account["moderators"] == [SAM, "[redacted: another person]"]
    assert account["other_contacts"] == 1
    assert (
        "Reports you made: 2" in files["summary.txt"]
        and f"{first} (Cyberbullying or online abuse), opened 21 November 2026, closed"
        in files["summary.txt"]
    )
    assert (tmp_path / "sam-review-before-release.txt").exists()
    # The export is in the audit trail, with no personal data in the detail.
    with service.kernel.session() as session:
        [logged] = session.exec(
            select(AuditEvent).where(AuditEvent.action == "records.exported")
        ).all()
    assert logged.subject == "console:sam" and set(logged.detail) == {"records"}


def test_records_access_erase_dry_run_then_erase_keeps_safeguarding_records(school, tmp_path):
    service, url, (first, second, _third) = school
    env = {"DATABASE_URL": url}
    args = ["records", "erase-person", "--platform", "console", "--user", "sam"]
    dry = CliRunner().invoke(main, [*args, "--dry-run"], env=env)
    assert dry.exit_code == 0, dry.output
    for words in (
        "This would:",
        "Delete their conversation in progress: 1",
        "Delete their role assignments: 1",
        "Delete their web sign-in links: 1",
        "Stop sending them comment nudges for official accounts: 1",
        "Show them as former member of staff in the account register: 1",
        "Keep their safeguarding reports as they are (retention rules): 2",
        "Nothing has changed yet",
    ):
        assert words in dry.output, words
    with service.kernel.session() as session:
        assert session.get(DialogState, (1, "console", "sam")) is not None
        assert not session.exec(
            select(AuditEvent).where(AuditEvent.action == "records.erased")
        ).all()
    done = CliRunner().invoke(main, args, env=env)
    assert done.exit_code == 0, done.output
    assert "Done:" in done.output
    with service.kernel.session() as session:
        assert session.get(DialogState, (1, "console", "sam")) is None
        assert not session.exec(select(RoleAssignment).where(RoleAssignment.user_id == "sam")).all()
        assert not session.exec(select(WebSignIn).where(WebSignIn.user_id == "sam")).all()
        [account] = session.exec(select(OfficialAccount)).all()
        assert account.contacts == ["console:other1"]
        assert account.moderators == ["former member of staff", "MARKER-MODERATOR-NAME"]
        # Safeguarding cases stay exactly as they were, name included.
        for ref in (first, second):
            case = session.exec(select(Case).where(Case.ref == ref)).one()
            assert case.reporter_name == SAM and case.details
        [erased] = session.exec(
            select(AuditEvent).where(AuditEvent.action == "records.erased")
        ).all()
        assert erased.subject == "console:sam"
        assert SAM not in json.dumps(erased.detail)
        audit_rows = session.execute(sa.select(sa.func.count()).select_from(AuditEvent)).scalar()
    assert audit_rows > 5
    again = CliRunner().invoke(main, [*args, "--dry-run"], env=env)
    assert "Keep their safeguarding reports" in again.output
    assert "Delete their" not in again.output


def test_records_access_erase_renames_them_on_non_safeguarding_reports(school):
    service, url, _ = school
    with service.kernel.session() as session:
        session.add(
            Case(
                ref="AC-0900",
                kind="AC",
                status="closed",
                team="slt",
                platform="console",
                reporter_id="sam",
                reporter_name=SAM,
                created_at=service.kernel.now(),
                updated_at=service.kernel.now(),
            )
        )
        session.commit()
    args = ["records", "erase-person", "--platform", "console", "--user", "sam"]
    result = CliRunner().invoke(main, args, env={"DATABASE_URL": url})
    assert "Show them as former member of staff on non-safeguarding reports: 1" in result.output
    with service.kernel.session() as session:
        case = session.exec(select(Case).where(Case.ref == "AC-0900")).one()
    assert case.reporter_name == "former member of staff"
