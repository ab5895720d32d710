"""Issue 23, point 26: the web list says how a decided account request ended, Approved or
Rejected, as chat does, and not just Closed."""

from __future__ import annotations

import re

import pytest

from bot.domain.turns import ButtonPress
from tests.helpers import DEFAULT_REQUEST, grant, last_alert_button, say


def decide(service, label: str, reason: str | None = None) -> None:
    button = last_alert_button(service, "head", label)
    service.press(ButtonPress("console", "head", button.action, button.value, reason))


def row_of(page: str, ref: str) -> str:
    match = re.search(rf"{ref}.*?</tr>", page, re.S)
    assert match, f"{ref} is not listed"
    return match.group(0)


@pytest.mark.issue(23, 26)
async def test_decided_account_requests_are_approved_or_rejected_in_the_web_list(workspace):
    service = workspace.service
    grant(service, "head", "headteacher")
    assert "AC-0001" in say(service, "dan", *DEFAULT_REQUEST)[0]
    decide(service, "Approve")
    assert "AC-0002" in say(service, "dan", *DEFAULT_REQUEST)[0]
    decide(service, "Reject", "Not needed: the class blog covers it")
    http = await workspace.signed_in("dan", "Dan Smith")
    async with http, http.get(workspace.url("/web/")) as response:
        page = await response.text()
    assert "Approved" in row_of(page, "AC-0001") and "Closed" not in row_of(page, "AC-0001")
    assert "Rejected" in row_of(page, "AC-0002") and "Closed" not in row_of(page, "AC-0002")
