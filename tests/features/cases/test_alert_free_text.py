"""Issue 23, point 24: an alert shows free text (a comment's words, an account's aim) only
when the pack's alert detail is `full`, as the README says."""

from __future__ import annotations

import pytest

from bot.domain.policy import load_pack
from tests.helpers import DEFAULT_REQUEST, add_account, grant, log_comment, make_service, say, seen


def alerts(service, user: str) -> str:
    return "\n".join(seen(m) for m in service.intake.inbox("console", user))


def pack(detail: str):
    default = load_pack("default")
    return default.model_copy(
        update={"alerts": default.alerts.model_copy(update={"detail": detail})}
    )


@pytest.mark.issue(23, 24)
@pytest.mark.parametrize("detail", ["minimal", "standard"])
def test_alerts_show_free_text_only_under_full_detail(detail, sqlite_url, clock, tmp_path):
    service = make_service(sqlite_url, pack(detail), clock, tmp_path / "evidence")
    grant(service, "head", "headteacher")
    assert "AC-0001" in say(service, "req", *DEFAULT_REQUEST)[0]
    approver = alerts(service, "head")
    assert "Year 6 Blog" in approver and "Ann Bell" in approver  # enough to decide on
    assert "Share class work" not in approver, approver  # the aim, in the teacher's words

    add_account(service)
    log_comment(service, text="MARKER comment words")
    moderator = alerts(service, "mo1")
    assert "PE Twitter" in moderator
    assert "MARKER" not in moderator, moderator


@pytest.mark.issue(23, 24)
def test_alerts_under_full_detail_show_the_free_text(sqlite_url, clock, tmp_path):
    service = make_service(sqlite_url, pack("full"), clock, tmp_path / "evidence")
    grant(service, "head", "headteacher")
    say(service, "req", *DEFAULT_REQUEST)
    assert "Share class work" in alerts(service, "head")
    add_account(service)
    log_comment(service, text="MARKER comment words")
    assert "MARKER comment words" in alerts(service, "mo1")
