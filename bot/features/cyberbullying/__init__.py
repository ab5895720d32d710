"""Cyberbullying and online abuse, with evidence (CB-* clauses). Files sent with no
conversation in progress start this report."""

import re

from bot.features.cases import opening
from bot.features.cyberbullying.dialog import CYBERBULLYING, KIND
from bot.kernel.registry import Conversation, Registry

INTENT = re.compile(
    r"bull(y|ied|ying)|abus|harass|troll|threat|\bposting about\b|\bposted about\b|"
    r"\bpost(s|ed)? (about|of) me\b|nasty|fake (account|profile)|\bonline about\b|"
    r"\bcomments? about\b|\bhate\b|defam|\bscreenshots?\b|"
    # What may be harming a pupil (SG-HARM-TYPES): asked about, and confirmed, in this report.
    r"\bnudes?\b|semi[- ]?nude|\bnaked\b|sexting|\bgroom|self[- ]?harm|suicid|\bstab|"
    r"\bkill\b|\bknife\b|extremis|radicali|\bwants? to meet (her|him)\b|hurting (him|her)self"
)
VOCABULARY = (
    "bully", "bullied", "bullying", "abuse", "abusive", "harass", "harassed", "harassment",
    "troll", "trolling", "threat", "threatening", "posting", "posted", "nasty", "fake",
    "profile", "comments", "screenshot", "screenshots", "defamatory", "nudes", "grooming",
    "suicide", "extremist", "radicalised",
)  # fmt: skip


def register(registry: Registry) -> None:
    registry.add_case_kind(KIND)
    registry.add_conversation(
        Conversation(
            CYBERBULLYING,
            "Online abuse or cyberbullying",
            opening.finish,
            about=(
                "Staff report abuse aimed at a pupil, a colleague or themselves, with screenshots "
                "as evidence; abuse of a pupil always goes to the DSL as urgent"
            ),
            intent=INTENT,
            vocabulary=VOCABULARY,
            takes_files=True,
            alarm=opening.raise_alarm,
            unfinished_to_dsl=True,
        )
    )
