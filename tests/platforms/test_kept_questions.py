"""The question messages kept until answered, on SQLite and PostgreSQL: Slack's (one
question per person, its copies) and Teams' cards (found by the question they ask)."""

from __future__ import annotations

import pytest

from bot.platforms.slack import questions
from bot.platforms.teams import store
from tests.helpers import make_service


@pytest.mark.issue(23, 10)
def test_slack_keeps_the_copies_of_the_latest_question_until_it_is_answered(
    database_url, clock, tmp_path
):
    kernel = make_service(database_url, "default", clock, tmp_path / "evidence").kernel
    posted = [{"channel": "DU1", "ts": f"1.{n}", "text": "q", "blocks": []} for n in range(3)]
    questions.keep(kernel, "U1", "fr.sender@a", posted[0])
    questions.keep(kernel, "U1", "fr.family@a", posted[1])  # the next question replaces it
    questions.keep(kernel, "U1", "fr.family@a", posted[2])  # asked again: both copies kept
    questions.keep(kernel, "U2", "fr.family@b", posted[0])
    assert questions.take(kernel, "U1", "fr.sender@a") == []
    assert questions.take(kernel, "U1", "fr.family@b") == []  # another report's: not taken
    assert questions.take(kernel, "U1", "fr.family@a") == posted[1:]
    assert questions.take(kernel, "U1", "fr.family@a") == []  # forgotten once taken
    assert questions.take(kernel, "U2", "fr.family@b") == posted[:1]


@pytest.mark.issue(23, 11)
def test_teams_cards_are_found_by_the_question_they_ask(database_url, clock, tmp_path):
    kernel = make_service(database_url, "default", clock, tmp_path / "evidence").kernel
    cards = {
        "card:ana:1": {"card": {}, "step": "fr.sender@a", "id": "1"},
        "card:ana:2": {"card": {}, "step": "fr.sender@a", "id": "2"},
        "card:ana:3": {"card": {}, "step": "fr.family@a", "id": "3"},
        "card:bob:1": {"card": {}, "step": "fr.sender@a", "id": "1"},
    }
    store.put_many(kernel, cards, [])
    taken = store.take_where(kernel, "card:ana:", "step", "fr.sender@a")
    assert sorted(card["id"] for card in taken) == ["1", "2"]
    assert store.take_where(kernel, "card:ana:", "step", "fr.sender@a") == []
    assert store.load(kernel, "card:ana:3") == cards["card:ana:3"]
    assert store.load(kernel, "card:bob:1") == cards["card:bob:1"]
