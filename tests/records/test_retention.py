"""Retention that runs: each rule disposes exactly on its day, never a held case;
evidence files leave the disk; what is left is a tombstone; the audit trail allows only
the disposal redaction. Clock injected (FakeClock); the PostgreSQL two-instance sweep is
in tests/system/test_retention_multi_instance.py."""

from __future__ import annotations

import csv
import re
from datetime import UTC, datetime, timedelta
from importlib import resources

import pytest
import sqlalchemy as sa
from sqlmodel import select

from bot.domain import retention as rules
from bot.domain import retention_classes as classes
from bot.domain.policy import PolicyError, bundled_pack_names, load_pack, parse_pack
from bot.domain.turns import ButtonPress, StaffMessage
from bot.features.cases import cards
from bot.records.legal_hold import HoldRefused, place_hold, release_hold
from bot.records.retention import RetentionSweep
from bot.storage import db
from bot.storage import repository as repo
from bot.storage.tables import AuditEvent, Case, Comment, DialogState, Disposal, OfficialAccount
from tests.fakes.workspace_harness import open_case
from tests.helpers import ROOT, SCHOOLBOT, FakeClock, env_for, grant, make_service, say

CB_STAFF = ["report abuse", "me", "facebook", "no link", "yesterday", "MARKER-STAFF insults"]
FR = ["friend request", "1", "no", "instagram", "no", "no"]


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)  # GMT in winter: local == UTC


@pytest.fixture
def service(sqlite_url, clock, tmp_path):
    s = make_service(sqlite_url, "default", clock, tmp_path / "evidence")
    grant(s, "dsl1", "dsl")
    grant(s, "slt1", "slt")
    return s


def close(service, ref: str, who: str = "dsl1", outcome: str = "MARKER-OUTCOME spoke to them"):
    service.press(ButtonPress("console", who, cards.CASE_CLOSE, ref, text=outcome, name=who))
    with service.kernel.session() as session:
        case = repo.case_by_ref(session, ref)
        assert case is not None and case.closed_at is not None
        return case


def disposed(service) -> dict[str, Disposal]:
    with service.kernel.session() as session:
        return {d.record: d for d in session.exec(select(Disposal))}


def case_row(service, ref: str) -> Case:
    with service.kernel.session() as session:
        case = repo.case_by_ref(session, ref)
        assert case is not None
        return case


def sweep_on(service, clock: FakeClock, moment: datetime) -> dict[str, Disposal]:
    clock.current = moment
    RetentionSweep(service.kernel).sweep()
    return disposed(service)


def noticed(service, clock: FakeClock, due: datetime) -> None:
    """The daily sweep 30 days before `due` lists the records for review (issue 24)."""
    sweep_on(service, clock, due - timedelta(days=30))


def approve(service, ref: str, who: str = "dsl1") -> str:
    """A person's review decision: a "review" class goes only on one (issue 24)."""
    return say(service, who, f"dispose {ref} because reviewed, nothing more to keep")[0]


# --- each pack sets retention per kind of record --------------------------------------


@pytest.mark.issue(15, 1)
def test_every_bundled_pack_has_a_retention_schedule_from_the_irms_toolkit():
    for name in bundled_pack_names():
        text = (resources.files("bot.policies") / f"{name}.toml").read_text()
        assert "[records.retention]" in text and "IRMS" in text, name
        r = load_pack(name).records.retention
        assert (r.safeguarding_years, r.staff_abuse_years, r.account_years) == (25, 6, 6), name
        assert r.friend_request_years == 6, name
        assert (r.comment_years, r.abandoned_conversation_days) == (1, 30), name


@pytest.mark.issue(15, 1)
def test_old_retention_years_still_works_and_cannot_be_mixed():
    text = (resources.files("bot.policies") / "default.toml").read_text()
    head, _, tail = text.partition("[records.retention]")
    legacy = (
        head.replace("[records]\n", "[records]\nretention_years = 8\n")
        + tail.split("# Evidence files are disposed of with their case.\n", 1)[1]
    )
    pack = parse_pack(legacy, "legacy")
    r = pack.records.retention
    assert (r.staff_abuse_years, r.friend_request_years, r.account_years) == (8, 8, 8)
    assert pack.records.retention.safeguarding_years == 25
    mixed = text.replace("[records]\n", "[records]\nretention_years = 8\n")
    with pytest.raises(PolicyError, match=r"replaced by \[records.retention\]"):
        parse_pack(mixed, "mixed")
    assert (
        rules.FREE_TEXT_KEYS
        == __import__(
            "bot.storage.migrations.versions.0008_records_retention", fromlist=["x"]
        ).FREE_TEXT_KEYS
    )


# --- the sweep disposes of each kind exactly on its day -------------------------------


@pytest.mark.issue(15, 2)
def test_safeguarding_case_disposed_25_years_after_closure_not_a_day_before(
    service, clock, tmp_path
):
    ref = open_case(service)  # a cyberbullying report about a pupil: the DSL's
    service.press(
        ButtonPress("console", "dsl1", cards.CASE_NOTE, ref, text="MARKER-NOTE called home")
    )
    case = close(service, ref)
    assert case.team == "dsl"
    files = list((tmp_path / "evidence").rglob("*"))
    assert len([f for f in files if f.is_file()]) == 2

    assert ref not in sweep_on(service, clock, at(2051, 11, 20, 23, 59))
    assert case_row(service, ref).disposed_at is None
    assert "can't be disposed of yet" in approve(service, ref)
    clock.current = at(2051, 11, 21, 0, 0)
    assert "next daily retention sweep" in approve(service, ref)
    log = sweep_on(service, clock, at(2051, 11, 21, 0, 0))
    assert log[ref].rule == classes.CHILD and log[ref].files_deleted == 2
    assert str(log[ref].due_on) == "2051-11-21"
    assert not [f for f in (tmp_path / "evidence").rglob("*") if f.is_file()]

    row = case_row(service, ref)
    assert row.reporter_id == "" and row.reporter_name is None
    assert set(row.details) == {"tombstone"} and row.summary == {}
    assert "MARKER" not in str(row.model_dump())
    with service.kernel.session() as session:
        events = repo.timeline(session, ref)
        assert "MARKER" not in str([e.detail for e in events])
        note = next(e for e in events if e.action == "case.note")
        assert note.redacted_at is not None and "note" not in note.detail
        opened = next(e for e in events if e.action == "case.opened")
        assert opened.redacted_at is None  # no free text: kept as it was
    # Running again disposes of nothing twice.
    RetentionSweep(service.kernel).sweep()
    assert len([d for d in disposed(service).values() if d.record == ref]) == 1


@pytest.mark.issue(15, 2)
def test_staff_cyberbullying_and_friend_request_six_years(service, clock):
    say(service, "bob", *CB_STAFF, "done", "no", "no", "no")
    say(service, "alice", *FR)
    staff = close(service, "CB-0001", who="slt1")
    friend = close(service, "FR-0001")
    assert staff.team == "slt" and friend.team == "dsl"
    noticed(service, clock, at(2032, 11, 21))
    assert not {"CB-0001", "FR-0001"} & set(sweep_on(service, clock, at(2032, 11, 20, 23, 59)))
    log = sweep_on(service, clock, at(2032, 11, 21))
    assert log["CB-0001"].rule == classes.STAFF_ABUSE
    assert log["FR-0001"].rule == classes.FRIEND_REQUEST


@pytest.mark.issue(15, 2)
def test_account_request_and_register_kept_while_open_then_six_years(service, clock):
    now = clock()
    with service.kernel.session() as session:
        case = Case(
            ref="AC-0001",
            kind="AC",
            status="closed",
            team="slt",
            platform="console",
            reporter_id="carol",
            created_at=now,
            updated_at=now,
            closed_at=now,
            details={"name": "MARKER-BLOG"},
        )
        session.add(case)
        session.flush()
        session.add(
            OfficialAccount(
                name="MARKER-BLOG",
                purpose="MARKER-PURPOSE",
                platform="x",
                author="MARKER-AUTHOR",
                approved_on=now,
                case_id=case.id,
            )
        )
        repo.audit(session, now, "system", "register.added", "AC-0001", name="MARKER-BLOG")
        session.commit()
    assert "AC-0001" not in sweep_on(service, clock, at(2040, 1, 1))  # account still open
    clock.current = at(2027, 3, 3, 10)
    service.comments.register_change(1, "cli:test", close=True)
    noticed(service, clock, at(2033, 3, 3))
    assert not {"AC-0001", "account 1"} & set(sweep_on(service, clock, at(2033, 3, 2, 23, 59)))
    log = sweep_on(service, clock, at(2033, 3, 3))
    assert log["AC-0001"].rule == classes.ACCOUNT
    assert log["account 1"].rule == rules.REGISTER_ENTRY
    with service.kernel.session() as session:
        account = session.get(OfficialAccount, 1)
        assert account is not None and "MARKER" not in str(account.model_dump())
        assert "MARKER" not in str([e.detail for e in session.exec(select(AuditEvent))])


@pytest.mark.issue(15, 2)
def test_comment_one_year_after_reply_and_conversation_after_30_days(service, clock):
    from bot.features.comments import queries as comments_queries
    from bot.features.comments.rules import CommentIn

    service.comments.register_add(
        "test",
        name="PE",
        purpose="Sport",
        platform="X",
        author="Mr J",
        moderators=["Mr J", "Ms K"],
        contacts=[],
    )
    comment, _ = service.comments.log_comment(
        CommentIn(account=1, author_type="parent", text="MARKER-COMMENT when is sports day"),
        "cli",
        "cli:t",
    )
    with service.kernel.session() as session:
        comments_queries.close_comment(session, comment.id, "replied", service.kernel.now(), "Mr J")
        session.commit()
    say(service, "dora", "friend request")  # started, never finished
    assert not {"CM-0001", "unfinished friend request"} & set(
        sweep_on(service, clock, at(2026, 12, 20, 23, 59))
    )
    log = sweep_on(service, clock, at(2026, 12, 21))
    assert log["unfinished friend request"].rule == classes.CONVERSATION
    assert "CM-0001" not in log
    with service.kernel.session() as session:
        assert session.exec(select(DialogState)).first() is None
    noticed(service, clock, at(2027, 11, 21))
    assert "CM-0001" not in sweep_on(service, clock, at(2027, 11, 20, 23, 59))
    log = sweep_on(service, clock, at(2027, 11, 21))
    assert log["CM-0001"].rule == classes.COMMENT
    with service.kernel.session() as session:
        row = session.get(Comment, comment.id)
        assert row is not None and "MARKER" not in row.text and "Disposed of on" in row.text


@pytest.mark.issue(15, 2)
def test_a_file_another_live_case_uses_stays_on_disk(service, clock, tmp_path):
    first = open_case(service)
    close(service, first)
    clock.advance(days=400)
    second = open_case(service)  # the same two files again (the store keeps one copy)
    files = [f for f in (tmp_path / "evidence").rglob("*") if f.is_file()]
    assert len(files) == 2
    clock.current = at(2051, 11, 21)
    approve(service, first)
    log = sweep_on(service, clock, at(2051, 11, 21))
    assert log[first].files_deleted == 0 and second not in log
    assert all(f.exists() for f in files)


# --- legal hold ------------------------------------------------------------------------


@pytest.mark.issue(15, 3)
def test_a_held_case_is_never_disposed_of_until_the_hold_is_lifted(service, clock):
    ref = open_case(service)
    close(service, ref)
    with service.kernel.session() as session:
        dsl = service.kernel.actor(session, "console", "dsl1", "Dee")
        slt = service.kernel.actor(session, "console", "slt1", "Sam")
    with pytest.raises(HoldRefused):  # SLT doesn't own a DSL case
        place_hold(service.kernel, ref, "court case", slt.key, "Sam", actor=slt)
    with pytest.raises(HoldRefused):
        place_hold(service.kernel, ref, "  ", dsl.key, "Dee", actor=dsl)
    said = place_hold(service.kernel, ref, "MARKER-HOLD family court", dsl.key, "Dee", actor=dsl)
    assert "legal hold" in said
    assert ref not in sweep_on(service, clock, at(2060, 1, 1))
    assert case_row(service, ref).disposed_at is None
    clock.current = at(2060, 1, 1)
    assert "legal hold" in approve(service, ref)  # no decision while held
    assert "lifted" in release_hold(service.kernel, ref, dsl.key, "Dee", dsl)
    clock.current = at(2060, 1, 2)
    approve(service, ref)
    log = sweep_on(service, clock, at(2060, 1, 2))
    assert ref in log
    with pytest.raises(HoldRefused, match="already been disposed of"):
        place_hold(service.kernel, ref, "too late", dsl.key, "Dee", actor=dsl)
    with service.kernel.session() as session:
        actions = [e.action for e in repo.timeline(session, ref)]
        assert "case.hold" in actions and "case.hold_released" in actions
        assert "MARKER-HOLD" not in str([e.detail for e in repo.timeline(session, ref)])


# --- the append-only trail allows exactly the disposal redaction ------------------------


@pytest.mark.issue(15, 2)
def test_audit_trigger_allows_only_the_disposal_redaction(database_url):
    engine = db.make_engine(database_url)
    now = at(2026, 11, 21)
    with engine.begin() as connection:
        connection.execute(
            sa.insert(AuditEvent).values(
                at=now,
                actor="console:d",
                action="case.note",
                subject="CB-0001",
                detail={"by": "Dee", "note": "secret"},
            )
        )
    table = AuditEvent.__table__  # type: ignore[attr-defined]
    attempts = [
        {"action": "case.viewed"},
        {"detail": {"by": "Someone else"}},
        {"detail": {"by": "Dee", "note": "changed"}},
        {"redacted_at": now, "redaction": "x", "detail": {"by": "Dee", "note": "secret"}},
        {"redacted_at": now, "redaction": "x", "detail": {}},  # more than the free text
        {"redacted_at": now, "redaction": "x", "detail": {"by": "Dee"}, "actor": "system"},
        {"detail": {"by": "Dee"}},  # no redaction marker
    ]
    for values in attempts:
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as c:
            c.execute(sa.update(table).values(**values))
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as c:
        c.execute(sa.delete(table))
    with engine.begin() as c:
        c.execute(sa.update(table).values(redacted_at=now, redaction="rule", detail={"by": "Dee"}))
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as c:
        c.execute(sa.update(table).values(redacted_at=at(2027, 1, 1), redaction="again"))
    with engine.connect() as c:
        row = c.execute(sa.select(table)).one()
    assert row.detail == {"by": "Dee"} and row.redaction == "rule"
    engine.dispose()


# --- what is left: the tombstone -------------------------------------------------------


@pytest.mark.issue(15, 5)
def test_case_ref_view_of_a_disposed_case_shows_only_the_tombstone(service, clock):
    ref = open_case(service)
    close(service, ref)
    clock.current = at(2051, 11, 21)
    approve(service, ref)
    sweep_on(service, clock, at(2051, 11, 21))
    [view] = service.receive(StaffMessage("console", "dsl1", f"case {ref}")).replies
    assert view.text.startswith(f"{ref}: Cyberbullying or online abuse.")
    assert "Reported Sat 21 Nov 2026, closed Sat 21 Nov 2026" in view.text
    assert "Disposed of on 21 November 2051" in view.text
    assert "Safeguarding records about a child" in view.text
    for gone in ("MARKER", "Answers", "Evidence", "dan", "Dan"):
        assert gone not in view.text


# --- the DPO's preview and log ---------------------------------------------------------


@pytest.mark.issue(15, 4)
def test_due_previews_and_disposals_exports_csv(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    db.upgrade(url)
    clock = FakeClock(at(2000, 1, 10, 12))
    old = make_service(url, "default", clock, tmp_path / "data" / "evidence")
    grant(old, "dsl1", "dsl")
    grant(old, "slt1", "slt")
    first, second = open_case(old), open_case(old)
    close(old, first)
    close(old, second)
    env = env_for(tmp_path, DATABASE_URL=url)

    def cli(*args: str) -> str:
        import subprocess

        done = subprocess.run(
            [*SCHOOLBOT, "records", *args],
            env=env,
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert "is on legal hold" in cli("hold", second, "--reason", "police enquiry")
    preview = cli("due")
    assert f"{first} (case), due 10 Jan 2025" in preview
    assert f"{second} (case)" in preview and "KEPT: on legal hold" in preview
    assert "WAITS for a person's decision" in preview  # a safeguarding record (issue 24)
    assert "0 record(s) would be disposed of." in preview
    assert case_row(old, first).disposed_at is None  # a preview changes nothing
    assert "Disposed of 0 record(s)" in cli("sweep")
    assert "is disposed of" in cli("dispose", first, "--reason", "reviewed")
    assert "Wrote 1 disposal(s)" in cli("disposals", "-o", "log.csv")
    with (tmp_path / "log.csv").open(newline="") as handle:
        [row] = list(csv.DictReader(handle))
    assert row["record"] == first and row["rule"] == classes.CHILD
    assert row["due_on"] == "2025-01-10" and row["by"] == "retention sweep"
    # Both cases hold the same two files (one copy on disk): the held case still needs them.
    assert row["files_deleted"] == "0" and "25 years from the child's" in row["rule_in_words"]
    assert row["method"] == "decision" and "(server)" in row["authorised_by"]
    assert "lifted" in cli("release", second)
    assert "Nothing is due" not in cli("due")


# --- the retention tables in docs/records.md are the packs' own -------------------------


@pytest.mark.issue(15, 6)
def test_the_records_page_has_each_bundled_packs_retention_table():
    page = (ROOT / "docs" / "records.md").read_text(encoding="utf-8")
    section = page.split("## How long each record is kept", 1)[1].split("\n## ", 1)[0]
    for name in bundled_pack_names():
        block = section.split(f"`{name}`", 1)[1]
        table = "\n".join(rules.schedule_table(load_pack(name)))
        assert block.lstrip(" :\n").startswith(table), f"docs/records.md table for {name} is stale"
    assert re.search(r"schoolbot records due", page)
