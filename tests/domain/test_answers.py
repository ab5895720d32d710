"""Issue 22 point 7: answers to questions about the rules come from each pack's own words,
cited, and never from words its policy does not hold."""

from __future__ import annotations

import pytest

from bot.domain import answers
from bot.domain.policy import bundled_pack_names, load_pack, parse_pack
from bot.policies import __file__ as packs_init


@pytest.mark.issue(22, 7)
@pytest.mark.parametrize("name", bundled_pack_names())
def test_every_rule_a_pack_gives_is_cited_and_answers_a_topic(name):
    pack = load_pack(name)
    asked_about = {c for topic in answers.TOPICS.values() for c in topic.clauses}
    for clause, words in pack.rules.items():
        assert clause in pack.clauses  # so the answer can cite it
        assert clause in asked_about, f"{clause}: no topic asks about it"
        assert words.strip() == words and words.endswith((".", "!"))
    for key, topic in answers.TOPICS.items():
        given = answers.answer(pack, key)
        for line in answers.rule_lines(pack, topic):
            assert line in given.text
            assert line.endswith(")")  # each line carries its citation


@pytest.mark.issue(22, 7)
def test_the_packs_differ_where_their_policies_do():
    def parents(name: str) -> str:
        return answers.answer(load_pack(name), "parents").text

    assert "conflict of interest" in parents("dukeries-academy")
    assert "Don't follow or engage with parents" in parents("king-jamess-school")
    assert "(Policy 2.9)" in parents("king-jamess-school")
    # Merriott and Haselbury's policy has no rule on parents: the bot says so, not a guess.
    assert "I can't quote" in parents("merriott-haselbury-federation")
    assert "Senior Leadership Team" in parents("merriott-haselbury-federation")


@pytest.mark.issue(22, 7)
def test_national_guidance_names_the_schools_own_roles():
    text = answers.answer(load_pack("dukeries-academy"), "colleagues").text
    assert "tell the Principal (or the chair of governors if it's about the Principal)" in text
    assert "(KCSIE 2025 Part 4 section 1)" in text


@pytest.mark.issue(22, 7)
def test_a_rule_with_no_section_to_cite_is_never_given():
    with open(packs_init.replace("__init__.py", "default.toml"), encoding="utf-8") as f:
        text = f.read()
    pack = parse_pack(text.replace('X-PHOTOS = "8.1"\n', ""), "my-school.toml")
    given = answers.answer(pack, "photos").text
    assert "pictures of pupils" not in given
    assert "I can't quote the Social Media Policy on that" in given
