"""Issue 22: free text read by a classifier trained on a labelled corpus, measured on a
fixed held-out split; below the confidence line the bot asks rather than guesses; words
that may be about a child at risk never end at a bare menu."""

from __future__ import annotations

from collections import Counter

import pytest

from bot.dispatch.first_words import WHICH_ONE, read_first_words, safeguarding, scored
from bot.domain.policy import load_pack
from bot.domain.turns import StaffMessage
from bot.features import build_registry
from bot.understanding.corpus import NO_CATEGORY, NONE, QUESTION, load_corpus
from bot.understanding.model import Classifier, split
from tests.helpers import dialog_answers, grant, say

CATEGORIES = {
    NO_CATEGORY,
    "danger",
    "nudes",
    "grooming",
    "self_harm",
    "extremism",
    "threats",
    "bullying",
}
# The issue's target, which the fixed held-out split reaches (bench/understanding.py
# prints it, and the mean over ten other splits beside it).
RIGHT_FLOOR = 0.95


@pytest.mark.issue(22, 1)
def test_the_corpus_is_labelled_varied_and_has_no_duplicates():
    corpus = load_corpus()
    registry = build_registry()
    assert len(corpus) >= 400
    labels = Counter(e.label for e in corpus)
    assert set(labels) == {*registry.conversations, NONE, QUESTION}
    assert min(labels.values()) >= 40
    assert {e.category for e in corpus} <= CATEGORIES
    assert sum(e.at_risk for e in corpus) >= 100
    texts = [e.text.lower() for e in corpus]
    assert len(texts) == len(set(texts))
    assert all("\t" not in t and t.strip() == t for t in texts)


def _held_out_readings():
    corpus = load_corpus()
    train, held_out = split(corpus)
    assert not {e.text for e in train} & {e.text for e in held_out}  # never trained on
    classifier = Classifier(train)
    registry = build_registry()
    pack = load_pack("default")
    for example in held_out:
        understanding = classifier.read(example.text)
        yield example, read_first_words(registry, example.text, understanding, pack), registry


@pytest.mark.issue(22, 4)
def test_held_out_messages_start_the_right_conversation_at_the_measured_floor():
    readings = list(_held_out_readings())
    right = sum(
        scored(registry, example, reading) == "right" for example, reading, registry in readings
    )
    assert right / len(readings) >= RIGHT_FLOOR
    assert len(readings) >= 0.25 * len(load_corpus()) - 1


@pytest.mark.issue(22, 3)
def test_held_out_messages_about_a_child_at_risk_reach_a_safeguarding_conversation():
    misses = [
        (example.text, reading.start)
        for example, reading, registry in _held_out_readings()
        if example.at_risk
        and (reading.start is None or not safeguarding(registry.conversations[reading.start]))
    ]
    assert not misses, misses  # the target is none


@pytest.mark.issue(22, 3)
@pytest.mark.parametrize(
    "text",
    [
        "nudes of a year 10 girl are going round on snapchat",
        "someone says they will stab her at the bus stop tomorrow",
        "my tutee says her uncle is sending her pics",
        "a boy in my form is hurting himself",
        "an older man wants to meet a year 8 girl",
    ],
)
def test_words_about_harm_to_a_child_never_end_at_a_menu(service_factory, text):
    service = service_factory("default")
    [reply] = service.receive(StaffMessage("console", "t", text)).replies
    answers = dialog_answers(service, "console", "t")
    assert answers is not None, reply.text  # a conversation started: not the menu
    with service.kernel.session() as session:
        from bot.storage import repository as repo

        started = repo.get_dialog(session, "console", "t").dialog
    assert safeguarding(service.kernel.registry.conversations[started])


@pytest.mark.issue(22, 3)
def test_below_the_line_it_asks_with_the_likeliest_and_keeps_the_words(service_factory):
    service = service_factory("default")
    text = "instagram issue"
    registry = service.kernel.registry
    understanding = registry.understand(text)
    reading = read_first_words(registry, text, understanding, service.kernel.pack)
    # Deterministic (fixed corpus and seed): if the corpus changes so that this phrase is
    # read with confidence, this fails and a vaguer phrase is needed.
    assert reading.ask is not None and reading.ask.text == WHICH_ONE, understanding
    [asked] = service.receive(StaffMessage("console", "a", text)).replies
    assert asked.text == WHICH_ONE
    offered = [c.value for c in asked.choices]
    assert 2 <= len(offered) <= 4 and offered[-1] == "menu"
    chosen = offered[0]
    service.receive(StaffMessage("console", "a", chosen, answering="menu"))
    with service.kernel.session() as session:
        from bot.storage import repository as repo

        row = repo.get_dialog(session, "console", "a")
    assert row.dialog == chosen
    assert row.state["options"]["opening"] == text  # what they typed first is kept


@pytest.mark.issue(22, 6)
def test_a_case_reference_typed_mid_question_shows_the_case_then_asks_again(service_factory):
    service = service_factory("default")
    grant(service, "dsl1", "dsl")
    say(service, "dsl1", "friend request")
    replies = service.receive(StaffMessage("console", "dsl1", "my cases")).replies
    assert "You haven't reported anything yet." in replies[0].text
    assert "Who sent the request?" in replies[-1].text
    assert dialog_answers(service, "console", "dsl1") == {}


@pytest.mark.issue(22, 6)
def test_words_for_another_conversation_mid_question_say_how_to_switch(service_factory):
    service = service_factory("default")
    say(service, "b", "report abuse")
    replies = service.receive(StaffMessage("console", "b", "actually it's a fake account")).replies
    text = "\n".join(m.text for m in replies)
    assert "sounds like a fake or impersonation account" in text
    assert "Who is being targeted?" in text


@pytest.mark.issue(22, 2)
def test_a_schools_own_words_are_read_as_the_bots():
    registry = build_registry()
    plain = registry.understand("zork")
    theirs = registry.understand("zork", {"zork": "friend request"})
    assert plain.label != "friend_request"  # the word means nothing to the corpus
    assert theirs.label == "friend_request" and theirs.sure
