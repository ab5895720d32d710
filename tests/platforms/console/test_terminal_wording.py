"""Issue 23, point 30, in the terminal: a form's prompts read as written, with no doubled
brackets and no "?:"."""

from __future__ import annotations

import pytest

from tests.fakes.terminal import chat
from tests.helpers import DEFAULT_REQUEST, grant, report_fr, say


@pytest.mark.issue(23, 30)
def test_wording_of_the_terminals_form_prompts(service_factory):
    service = service_factory("default")
    grant(service, "dsl1", "dsl")
    grant(service, "head", "headteacher")
    report_fr(service)
    shown = chat(service, "dsl1", "", "Close with outcome", "Spoke to them", "")
    assert "(optional) (" not in shown, shown
    assert "Message to the reporter for FR-0001 (optional: press Enter to leave it out): " in shown

    say(service, "req", *DEFAULT_REQUEST)
    shown = chat(service, "head", "", "Reject", "Not needed")
    assert "Why are you rejecting it (AC-0001, new official account request)? " in shown
    assert "?:" not in shown, shown
