"""A report whose urgent case opened when the teacher said a child is in danger, then
stopped part-way with "cancel": nothing they said is lost (issue 21, SG-UNFINISHED)."""

from __future__ import annotations

import pytest

from tests.helpers import grant, say, the_case


@pytest.mark.issue(21, 6)
def test_a_report_stopped_after_the_alarm_keeps_everything_said_on_the_case(service_factory):
    service = service_factory("default")
    grant(service, "dsl1", "dsl")
    first = "a year 8 boy is being threatened on whatsapp, MARKER-FIRST"
    said = say(service, "t1", first)
    said = say(service, "t1", "a pupil") if "targeted" in said[-1] else said
    replies = say(service, "t1", "yes")  # a child in danger now: the urgent case opens
    assert any("urgent alert" in r for r in replies), replies
    stopped = say(service, "t1", "cancel")[-1]
    assert "stays with the safeguarding lead, with what you told me so far" in stopped

    case = the_case(service, "CB-0001")
    assert case.urgent and case.team == "dsl"
    assert first in str(case.details)  # the first sentence is on the case
    view = say(service, "dsl1", f"case {case.ref}")[-1]
    assert "MARKER-FIRST" in view
    assert "stopped the report part-way" in view
