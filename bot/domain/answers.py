"""Answers to questions about the rules ("can I accept my tutee's mum on facebook?").

A question is read for its topic (the corpus labels each one); the answer is the school's
own rule for each clause of that topic, in the words its pack gives under `[rules]`, each
cited. Where the pack has no words for a topic the bot says so and names who to ask: it
never answers a rules question with words the school's policy does not hold. National
guidance (KCSIE) is the same for every school, so its rules are written here once, and
given only where the pack cites that guidance.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.policy import NATIONAL_GUIDANCE, PolicyPack


@dataclass(frozen=True)
class Topic:
    title: str  # "contact with pupils", read after "what ... says about"
    clauses: tuple[str, ...]  # in the order the answer gives them
    offer: str | None = None  # the conversation to offer, if something has happened
    ask: str = "unsure"  # who to ask if unsure: "unsure" (the pack's contact), "dsl" or "head"


TOPICS: dict[str, Topic] = {
    "pupil_contact": Topic(
        "contact with pupils on personal accounts",
        ("FR-DECLINE", "FR-ANY-SCHOOL", "FR-FAMILY", "FR-DSL", "FR-REDIRECT"),
        "friend_request",
    ),
    "parents": Topic(
        "contact with parents on personal accounts",
        ("FR-PARENT", "FR-PARENT-CONFLICT", "FR-ASK-IT"),
        "friend_request",
    ),
    "former_pupils": Topic(
        "former pupils",
        ("FR-EXPUPIL-KJS", "FR-EXPUPIL-U18", "FR-ANY-SCHOOL"),
        "friend_request",
    ),
    "photos": Topic("photos of pupils", ("X-PHOTOS",), "staff_concern"),
    "speaking": Topic(
        "personal accounts and speaking for the school", ("X-VIEWS", "X-LOGOS"), None
    ),
    "privacy": Topic("privacy settings and hacked accounts", ("X-PRIVACY",), "impersonation"),
    "press": Topic("journalists and the press", ("X-JOURNALIST-STAFF", "MO-JOURNALIST"), "comment"),
    "official_accounts": Topic(
        "official school accounts",
        ("AC-CASE", "AC-APPROVE-ONE", "AC-APPROVE-CHAIN", "AC-TRAINED", "AC-AGE"),
        "account_request",
    ),
    "comments": Topic(
        "comments on official accounts",
        ("MO-24H", "MO-OFFENSIVE", "MO-COMPLAINT"),
        "comment",
    ),
    "worrying": Topic(
        "something worrying about a pupil online",
        ("SG-DANGER", "CB-SAFEGUARD", "SG-UNFINISHED"),
        "cyberbullying",
        ask="dsl",
    ),
    "colleagues": Topic(
        "concerns about staff and breaking the policy",
        ("X-BREACH", "SG-ALLEGATION", "SG-LOW-LEVEL"),
        "staff_concern",
        ask="head",
    ),
    "general": Topic("what the policy covers", ()),
}

# The national guidance's rule, given where a pack cites that guidance for the clause
# and has no words of its own.
NATIONAL_RULES = {
    "SG-DANGER": (
        "If you think a child is in danger right now, call 999, then tell the Designated "
        "Safeguarding Lead in person at once."
    ),
    "SG-UNFINISHED": (
        "If you have any concern about a child's welfare, act on it at once: tell the "
        "Designated Safeguarding Lead today. Don't investigate it yourself, and never copy or "
        "save an image of a pupil that may be nude or sexual."
    ),
    "SG-ALLEGATION": (
        "If you're worried a colleague may have harmed a child or may pose a risk to children, "
        "tell the {head} (or the {chair} if it's about the {head}) the same day. Don't "
        "investigate it or tell the colleague."
    ),
    "SG-LOW-LEVEL": (
        "Conduct that worries you but falls short of that, including a breach of this policy, "
        "is still shared, as a low-level concern. You can report your own mistakes too."
    ),
}


@dataclass(frozen=True)
class Answer:
    text: str
    offer: str | None  # the conversation to offer as a button, if the pack has it


def rule_lines(pack: PolicyPack, topic: Topic) -> list[str]:
    """Each rule of the topic the school's policy holds, in its own words, cited."""
    lines = []
    for clause in topic.clauses:
        if clause not in pack.clauses:
            continue
        words = pack.rules.get(clause)
        if words is None and pack.clauses[clause].startswith(NATIONAL_GUIDANCE):
            words = _national(pack, clause)
        if words:
            lines.append(pack.cited(words, clause))
    return lines


def _national(pack: PolicyPack, clause: str) -> str | None:
    words = NATIONAL_RULES.get(clause)
    if words is None:
        return None
    route = pack.safeguarding.allegation_to
    chair = pack.role_label(route[-1])
    return words.format(head=pack.role_label(route[0]), chair=chair[:1].lower() + chair[1:])


def _who_to_ask(pack: PolicyPack, topic: Topic) -> str:
    if topic.ask == "dsl":
        return f"the {pack.role_label('dsl')}"
    if topic.ask == "head":
        return f"the {pack.role_label(pack.safeguarding.low_level_to[0])}"
    return pack.relationships.unsure_contact


def answer(pack: PolicyPack, topic_key: str) -> Answer:
    topic = TOPICS.get(topic_key, TOPICS["general"])
    ask = _who_to_ask(pack, topic)
    policy = f"the {pack.school.policy_title}"
    lines = rule_lines(pack, topic)
    if not topic.clauses:
        return Answer(
            f"The policy here is {pack.school.name}'s {pack.school.policy_title}. Ask me about pupils or parents contacting you, "
            "former pupils, photos, the press, official accounts or comments, and I'll quote "
            f"what it says. For a copy, ask {ask}.",
            None,
        )
    if not lines:
        return Answer(
            f"I can't quote {policy} on that, so I won't guess. Please ask {ask}.", topic.offer
        )
    rules = "\n".join(f"• {line}" for line in lines)
    return Answer(
        f"Here's what {policy} says about {topic.title}:\n{rules}\nIf you're unsure, ask {ask}.",
        topic.offer,
    )
