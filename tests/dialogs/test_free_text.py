"""Free text is understood as a person means it: an opening sentence that answers the first
question, near misses and misspellings, number words, a leading yes or no, a word from a
choice's brackets; everyday words that are not a report; and digits that are not ASCII
(`²`, `①`) refused kindly by every parser instead of reaching int()."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.dialogs import engine, parsing
from bot.dialogs.engine import Context
from bot.domain.policy import load_pack
from bot.domain.turns import StaffMessage
from bot.features import build_registry
from tests.helpers import grant, say

DIALOGS = {name: c.dialog for name, c in build_registry().conversations.items()}

NOW = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)


@pytest.mark.issue(10, 23)
def test_opening_sentence_answers_who_sent_the_request(service_factory):
    service = service_factory("dukeries-academy")
    grant(service, "dsl1", "dsl")
    [first] = service.receive(
        StaffMessage("console", "p", "a pupil sent me a friend request")
    ).replies
    assert "Who sent the request?" not in first.text
    assert "You said it came from a pupil" in first.text
    assert "member of your family" in first.text
    # "back" returns to the question the sentence answered, so it can still be changed.
    [back] = service.receive(StaffMessage("console", "p", "back")).replies
    assert "Who sent the request?" in back.text
    [reply] = say(service, "p", "a pupil", "no", "instagram", "no", "no")
    assert "FR-0001" in reply and "decline the request" in reply


@pytest.mark.issue(10, 23)
@pytest.mark.parametrize(
    "opening,sender",
    [
        ("a pupil sent me a friend request", "current_pupil"),
        ("A student followed me on TikTok", "current_pupil"),
        ("an ex-pupil added me", "former_pupil"),
        ("a former student sent me a follow request", "former_pupil"),
        ("a pupil's mum sent me a friend request", "parent"),
        ("a parent sent me a friend request", "parent"),
        ("a 15-year-old pupil followed me, what's the rule?", "current_pupil"),
        ("a pupil's brother sent me a friend request", None),  # not the pupil: ask
        ("my friend's son, who is a pupil, added me", None),
        ("I got a friend request", None),
    ],
)
def test_sender_is_taken_from_the_opening_only_when_it_is_plain(opening, sender):
    pack = load_pack("king-jamess-school")
    turn = engine.start(DIALOGS["friend_request"], pack, NOW, None, opening)
    assert turn.state["answers"].get("sender") == sender
    assert ("Who sent the request?" in turn.messages[0].text) == (sender is None)


@pytest.mark.issue(10, 23)
def test_misspelt_friend_request_starts_the_friend_request(service_factory):
    service = service_factory("default")
    service.receive(StaffMessage("console", "q", "freind reqest"))
    with service.kernel.session() as session:
        from bot.storage import repository as repo

        assert repo.get_dialog(session, "console", "q").dialog == "friend_request"


def test_everyday_words_are_not_corrected_into_a_report(service_factory):
    """'telling' is two letters from 'trolling': that is not a typo, and a DSL's thanks
    must not start an abuse report."""
    service = service_factory("default")
    for text in ("Thanks for telling us", "I was telling a colleague about the trip"):
        service.receive(StaffMessage("console", "t", text))
        with service.kernel.session() as session:
            from bot.storage import repository as repo

            assert repo.get_dialog(session, "console", "t") is None, text


@pytest.mark.issue(10, 23)
def test_near_misses_pick_the_choice_meant():
    platforms = DIALOGS["cyberbullying"].step("platform").choices
    assert parsing.parse_choice("instgram", platforms, other_allowed=True) == "instagram"
    assert parsing.parse_choice("Threads", platforms, other_allowed=True) == "Threads"
    senders = (
        DIALOGS["friend_request"]
        .step("sender")
        .options(Context(load_pack("king-jamess-school"), {}, NOW))
    )
    assert parsing.parse_choice("a formr pupil", senders) == "former_pupil"


@pytest.mark.issue(10, 23)
def test_number_words_are_ages(service_factory):
    service = service_factory("default")
    [asked] = say(service, "r", "friend request", "former pupil")
    assert "How old are they now?" in asked
    [family] = service.receive(StaffMessage("console", "r", "seventeen")).replies
    assert "member of your family" in family.text
    assert parsing.parse_age_or_birthday("twenty-one", NOW.date()) == {"age": 21}
    assert parsing.parse_age_or_birthday("seventeen years old", NOW.date()) == {"age": 17}


@pytest.mark.issue(10, 23)
def test_a_leading_no_or_yes_answers_the_question(service_factory):
    assert parsing.parse_yes_no("no, he is my nephew") is False
    assert parsing.parse_yes_no("Yes - I accepted it yesterday") is True
    with pytest.raises(parsing.InvalidAnswer):
        parsing.parse_yes_no("no idea")
    service = service_factory("default")
    say(service, "s", "friend request", "a parent or carer")
    [platform] = service.receive(StaffMessage("console", "s", "no, he is my nephew's dad")).replies
    assert "Which app or site" in platform.text


@pytest.mark.issue(10, 23)
def test_a_word_from_a_choices_brackets_picks_it():
    """ "Will the account be open to the public, or private?" answered "public"."""
    from bot.dialogs.parsing import parse_choice
    from bot.domain.messages import Choice

    choices = (Choice("open", "Open (public)"), Choice("closed", "Private or closed"))
    assert parse_choice("public", choices) == "open"
    assert parse_choice("Public", choices) == "open"
    assert parse_choice("private", choices) == "closed"


# --- Unicode digits never reach int() -------------------------------------------------

UNICODE_DIGITS = ["²", "①", "١", "１", "৩", "²²"]


@pytest.mark.issue(11, 4)
@pytest.mark.parametrize("text", UNICODE_DIGITS)
def test_unicode_digits_are_refused_kindly_by_every_parser(text):
    today = NOW.date()
    for parse in (
        lambda t: parsing.parse_choice(t, DIALOGS["cyberbullying"].steps[0].choices),
        parsing.parse_yes_no,
        lambda t: parsing.parse_left_date(t, today),
        lambda t: parsing.parse_age_or_birthday(t, today),
        lambda t: parsing.parse_past_datetime(t, NOW),
        lambda t: parsing.parse_past_datetime(f"{t}/11", NOW),
        lambda t: parsing.parse_any_date(f"{t}.{t}.2026", today),
    ):
        with pytest.raises(parsing.InvalidAnswer):
            parse(text)


@pytest.mark.issue(11, 4)
@pytest.mark.parametrize("text", UNICODE_DIGITS)
def test_unicode_digits_are_not_taken_as_another_app(text):
    platforms = DIALOGS["cyberbullying"].step("platform").choices
    with pytest.raises(parsing.InvalidAnswer):
        parsing.parse_choice(text, platforms, other_allowed=True)


@pytest.mark.issue(11, 4)
@pytest.mark.parametrize("text", ["²", "①"])
def test_a_dm_of_unicode_digits_gets_a_reply_at_every_step(service_factory, text):
    service = service_factory("default")
    [menu] = service.receive(StaffMessage("console", "u", text)).replies  # nothing in progress
    assert "What would you like to do?" in menu.text
    for answers, expected in [
        (["friend request"], "Sorry, I didn't catch that"),
        (["friend request", "former pupil"], "couldn't read that as an age"),
        (["report abuse", "me", "facebook", "no link"], "couldn't read that date"),
    ]:
        say(service, "u", "cancel", *answers)
        [reply] = service.receive(StaffMessage("console", "u", text)).replies
        assert expected in reply.text


@pytest.mark.issue(11, 4)
@pytest.mark.parametrize("text", ["0000", "01/0000", "july 0000", "29 feb 0000", "1/1/1899"])
def test_out_of_range_years_are_refused_kindly(text):
    today = NOW.date()
    for parse in (
        lambda t: parsing.parse_left_date(t, today),
        lambda t: parsing.parse_age_or_birthday(t, today),
        lambda t: parsing.parse_past_datetime(t, NOW),
    ):
        with pytest.raises(parsing.InvalidAnswer):
            parse(text)
