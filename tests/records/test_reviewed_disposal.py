"""Issue 24.2: reviewed disposal. A review list reaches the DSL (safeguarding records) or
the DPO (the rest) 30 days before disposal; "review" classes are never disposed of
automatically; each disposal records who authorised it and how; the disposal log is
append-only in the database itself (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import select

from bot.domain import retention_classes as classes
from bot.domain.turns import ButtonPress
from bot.features.cases import cards
from bot.records.retention import RetentionSweep
from bot.storage import db
from bot.storage.tables import Case, Disposal
from tests.helpers import FakeClock, grant, make_service, say, seen, stored_files

# Accepted, something worries them: what (in their words), no danger today, no screenshots.
WORRY = ["yes", "They say they are unhappy at home", "no", "done"]
PUPIL_WORRYING = ["friend request", "1", "no", "instagram", "yes", *WORRY]
PUPIL_ROUTINE = ["friend request", "1", "no", "instagram", "no", "no"]


def at(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 9, 0, tzinfo=UTC)


@pytest.fixture
def service(database_url, clock, tmp_path):
    s = make_service(database_url, "default", clock, tmp_path / "evidence")
    grant(s, "dsl1", "dsl")
    grant(s, "dpo1", "dpo")
    return s


def sweep_on(service, clock: FakeClock, moment: datetime) -> dict[str, Disposal]:
    clock.current = moment
    RetentionSweep(service.kernel).sweep()
    with service.kernel.session() as session:
        return {d.record: d for d in session.exec(select(Disposal))}


def read(service, user: str) -> list[str]:
    return [seen(m) for m in service.intake.inbox("console", user)]


def close(service, ref: str) -> None:
    service.press(ButtonPress("console", "dsl1", cards.CASE_CLOSE, ref, text="spoke to them"))


def disposed_at(service, ref: str) -> datetime | None:
    with service.kernel.session() as session:
        return session.exec(select(Case).where(Case.ref == ref)).one().disposed_at


@pytest.mark.issue(24, 2)
def test_the_review_list_reaches_the_dpo_30_days_before_an_automatic_disposal(service, clock):
    say(service, "t1", *PUPIL_ROUTINE)  # FR-0001: a routine friend request, due 21 Nov 2032
    close(service, "FR-0001")
    read(service, "dsl1"), read(service, "dpo1")  # the alerts so far

    sweep_on(service, clock, at(2032, 10, 21))  # 31 days before: not listed yet
    assert read(service, "dpo1") == []
    sweep_on(service, clock, at(2032, 10, 22))
    [listed] = read(service, "dpo1")
    assert "Records for review (1)" in listed
    assert "FR-0001 Friend or follow request (friend or follow requests with nothing " in listed
    assert "period ends 21 Nov 2032. Disposed of automatically after that" in listed
    assert "keep FR-0001 5 years because" in listed
    assert read(service, "dsl1") == []  # not a safeguarding record: the DPO's list
    sweep_on(service, clock, at(2032, 10, 23))
    assert read(service, "dpo1") == []  # listed once

    assert "FR-0001" not in sweep_on(service, clock, at(2032, 11, 20))
    log = sweep_on(service, clock, at(2032, 11, 21))
    entry = log["FR-0001"]
    assert (entry.method, entry.rule) == ("automatic", classes.FRIEND_REQUEST)
    assert entry.authorised_by == (
        "the school's retention rule 'routine-friend-request', after notice on 2032-10-22"
    )


@pytest.mark.issue(24, 2)
def test_nothing_is_disposed_of_before_its_notice_has_been_out_30_days(service, clock):
    say(service, "t1", *PUPIL_ROUTINE)
    close(service, "FR-0001")
    # The bot was off for the 30 days before: the first sweep lists it, and waits.
    assert "FR-0001" not in sweep_on(service, clock, at(2032, 12, 1))
    assert any("FR-0001" in m for m in read(service, "dpo1"))
    assert "FR-0001" not in sweep_on(service, clock, at(2032, 12, 30))
    assert "FR-0001" in sweep_on(service, clock, at(2032, 12, 31))


@pytest.mark.issue(24, 2)
def test_review_classes_are_never_disposed_of_automatically_only_by_a_persons_decision(
    service, clock
):
    say(service, "t1", *PUPIL_WORRYING)  # FR-0001: a safeguarding record about a child
    close(service, "FR-0001")
    read(service, "dsl1")

    sweep_on(service, clock, at(2051, 10, 22))  # 30 days before the 25 years end
    [listed] = read(service, "dsl1")  # the DSL team's list, not the DPO's
    assert "FR-0001 Friend or follow request (safeguarding records about a child)" in listed
    assert "period ends 21 Nov 2051. Needs your decision: it is never deleted" in listed
    assert read(service, "dpo1") == []
    for day in (at(2051, 11, 21), at(2051, 12, 20), at(2060, 1, 1)):
        assert "FR-0001" not in sweep_on(service, clock, day)
    assert disposed_at(service, "FR-0001") is None
    # Listed again while it waits (each 30 days), not on every daily sweep.
    [again] = read(service, "dsl1")
    assert "period ended 21 Nov 2051. Needs your decision" in again

    # The DPO may not decide about a safeguarding record; the DSL keeps it 5 more years.
    clock.current = at(2060, 1, 2)
    assert "can't find a record FR-0001" in say(service, "dpo1", "dispose FR-0001 because ok")[0]
    kept = say(service, "dsl1", "keep FR-0001 5 years because the family court may ask")[0]
    assert kept.startswith("FR-0001 will be kept until 2 January 2065")
    refused = say(service, "dsl1", "dispose FR-0001 because changed my mind")[0]
    assert "must be kept until 2 January 2065" in refused
    assert "FR-0001" not in sweep_on(service, clock, at(2065, 1, 2))

    clock.current = at(2065, 1, 2)
    said = say(service, "dsl1", "dispose FR-0001 because reviewed: nothing more to keep it for")
    assert "will be disposed of at the next daily retention sweep" in said[0]
    entry = sweep_on(service, clock, at(2065, 1, 3))["FR-0001"]
    assert entry.method == "decision" and entry.rule == classes.CHILD
    assert entry.authorised_by == "dsl1 (console:dsl1), reviewed on 2065-01-02"
    assert entry.due_on == date(2065, 1, 2)
    assert disposed_at(service, "FR-0001") is not None


@pytest.mark.issue(24, 2)
def test_the_disposal_log_is_append_only(database_url):
    engine = db.make_engine(database_url)
    table = Disposal.__table__  # type: ignore[attr-defined]
    row = {
        "at": datetime(2032, 11, 21, tzinfo=UTC), "record_type": "case", "record": "FR-0001",
        "rule": classes.FRIEND_REQUEST, "rule_words": "6 years", "due_on": date(2032, 11, 21),
        "by": "retention sweep", "files_deleted": 0, "audit_rows_redacted": 0,
        "method": "automatic", "authorised_by": "the school's rule",
    }  # fmt: skip
    with engine.begin() as c:
        c.execute(sa.insert(table).values(**row))
    refused = (
        sa.update(table).values(authorised_by="someone else"),
        sa.update(table).values(method="decision"),
        sa.update(table).values(files_deleted=2, record="FR-0002"),
        sa.delete(table),
    )
    for change in refused:
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as c:
            c.execute(change)
    # The one change allowed: the files the disposal deleted, counted once after.
    with engine.begin() as c:
        c.execute(sa.update(table).values(files_deleted=2))
    for change in (sa.update(table).values(files_deleted=3), sa.delete(table)):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as c:
            c.execute(change)
    if engine.dialect.name == "postgresql":
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as c:
            c.execute(sa.text("TRUNCATE disposal"))
    with engine.connect() as c:
        [kept] = c.execute(sa.select(table)).all()
    assert kept.authorised_by == "the school's rule" and kept.record == "FR-0001"
    engine.dispose()


def test_a_disposal_still_counts_the_files_it_deletes(service, clock, tmp_path):
    """Files go after the disposal commits; the log's one allowed change counts them."""
    from tests.fakes.workspace_harness import open_case

    ref = open_case(service)
    close(service, ref)
    clock.current = at(2051, 11, 21) + timedelta(hours=1)
    say(service, "dsl1", f"dispose {ref} because reviewed")
    assert sweep_on(service, clock, at(2051, 11, 22))[ref].files_deleted == 2
    assert stored_files(service) == []  # no file on disk, no row in evidence_blob


@pytest.mark.issue(24, 2)
def test_a_safeguarding_record_slt_dealt_with_is_reviewed_by_the_dsl(service, clock):
    grant(service, "slt1", "slt")
    say(
        service, "t4", "someone has made a fake account", "Me", "Instagram", "@fake_me",
        "It asks parents for money", "done", "yes", "no", "no",
    )  # fmt: skip
    # IM-0001 above contacts only adults, so it is SLT's.
    # SLT later learn it also messaged pupils: their record, now about a child.
    said = say(service, "slt1", "reclassify IM-0001 child because it also messaged pupils")[0]
    assert said.startswith("IM-0001 is now kept as: Safeguarding records about a child")
    service.press(ButtonPress("console", "slt1", cards.CASE_CLOSE, "IM-0001", text="reported"))
    read(service, "dsl1"), read(service, "slt1"), read(service, "dpo1")
    sweep_on(service, clock, at(2051, 10, 22))
    [listed] = read(service, "dsl1")
    assert "IM-0001 Fake or impersonation account (safeguarding records about a child)" in listed
    assert read(service, "dpo1") == []
    clock.current = at(2051, 10, 23)
    assert "can't find a record" in say(service, "dpo1", "keep IM-0001 2 years because x")[0]
    kept = say(service, "dsl1", "keep IM-0001 2 years because the police asked us to")[0]
    assert kept.startswith("IM-0001 will be kept until 21 November 2053")
    refused = say(service, "dsl1", "reclassify IM-0001 staff because it was only about me")[0]
    assert "Only the team that owns IM-0001 can reclassify it" in refused
