"""The case view in words (`case FR-0001` in chat): each answer beside its question, labels
and local times rather than stored values, who reported it, notes for the owning team only,
and an account request's decision as Approved or Rejected with its reason."""

from __future__ import annotations

import pytest

from bot.domain.turns import ButtonPress, StaffMessage
from bot.features.cases import cards
from tests.helpers import (
    BROWN_JONES_REQUEST,
    CB_ABOUT_ME,
    CB_AFTER_EVIDENCE,
    grant,
    report_fr,
    seen,
    tell,
)

CB_PUPIL = [
    "someone is posting about a pupil",
    "no",  # no child in danger right now (the opening said it's about a pupil)
    "bullying or abuse",
    "x",
    "https://x.com/someone/status/1",
    "yesterday 8pm",
    "Insults under a photo of a Year 9 pupil",
]


INTERNALS = ("current_pupil", "False", "True", "+00:00", "['", "{'", "image/png", "T20:00")


@pytest.mark.issue(10, 6)
def test_case_view_shows_questions_labels_local_times_and_words(service_factory, clock):
    service = service_factory("default")
    grant(service, "dsl1", "dsl")
    grant(service, "head", "headteacher")
    report_fr(service)
    [fr] = service.receive(StaffMessage("console", "dsl1", "case FR-0001")).replies
    text = seen(fr)
    assert "• Who sent the request? A pupil (at our school or any other school)" in text
    assert "• Are they a member of your family? No" in text
    assert "• Which app or site was it on? Instagram" in text

    tell(service, "dan", "Dan Jones", *CB_PUPIL)
    shot = service.kernel.store_evidence("shot1.png", "image/png", b"\x89PNG\r\n\x1a\n one")
    service.receive(StaffMessage("console", "dan", "", files=[shot], name="Dan Jones"))
    assert "CB-0001" in tell(service, "dan", "Dan Jones", "done", "no", "yes")
    [cb] = service.receive(StaffMessage("console", "dsl1", "case CB-0001")).replies
    text = seen(cb)
    # The test clock is Saturday 21 Nov 2026, 15:00 UTC (GMT): "yesterday 8pm" is Friday.
    assert "• When was it posted? Fri 20 Nov 2026, 20:00" in text
    assert "Reported by Dan Jones on Sat 21 Nov 2026, 15:00." in text
    assert (
        f"• shot1.png: PNG image, 12 bytes, added by Dan Jones on Sat 21 Nov 2026, 15:00. "
        f"SHA-256 {shot.sha256}"
    ) in text

    tell(service, "req", "Ms Req", *BROWN_JONES_REQUEST)
    [ac] = service.receive(StaffMessage("console", "head", "case AC-0001")).replies
    text = seen(ac)
    assert "• Run by: Ms Brown and Mr Jones" in text
    assert "• Has Ms Brown read the social media policy and had training? Yes" in text
    assert "• Open or closed: Private or closed" in text
    for view in (fr, cb, ac):
        for internal in INTERNALS:
            assert internal not in seen(view), (internal, seen(view))


@pytest.mark.issue(10, 6)
def test_notes_text_is_shown_to_the_owning_team_only(service_factory):
    service = service_factory("default")
    grant(service, "dsl1", "dsl")
    report_fr(service)
    service.press(
        ButtonPress("console", "dsl1", cards.CASE_NOTE, "FR-0001", text="Spoke to the pupil")
    )
    [team_view] = service.receive(StaffMessage("console", "dsl1", "case FR-0001")).replies
    assert "Note by dsl1 at Sat 21 Nov 2026, 15:00: Spoke to the pupil" in seen(team_view)
    [own_view] = service.receive(
        StaffMessage("console", "alice", "case FR-0001", name="Alice Smith")
    ).replies
    assert "Spoke to the pupil" not in seen(own_view)
    assert "FR-0001: Friend or follow request. Status: New." in seen(own_view)
    # The channel alert says a note was added, never what it says.
    assert all("Spoke to the pupil" not in seen(a) for a in service.intake.inbox("console", "dsl1"))


@pytest.mark.issue(10, 22)
def test_my_cases_says_approved_or_rejected_and_the_card_shows_the_reason(
    service_factory,
):
    service = service_factory("default")
    grant(service, "head", "headteacher")
    tell(service, "req", "Ms Req", *BROWN_JONES_REQUEST)
    tell(
        service, "req", "Ms Req", *BROWN_JONES_REQUEST[1:]
    )  # AC-0002: "new official account" again
    tell(service, "req", "Ms Req", "new official account", *BROWN_JONES_REQUEST[1:])
    alerts = [m for m in service.intake.inbox("console", "head") if m.buttons]
    approve = {a.title: a for a in alerts}
    first = next(b for b in approve["New official account request AC-0001"].buttons)
    service.press(ButtonPress("console", "head", first.action, first.value, name="Head"))
    second = approve["New official account request AC-0002"].buttons[1]
    service.press(
        ButtonPress(
            "console", "head", second.action, second.value, text="Audience is under 13", name="Head"
        )
    )
    [mine] = service.receive(StaffMessage("console", "req", "my cases", name="Ms Req")).replies
    assert "AC-0001 New official account request: Approved" in mine.text
    assert "AC-0002 New official account request: Rejected" in mine.text
    updates = [m for m in service.intake.inbox("console", "head") if "AC-0002" in (m.title or "")]
    assert "Reason: Audience is under 13" in updates[-1].text
    assert updates[-1].text.count("Rejected") == 1  # "Rejected by Head ...", not twice


@pytest.mark.issue(23, 30)
def test_wording_slt_read_who_was_targeted_as_the_reporter_not_me(service_factory):
    service = service_factory("default")
    grant(service, "slt1", "slt")
    assert "CB-0001" in tell(service, "dan", "Dan Jones", *CB_ABOUT_ME, *CB_AFTER_EVIDENCE)
    [cb] = service.receive(StaffMessage("console", "slt1", "case CB-0001")).replies
    assert "• Who is being targeted? The reporter" in seen(cb), seen(cb)
    assert "targeted? Me" not in seen(cb)
