"""What a first message asks for, decided from the classifier's reading (bot/understanding):
start the conversation it is sure of; send words that may be about a child at risk to the
safeguarding triage, never to a bare menu; otherwise ask, with the two or three likeliest
conversations as buttons, rather than guess. What was typed is kept while asking, so the
conversation chosen next still hears it.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain import answers, harm
from bot.domain.messages import Choice, Message
from bot.domain.policy import PolicyPack
from bot.kernel.registry import MENU_STEP, Conversation, Registry
from bot.understanding.corpus import NONE, QUESTION, Example
from bot.understanding.model import WORTH_OFFERING, Understanding

# Kept in the person's dialog row while asking: the words the chosen conversation hears.
ASKING = "menu"
HEARD = "heard"
SOMETHING_ELSE = Choice("menu", "Something else")
NOT_UNDERSTOOD = (
    "I'm not sure I understood that. What would you like to do? Choose below, or tell me "
    "again in other words."
)
WHICH_ONE = "I want to get this right. Which of these is closest?"
HAS_IT_HAPPENED = "If this has happened, choose what fits:"


@dataclass(frozen=True)
class Reading:
    start: str | None  # the conversation to start, if any
    ask: Message | None = None  # otherwise the question (or menu) to ask
    topic: str = ""  # a question about the rules, answered from the pack


def safeguarding(conversation: Conversation) -> bool:
    """Conversations that ask about danger to a child and reach the DSL."""
    return conversation.triage or conversation.unfinished_to_dsl or conversation.alarm is not None


def may_be_about_harm(text: str, understanding: Understanding) -> bool:
    """When in doubt, the DSL hears: the risk model, or words that name a harm."""
    suggested = harm.suggested_harm(text)
    return (
        understanding.at_risk
        or suggested in harm.URGENT_HARMS
        or (suggested is not None and harm.about_a_child(text))
    )


def read_first_words(
    registry: Registry, text: str, understanding: Understanding, pack: PolicyPack
) -> Reading:
    conversations = registry.conversations
    triage = registry.triage
    sure = understanding.label if understanding.sure else None
    if may_be_about_harm(text, understanding) and triage is not None:
        chosen = conversations.get(sure or "")
        if chosen is not None and chosen.private:
            return Reading(chosen.name)  # about a colleague: never to the team's channel
        named = harm.suggested_harm(text) not in (None, harm.BULLYING)
        if chosen is not None and safeguarding(chosen) and not named:
            return Reading(chosen.name)  # e.g. a worrying friend request: it asks too
        return Reading(triage.name)  # the triage asks about danger, then what it involves
    if sure in conversations:
        return Reading(sure)
    offered = [
        Choice(label, conversations[label].label)
        for label, p in understanding.likely
        if label in conversations and p >= WORTH_OFFERING
    ][:3]
    if sure == NONE:
        return Reading(None)  # "hello", "thanks": the greeting and the menu
    if sure == QUESTION:
        return _answered(registry, pack, understanding.topic, offered)
    if offered:
        return Reading(None, Message(WHICH_ONE, choices=(*offered, SOMETHING_ELSE), step=MENU_STEP))
    return Reading(None, Message(NOT_UNDERSTOOD, choices=registry.menu(), step=MENU_STEP))


def _answered(registry: Registry, pack: PolicyPack, topic: str, offered: list[Choice]) -> Reading:
    """The school's rule, cited, then the conversation that fits if something has happened."""
    given = answers.answer(pack, topic)
    fits = registry.conversations.get(given.offer or "")
    choices = [Choice(fits.name, fits.label)] if fits is not None else []
    choices += [c for c in offered if c.value not in {f.value for f in choices}][: 3 - len(choices)]
    text = f"{given.text}\n\n{HAS_IT_HAPPENED}" if choices else given.text
    return Reading(
        None,
        Message(text, choices=(*choices, SOMETHING_ELSE), step=MENU_STEP),
        topic=topic or "general",
    )


def scored(registry: Registry, example: Example, reading: Reading) -> str:
    """How a reading of a labelled message is scored: "right", "asked" or "wrong" (the
    bench and the accuracy test share this). A question is right when it is answered; a
    message about a child at risk is right in any safeguarding conversation that sends it
    where its label does (the team's channel, or privately about a colleague)."""
    if example.label == QUESTION:
        return "right" if reading.topic else ("asked" if reading.start is None else "wrong")
    if example.label == NONE:
        return "right" if reading.start is None and not reading.topic else "wrong"
    if reading.start is None:
        return "asked"
    if reading.start == example.label:
        return "right"
    labelled = registry.conversations.get(example.label)
    started = registry.conversations[reading.start]
    if (
        example.at_risk
        and labelled is not None
        and safeguarding(labelled)
        and safeguarding(started)
        and labelled.private == started.private
    ):
        return "right"
    return "wrong"
