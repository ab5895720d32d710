"""The request spool keeps no copy of a settled request for long, even while others stay
open (issue 24, point 3): a disposed record has nothing left in it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.intake.spool import SETTLED_SECONDS, Spool

NOW = datetime(2026, 11, 21, tzinfo=UTC)


def row(text: str) -> dict:
    return {"platform": "slack", "person": "U1", "kind": "message", "payload": {"text": text},
            "accepted_at": NOW, "renewed_at": NOW}  # fmt: skip


@pytest.mark.issue(24, 3)
def test_a_settled_request_leaves_the_spool_within_a_minute_while_others_stay_open(tmp_path):
    moments = iter([0.0, 1.0, SETTLED_SECONDS + 2])
    spool = Spool(tmp_path, "slack", clock=lambda: next(moments))
    spool.add("a", row("MARKER-DISPOSED about CB-0001"))
    spool.add("b", row("still open"))
    spool.add("c", row("also open"))
    spool.settle("a")  # settled, but b and c keep the file from being emptied
    assert b"MARKER-DISPOSED" in spool.path.read_bytes()
    spool.add("d", row("later"))
    spool.settle("d")
    assert b"MARKER-DISPOSED" in spool.path.read_bytes()  # under a minute: kept for now
    spool.add("e", row("later still"))
    spool.settle("e")  # a minute on: the file is rewritten with the open requests only
    kept = spool.path.read_bytes()
    assert b"MARKER-DISPOSED" not in kept and b"still open" in kept and b"also open" in kept
    spool.close()
    again = Spool(tmp_path, "slack")
    assert sorted(token for token, _ in again.left_over()) == ["b", "c"]
    again.close()
