"""A disposal leaves no copy (issue 24, point 3): not in the outbox, web links, requests not
yet run, a conversation that joined the case, the SQLite file or its write-ahead log; the
files of a cancelled or abandoned report go and are logged; a file still in use never goes.
Chat platforms replacing their own messages are tested over HTTP in tests/platforms."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import select

from bot.domain.turns import ButtonPress, StaffMessage
from bot.features.cases import cards
from bot.features.comments import queries as comments_queries
from bot.features.comments.rules import CommentIn
from bot.kernel.evidence_store import INTACT
from bot.records.copies import files_in
from bot.records.evidence_files import sweep_unused
from bot.records.retention import RetentionSweep
from bot.storage import outbox as outbox_rows
from bot.storage import repository as repo
from bot.storage.tables import (
    DialogState,
    Disposal,
    Evidence,
    IntakeRequest,
    Outbox,
    WebSignIn,
)
from tests.fakes.workspace_harness import CB_ABOUT_PUPIL, open_case, tiny_png
from tests.helpers import FakeClock, grant, make_service, say, stored_files


def at(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, tzinfo=UTC)


def close(service, ref: str) -> None:
    service.press(
        ButtonPress("console", "dsl1", cards.CASE_CLOSE, ref, text="MARKER-OUTCOME", name="Dee")
    )


def reviewed(service, clock: FakeClock, ref: str, who: str, due: datetime) -> None:
    """A complaint or a safeguarding record goes only after a person's decision: listed for
    review 30 days before its period ends, then disposed of by them once it has ended."""
    clock.current = due - timedelta(days=30)
    RetentionSweep(service.kernel).sweep()  # the review list names it
    clock.current = due
    said = say(service, who, f"dispose {ref} because reviewed: nothing more to keep it for")
    assert "will be disposed of at the next daily retention sweep" in said[0], said


@pytest.fixture
def service(database_url, clock, tmp_path):
    s = make_service(database_url, "default", clock, tmp_path / "evidence")
    grant(s, "dsl1", "dsl")
    grant(s, "slt1", "slt")
    return s


def _complaint(service) -> str:
    service.comments.register_add(
        "test", name="PE", purpose="Sport", platform="X", author="Mr J", moderators=["Mr J", "Ms K"],
        contacts=["console:modo", "slack:UMOD"],
    )  # fmt: skip
    comment, _ = service.comments.log_comment(
        CommentIn(
            account=1,
            author_type="parent",
            text="MARKER-COMPLAINT Mrs Parent says Pupil Kid was left out",
            complaint=True,
        ),
        "cli",
        "cli:t",
    )
    with service.kernel.session() as session:
        comments_queries.close_comment(session, comment.id, "replied", service.kernel.now(), "J")
        session.commit()
    return comment.ref


def _copies_of(service, ref: str, case_id: int) -> None:
    """What a case leaves about the place besides its row, as the bot itself writes them."""
    now = service.kernel.now()
    with service.kernel.session() as session:
        # A reply Slack refused, queued as a DM (no case id), and an alert Slack has.
        outbox_rows.enqueue(
            session, now, "slack", "user", "U1",
            message={"text": f"Thank you. I've added all of this to {ref}. MARKER-REPLY"},
        )  # fmt: skip
        outbox_rows.enqueue(
            session, now, "slack", "team", "dsl",
            message={"text": f"{ref} MARKER-ALERT"}, case_id=case_id,
        )  # fmt: skip
        outbox_rows.enqueue(  # an escalation email not yet sent
            session, now, "email", "email", "console:dsl1",
            message={"text": f"{ref} MARKER-EMAIL"}, case_id=case_id,
        )  # fmt: skip
        session.add(
            WebSignIn(
                token_hash="a" * 64, platform="console", user_id="dsl1", name="Dee",
                next_path=f"/web/cases/{ref}", created_at=now, expires_at=now,
            )
        )  # fmt: skip
        session.add(
            IntakeRequest(
                platform="slack", person="U1", kind="message", instance="x",
                payload={"text": f"case {ref} MARKER-REQUEST"}, accepted_at=now, renewed_at=now,
            )
        )  # fmt: skip
        # Someone else's conversation that joined the case (an alarm opened it).
        session.add(
            DialogState(
                platform="console", user_id="erin", dialog="cyberbullying", updated_at=now,
                state={"dialog": "cyberbullying", "case": ref, "answers": {"x": "MARKER-JOINED"}},
            )
        )  # fmt: skip
        session.commit()
    with service.kernel.session() as session:
        sent = session.exec(
            select(Outbox).where(Outbox.case_id == case_id, Outbox.platform == "slack")
        ).one()
        sent.status, sent.external_ref = "sent", "CDSL:1700000000.000001"
        session.add(sent)
        session.commit()


@pytest.mark.issue(24, 3)
@pytest.mark.issue(25, 7)
def test_disposal_leaves_no_copy_in_outbox_links_requests_or_conversations(service, clock):
    ref = open_case(service)
    close(service, ref)
    with service.kernel.session() as session:
        case = repo.case_by_ref(session, ref)
        assert case is not None and case.id is not None
        case_id = case.id
    _copies_of(service, ref, case_id)
    complaint = _complaint(service)

    # A complaint is kept 6 years after it is resolved, then reviewed; the case's 25 are not over.
    reviewed(service, clock, complaint, "slt1", at(2032, 11, 21))
    assert complaint in left_in_outbox(service)  # decided, not yet disposed of
    clock.current = at(2032, 12, 1)
    RetentionSweep(service.kernel).sweep()
    left = left_in_outbox(service)
    assert "MARKER-COMPLAINT" not in left and "Mrs Parent" not in left
    assert complaint not in left  # not even which comment it was
    assert "MARKER-ALERT" in left  # the case is not due yet: its alert stands

    reviewed(service, clock, ref, "dsl1", at(2051, 11, 21))  # 25 years after it closed
    clock.current = at(2052, 1, 1)
    RetentionSweep(service.kernel).sweep()
    with service.kernel.session() as session:
        rows = list(session.exec(select(Outbox).order_by(Outbox.id)))
        assert "MARKER" not in json.dumps([r.message for r in rows])
        assert session.exec(select(WebSignIn)).all() == []
        assert session.exec(select(IntakeRequest)).all() == []
        assert session.get(DialogState, (1, "console", "erin")) is None
        # The alert Slack holds is queued to be replaced there; nothing else is sent.
        [retract] = [r for r in rows if r.message.get("retract")]
        assert retract.status == "pending" and retract.platform == "slack"
        original = session.get(Outbox, retract.replaces_id)
        assert original is not None and original.external_ref == "CDSL:1700000000.000001"
        assert f"{ref}: this alert's record has been disposed of" in retract.message["text"]
        assert {r.status for r in rows if r.platform == "slack" and r.target_kind == "user"} == {
            "withdrawn"
        }
        assert {r.status for r in rows if r.platform == "email"} == {"withdrawn"}
    # Its files: no copy left in the store, whichever it is (issue 25, point 7).
    assert stored_files(service) == []
    if service.kernel.evidence.kind == "database":
        with service.engine.connect() as connection:
            left = connection.execute(sa.text("SELECT count(*) FROM evidence_blob")).scalar()
        assert left == 0


def left_in_outbox(service) -> str:
    with service.kernel.session() as session:
        return json.dumps([r.message for r in session.exec(select(Outbox))])


def _upload(service, user: str, data: bytes) -> str:
    png = service.kernel.store_evidence("MARKER-shot.png", "image/png", data)
    service.receive(StaffMessage("console", user, "", files=[png], name=user))
    return png.sha256


@pytest.mark.issue(24, 3)
def test_a_file_an_unfinished_report_still_uses_is_never_deleted(service, clock):
    first = open_case(service)  # its PNG is the one the next report sends too
    close(service, first)
    reviewed(service, clock, first, "dsl1", at(2051, 11, 21))
    clock.current = at(2052, 1, 1)
    say(service, "fay", *CB_ABOUT_PUPIL)
    sha = _upload(service, "fay", tiny_png())
    clock.advance(hours=2)  # long after the upload: only the conversation still uses it
    RetentionSweep(service.kernel).sweep()
    with service.kernel.session() as session:
        assert repo.case_by_ref(session, first).disposed_at is not None  # type: ignore[union-attr]
    assert service.kernel.evidence.check(sha) == INTACT
    replies = say(service, "fay", "done", "no", "no")
    assert any("CB-0002" in r for r in replies), replies
    with service.kernel.session() as session:
        assert session.exec(select(Evidence).where(Evidence.sha256 == sha)).first() is not None
    assert service.kernel.evidence.check(sha) == INTACT


@pytest.mark.issue(24, 3)
def test_files_of_a_cancelled_or_abandoned_report_are_deleted_and_logged(service, clock):
    say(service, "gus", *CB_ABOUT_PUPIL)
    cancelled = _upload(service, "gus", b"\x89PNG\r\n\x1a\n" + b"gus" * 40)
    say(service, "gus", "cancel")
    say(service, "hal", *CB_ABOUT_PUPIL)
    abandoned = _upload(service, "hal", b"\x89PNG\r\n\x1a\n" + b"hal" * 40)
    store = service.kernel.evidence
    assert sweep_unused(service.kernel) == 0  # stored moments ago: a turn may be saving it
    clock.advance(hours=2)
    assert sweep_unused(service.kernel) == 1
    assert store.stored_at(cancelled) is None and store.stored_at(abandoned) is not None
    clock.advance(days=31)
    RetentionSweep(service.kernel).sweep()
    assert store.stored_at(abandoned) is None
    with service.kernel.session() as session:
        log = {d.record: d for d in session.exec(select(Disposal))}
    assert log[f"file {cancelled[:16]}"].by == "evidence sweep"
    assert "MARKER" not in json.dumps([d.model_dump(mode="json") for d in log.values()])
    conversation = next(d for d in log.values() if d.record_type == "conversation")
    assert conversation.files_deleted == 1


@pytest.mark.issue(24, 3)
def test_sqlite_file_and_its_log_hold_no_byte_of_a_disposed_record(sqlite_url, tmp_path):
    clock = FakeClock(at(2026, 11, 21))
    service = make_service(sqlite_url, "default", clock, tmp_path / "evidence")
    grant(service, "dsl1", "dsl")
    ref = open_case(service)
    close(service, ref)
    database = Path(sa.engine.make_url(sqlite_url).database or "")
    before = database.read_bytes() + _wal(database)
    assert b"MARKER-DESCRIPTION" in before
    reviewed(service, clock, ref, "dsl1", at(2051, 11, 21))
    clock.current = at(2052, 1, 1)
    assert RetentionSweep(service.kernel).sweep() == 1
    after = database.read_bytes() + _wal(database)
    for marker in (b"MARKER-DESCRIPTION", b"MARKER-OUTCOME", b"Dan Smith", b"MARKER-shot"):
        assert marker not in after, marker


def _wal(database: Path) -> bytes:
    wal = database.with_name(database.name + "-wal")
    return wal.read_bytes() if wal.exists() else b""


@pytest.mark.issue(24, 3)
def test_files_in_finds_file_records_however_nested():
    sha = "ab" * 32
    found = files_in({"answers": {"evidence": [{"sha256": sha}, {"sha256": "nope"}]}})
    assert found == [sha]
