"""What a teacher types with a yes, a no or a choice is kept word for word and shown to
the team that owns the case (last round "yeah she sent me a message saying she's being hurt
at home" was stored and shown as "Yes", and the words were nowhere)."""

from __future__ import annotations

from bot.domain.turns import StaffMessage
from bot.storage import repository as repo
from tests.helpers import grant

DISCLOSURE = "yeah she sent me a message saying she's being hurt at home"


def say(service, user, *lines):
    for line in lines:
        replies = service.receive(StaffMessage("console", user, line, name="Alice Smith")).replies
    return [m.text for m in replies]


def test_a_disclosure_given_with_a_yes_reaches_the_dsl_in_the_teachers_words(service_factory):
    service = service_factory("default")
    grant(service, "dsl1", "dsl")
    say(service, "alice", "friend request", "1", "no", "instagram", "no", DISCLOSURE)
    say(service, "alice", "no")  # not in danger right now
    [done] = say(service, "alice", "done")  # no screenshots
    assert "FR-0001" in done
    with service.kernel.session() as session:
        case = repo.case_by_ref(session, "FR-0001")
        assert case is not None and case.urgent
        assert case.details["concerning"] is True
        assert case.details["concerning_words"] == DISCLOSURE
    [view] = service.receive(StaffMessage("console", "dsl1", "case FR-0001")).replies
    assert "worries you? Yes" in view.text
    assert f"In their words: {DISCLOSURE}" in view.text


def test_a_bare_answer_a_button_or_a_misspelt_choice_keep_no_extra_words(service_factory):
    service = service_factory("default")
    say(service, "bob", "friend request", "A pupil (at our school or any other school)", "No")
    say(service, "bob", "instagarm", "n", "yes", "she keeps asking where I live", "no", "done")
    with service.kernel.session() as session:
        details = repo.case_by_ref(session, "FR-0001").details
    assert not [key for key in details if key.endswith("_words")]


def test_words_with_a_no_are_kept_and_going_back_forgets_the_old_ones(service_factory):
    service = service_factory("default")
    say(service, "cat", "friend request", "1", "no, he's in my tutor group")
    with service.kernel.session() as session:
        answers = repo.get_dialog(session, "console", "cat").state["answers"]
    assert answers["family"] is False
    assert answers["family_words"] == "no, he's in my tutor group"
    say(service, "cat", "back", "no")
    with service.kernel.session() as session:
        answers = repo.get_dialog(session, "console", "cat").state["answers"]
    assert "family_words" not in answers
