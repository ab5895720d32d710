"""Issue 24.1: retention classes belong to the record, not its reference prefix. Each
report is kept under the class of what it found; the DSL reclassifies with a reason in
the case's history; a child's date of birth, where known, starts the 25 years; the pack
cannot go below a floor; and a shorter period reaches existing records only through an
explicit, audited command."""

from __future__ import annotations

from datetime import date
from importlib import resources

import pytest
from click.testing import CliRunner
from sqlmodel import select

from bot.cli.main import main
from bot.domain import retention as rules
from bot.domain import retention_classes as classes
from bot.domain.policy import PolicyError, load_pack, parse_pack
from bot.domain.turns import ButtonPress, StaffMessage
from bot.features.cases import cards
from bot.features.comments.queries import close_comment
from bot.records.retention import Due, RetentionSweep
from bot.storage import repository as repo
from bot.storage.tables import AuditEvent
from tests.helpers import ROOT, add_account, grant, log_comment, make_service, run_cli, say, tell

DEFAULT = (resources.files("bot.policies") / "default.toml").read_text(encoding="utf-8")
# Accepted, something worries them: what (in their words), no danger today, no screenshots.
WORRY = ["yes", "They say they are unhappy at home", "no", "done"]
PUPIL_WORRYING = ["friend request", "1", "no", "instagram", "yes", *WORRY]
PUPIL_ROUTINE = ["friend request", "1", "no", "instagram", "no", "no"]
FORMER_PUPIL_WITH_DOB = [
    "friend request", "former pupil", "04/09/2009", "no", "instagram", "yes", *WORRY,
]  # fmt: skip
FAKE_ACCOUNT_MESSAGING_PUPILS = [
    "someone has made a fake account", "Me", "Instagram", "@fake_me",
    "It messages pupils asking to meet", "done", "yes", "yes", "no",
]  # fmt: skip
FAKE_ACCOUNT_ASKING_PARENTS_FOR_MONEY = [
    "someone has made a fake account", "Me", "Instagram", "@fake_me_too",
    "It asks parents for money", "done", "yes", "no", "no",
]  # fmt: skip
STAFF_ABUSE = ["report abuse", "me", "facebook", "no link", "yesterday", "insults", "done"]
STAFF_ABUSE += ["no", "no", "no"]
ALLEGATION = "They may have harmed a child, or may be a risk to children"
LOW_LEVEL = "Their conduct falls short of that, or breaks the social media policy"


def concern(service, which: str) -> str:
    return tell(
        service, "alice", "Alice Smith", "I'm worried about a colleague", which, "Headteacher",
        "Mr Subject", "no", "snapchat", "what they posted", "yesterday",
    )  # fmt: skip


@pytest.fixture
def service(sqlite_url, clock, tmp_path):
    s = make_service(sqlite_url, "default", clock, tmp_path / "evidence")
    for user, role in (("dsl1", "dsl"), ("slt1", "slt"), ("head1", "chair_of_governors")):
        grant(s, user, role)
    return s


def close_all(service) -> None:
    """Every open case closed by its owners, today (Sat 21 Nov 2026)."""
    with service.kernel.session() as session:
        cases = repo.recent_cases(session)
        owners = {c.ref: c.team for c in cases}
    who = {"dsl": "dsl1", "slt": "slt1", "role:chair_of_governors": "head1", "role:dsl": "dsl1"}
    for ref, team in owners.items():
        service.press(ButtonPress("console", who[team], cards.CASE_CLOSE, ref, text="done"))


def schedule(service) -> dict[str, Due]:
    """Every closed record and when it falls due, as the sweep sees it."""
    return {d.record: d for d in RetentionSweep(service.kernel).due(within_days=40 * 365)}


@pytest.mark.issue(24, 1)
def test_retention_classes_belong_to_the_record_not_its_reference_prefix(service, clock):
    say(service, "t1", *PUPIL_WORRYING)  # FR-0001: accepted, worrying: about a child
    say(service, "t2", *PUPIL_ROUTINE)  # FR-0002: nothing worrying
    say(service, "t3", *FORMER_PUPIL_WITH_DOB)  # FR-0003: born 4 Sep 2009
    say(service, "t4", *FAKE_ACCOUNT_MESSAGING_PUPILS)  # IM-0001: to the DSL
    say(service, "t6", *FAKE_ACCOUNT_ASKING_PARENTS_FOR_MONEY)  # IM-0002: to SLT
    say(service, "t5", *STAFF_ABUSE)  # CB-0001: abuse aimed at the reporter
    concern(service, ALLEGATION)  # SC-0001 (about the Headteacher: to the chair)
    concern(service, LOW_LEVEL)  # SC-0002
    add_account(service)
    complaint = log_comment(service, complaint=True)
    plain = log_comment(service, text="Great match!")
    close_all(service)
    with service.kernel.session() as session:
        for comment in (complaint, plain):
            close_comment(session, comment.id, "replied", service.kernel.now(), "Sam")
        session.commit()

    due = schedule(service)
    got = {ref: (d.rule, d.due_on, d.review) for ref, d in due.items()}
    assert got["FR-0001"] == (classes.CHILD, date(2051, 11, 21), True)
    assert got["FR-0002"] == (classes.FRIEND_REQUEST, date(2032, 11, 21), False)
    # The child's date of birth is known: 25 years from it, disposed of after notice.
    assert got["FR-0003"] == (classes.CHILD, date(2034, 9, 4), False)
    assert got["IM-0001"][0] == classes.CHILD and due["IM-0001"].owner == "dsl"
    # Same prefix, different record: one contacting only adults is not about a child.
    assert got["IM-0002"][0] == classes.STAFF_ABUSE and due["IM-0002"].owner == "slt"
    assert got["CB-0001"] == (classes.STAFF_ABUSE, date(2032, 11, 21), False)
    # KCSIE Part 4: 10 years from the allegation, then a person decides (pension age).
    assert got["SC-0001"] == (classes.ALLEGATION, date(2036, 11, 21), True)
    assert got["SC-0002"] == (classes.LOW_LEVEL, date(2032, 11, 21), True)
    # IRMS: complaints are kept 6 years after resolution (not 1), then reviewed.
    assert got[complaint.ref] == (classes.COMPLAINT, date(2032, 11, 21), True)
    assert got[plain.ref] == (classes.COMMENT, date(2027, 11, 21), False)

    # No "(SLT)" on rules that cover DSL cases; the DSL's case view says how it is kept.
    words = [r.words for r in rules.rules(service.kernel.pack)]
    assert not [w for w in words if "(SLT)" in w or "(DSL)" in w]
    [view] = service.receive(StaffMessage("console", "dsl1", "case FR-0001")).replies
    assert "Kept as: safeguarding records about a child." in view.text


@pytest.mark.issue(24, 1)
def test_a_dsl_reclassifies_a_case_with_a_reason_in_its_chronology(service, clock):
    say(service, "t2", *PUPIL_ROUTINE)
    close_all(service)
    assert schedule(service)["FR-0001"].rule == classes.FRIEND_REQUEST

    refused = say(service, "slt1", "reclassify FR-0001 child because I think so")[0]
    assert "can't find a record FR-0001" in refused  # SLT don't own a DSL case
    assert "Nothing has changed" in say(service, "dsl1", "reclassify FR-0001 child")[0]
    unknown = say(service, "dsl1", "reclassify FR-0001 purple because of the messages")[0]
    assert "'purple' is not a retention class" in unknown
    assert schedule(service)["FR-0001"].rule == classes.FRIEND_REQUEST  # nothing changed

    said = say(
        service, "dsl1", "reclassify FR-0001 child because the pupil later sent worrying messages"
    )[0]
    assert said.startswith("FR-0001 is now kept as: Safeguarding records about a child: 25 years")
    item = schedule(service)["FR-0001"]
    assert (item.rule, item.due_on, item.review) == (classes.CHILD, date(2051, 11, 21), True)
    [view] = service.receive(StaffMessage("console", "dsl1", "case FR-0001")).replies
    assert f"{classes.FRIEND_REQUEST} to {classes.CHILD}" in view.text
    assert "Reason: the pupil later sent worrying messages" in view.text
    with service.kernel.session() as session:
        [event] = [e for e in repo.timeline(session, "FR-0001") if e.action.startswith("reten")]
    assert event.actor == "console:dsl1" and event.detail["to"] == classes.CHILD

    # An allegation found malicious is removed 30 days after closure (KCSIE Part 4).
    concern(service, ALLEGATION)
    close_all(service)
    said = say(service, "head1", "reclassify SC-0001 malicious because found malicious")[0]
    assert "Allegations against staff found to be malicious: 30 days" in said
    assert schedule(service)["SC-0001"].due_on == date(2026, 12, 21)


@pytest.mark.issue(24, 1)
def test_policy_check_refuses_a_period_below_its_floor_naming_floor_and_source(tmp_path):
    short = DEFAULT.replace("safeguarding_years = 25", "safeguarding_years = 1").replace(
        "allegation_years = 10", "allegation_years = 5"
    )
    (tmp_path / "short.toml").write_text(short, encoding="utf-8")
    done = run_cli(tmp_path, "policy", "check", str(tmp_path / "short.toml"))
    assert done.returncode == 1 and "OK" not in done.stdout
    assert "safeguarding_years = 1 is below the floor of 25 years" in done.stderr
    assert "IRMS Information Management Toolkit for Schools" in done.stderr
    assert "allegation_years = 5 is below the floor of 10 years" in done.stderr
    assert "KCSIE Part 4" in done.stderr
    with pytest.raises(PolicyError, match="complaint_years = 1 is below the floor of 6 years"):
        parse_pack(DEFAULT.replace("complaint_years = 6", "complaint_years = 1"))
    # A pack written before the classes ("staff_case_years") still loads.
    legacy = DEFAULT.replace("staff_abuse_years = 6", "staff_case_years = 7").replace(
        "friend_request_years = 6\n", ""
    )
    r = parse_pack(legacy).records.retention
    assert (r.staff_abuse_years, r.friend_request_years) == (7, 7)


@pytest.mark.issue(24, 1)
def test_a_shorter_period_reaches_existing_records_only_through_the_audited_command(
    database_url, clock, tmp_path, monkeypatch
):
    long = make_service(database_url, "default", clock, tmp_path / "evidence")
    grant(long, "dsl1", "dsl")
    say(long, "t2", *PUPIL_ROUTINE)
    close_all(long)
    RetentionSweep(long.kernel).sweep()  # records the periods in force
    assert schedule(long)["FR-0001"].due_on == date(2032, 11, 21)

    shorter = DEFAULT.replace("friend_request_years = 6", "friend_request_years = 2")
    (tmp_path / "short.toml").write_text(shorter, encoding="utf-8")
    short = make_service(database_url, parse_pack(shorter), clock, tmp_path / "evidence")
    RetentionSweep(short.kernel).sweep()
    assert schedule(short)["FR-0001"].due_on == date(2032, 11, 21)  # still the longer

    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SCHOOLBOT_POLICY", str(tmp_path / "short.toml"))
    monkeypatch.setenv("SCHOOLBOT_DATA_DIR", str(tmp_path / "data"))
    runner = CliRunner()
    done = runner.invoke(main, ["records", "apply-schedule"], input="n\n")
    assert "6 years -> 2 years" in done.output and "Nothing has changed." in done.output
    assert schedule(short)["FR-0001"].due_on == date(2032, 11, 21)
    done = runner.invoke(main, ["records", "apply-schedule", "--yes"])
    assert done.exit_code == 0, done.output
    assert schedule(short)["FR-0001"].due_on == date(2028, 11, 21)
    with short.kernel.session() as session:
        applied = session.exec(
            select(AuditEvent).where(AuditEvent.subject == rules.SCHEDULE_SUBJECT)
        ).all()
    assert [e.detail["how"] for e in applied] == ["first recorded", "applied by command"]
    assert applied[-1].detail["shortened"] == [classes.FRIEND_REQUEST]
    assert applied[-1].actor.startswith("cli:")


def test_the_default_pack_loads_with_every_class_at_or_above_its_floor():
    r = load_pack("default").records.retention
    for cls in classes.CLASSES:
        assert getattr(r, cls.setting) >= cls.floor, cls.key


@pytest.mark.issue(24, 1)
def test_the_records_page_lists_the_floors_the_code_enforces():
    page = (ROOT / "docs" / "records.md").read_text(encoding="utf-8")
    assert "\n".join(rules.floors_table()) in page, "docs/records.md floors table is stale"


@pytest.mark.issue(24, 1)
def test_the_command_line_reclassifies_with_a_reason_and_the_childs_date_of_birth(
    sqlite_url, service, clock, tmp_path, monkeypatch
):
    say(service, "t2", *PUPIL_ROUTINE)
    concern(service, ALLEGATION)
    close_all(service)
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv("SCHOOLBOT_DATA_DIR", str(tmp_path / "data"))
    runner = CliRunner()
    done = runner.invoke(
        main,
        ["records", "reclassify", "FR-0001", "child", "--reason", "worrying messages came later",
         "--child-born", "2010-01-05"],
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "FR-0001 is now kept as: Safeguarding records about a child" in done.output
    item = schedule(service)["FR-0001"]
    assert (item.rule, item.due_on, item.review) == (classes.CHILD, date(2035, 1, 5), False)
    with service.kernel.session() as session:
        [event] = [e for e in repo.timeline(session, "FR-0001") if e.action.startswith("reten")]
    assert (
        event.actor.startswith("cli:") and event.detail["reason"] == "worrying messages came later"
    )
    refused = runner.invoke(main, ["records", "reclassify", "FR-0001", "purple", "--reason", "x"])
    assert refused.exit_code == 1 and "'purple' is not a retention class" in refused.output
    # Found malicious: removed 30 days after closure, and on the review list before that.
    runner.invoke(main, ["records", "reclassify", "SC-0001", "malicious", "--reason", "found so"])
    listed = runner.invoke(main, ["records", "review"]).output
    assert (
        "SC-0001 Concern about a member of staff (allegations against staff found to be" in listed
    )
