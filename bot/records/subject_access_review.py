"""What a subject access export holds back for the DPO: free text that may name other
people, and safeguarding records about a child, each with the exemption that may apply.

Free text (a description, a note, a reason) can name a pupil, a parent or their health
without the bot knowing a name is there, so it is never called redacted: it is held, with a
marker in the export, and written to a separate "review before release" file the DPO reads
and decides on. Known names in it are redacted; police reference numbers are masked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from bot.dialogs.declarations import Dialog
from bot.kernel.registry import Registry
from bot.storage.tables import Case

# A staff member's export: a record about a child is the child's information too.
CHILD_RECORD = (
    "Safeguarding record about a child. Withheld from this export for the DPO to decide. "
    "It is information about another person, the child, and often names who raised it: "
    "DPA 2018 Schedule 2 Part 3 paragraph 16 (protection of the rights of others; UK GDPR "
    "Article 15(4)). Where giving it would be likely to cause serious harm to the physical or "
    "mental health of the child or anyone else: DPA 2018 Schedule 3 Part 4 paragraph 19 "
    "(education data, serious harm test). Where it would prejudice a police enquiry: DPA 2018 "
    "Schedule 2 Part 1 paragraph 2 (crime). (The child abuse data exemption, Schedule 3 Part "
    "5 paragraph 21, is for a request made for the child by a parent, not this one.)"
)
ABOUT_THEM = (
    "A concern about this person raised by a colleague (KCSIE Part 4). Not in the export, "
    "so that it cannot alert them during an enquiry: the DPO decides what to disclose and "
    "when. The person who raised it, and any child, are protected by DPA 2018 Schedule 2 "
    "Part 3 paragraph 16; while the police or the LADO are enquiring, by Schedule 2 Part 1 "
    "paragraph 2 (crime)."
)
# A police, crime or incident reference: "Police ref CAD 4521/07DEC", "crime no. 13/998877/26".
_POLICE_REF = re.compile(
    r"(?i)(\b(?:police|crime|incident|cad|urn|occurrence|log)\b[^;\n]{0,30}?)"
    r"(\b[A-Z]{0,4}\d[\w/-]{3,})"
)
POLICE_MASK = "[police reference withheld]"
# Answers whose steps take free words (or files): held for review, never passed as redacted.
FREE_STEPS = {"text", "url", "people"}
# Answers a conversation adds that hold no one's words: when it was sent, what was advised.
KEPT = {"reported_at", "guidance_given"}


def hold_marker(number: int) -> str:
    return f"[held for the DPO's review: R{number}]"


@dataclass
class Passage:
    number: int
    where: str  # e.g. "CB-0001, your answer 'description'"
    written_by: str  # "you", or REDACTED
    text: str


@dataclass
class Withheld:
    record: str
    what: str
    exemption: str


@dataclass
class Review:
    """What the DPO reads before release; `scrub` redacts known names in passages."""

    others: list[str] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)
    withheld: list[Withheld] = field(default_factory=list)

    def hold(self, where: str, written_by: str, value: Any) -> str | None:
        """Keep free text for review; the export shows the marker in its place."""
        if value in (None, "", [], {}):
            return value if value is None else None
        text = mask_police(value if isinstance(value, str) else ", ".join(map(str, value)))
        for passage in self.passages:  # the same words kept in two places: listed once
            if (passage.text, passage.written_by) == (text, written_by):
                return hold_marker(passage.number)
        number = len(self.passages) + 1
        self.passages.append(Passage(number, where, written_by, text))
        return hold_marker(number)

    def withhold(self, record: str, what: str, exemption: str) -> None:
        self.withheld.append(Withheld(record, what, exemption))


def mask_police(text: str) -> str:
    return _POLICE_REF.sub(lambda m: m.group(1) + POLICE_MASK, text)


def about_a_child(case: Case) -> bool:
    """A safeguarding record about a child: owned by the DSL team, about a pupil, raising a
    child's safety, or an allegation that a member of staff harmed or may harm a child."""
    details = case.details or {}
    flags = case.flags or []
    return (
        case.team == "dsl"
        or details.get("target") == "pupil"
        or bool(details.get("safeguarding"))
        or details.get("concern") == "allegation"
        or "danger_now" in flags
        or any(f.startswith("harm:") for f in flags)
    )


Keys = tuple[set[str], set[str]]


def answer_keys(registry: Registry, dialog_name: str) -> Keys:
    """The answer keys of a conversation that are choices, dates or yes/no (kept), and those
    that hold files; every other answer may hold free words."""
    conversation = registry.conversations.get(dialog_name)
    dialog: Dialog | None = conversation.dialog if conversation else None
    steps = dialog.steps if dialog else ()
    return (
        {s.key for s in steps if s.kind not in FREE_STEPS and s.kind != "files"},
        {s.key for s in steps if s.kind == "files"},
    )


def split_answers(
    answers: dict[str, Any],
    keys: Keys,
    review: Review,
    where: str,
    written_by: str,
) -> dict[str, Any]:
    """Choices, dates, yes/no and the bot's own guidance kept; every other text (free
    words, the first message) held for review; files counted (listed on their own)."""
    choices, files = keys
    kept: dict[str, Any] = {}
    for key, value in answers.items():
        if key in files:
            kept[key] = f"{len(value or [])} file(s), listed under evidence"
            continue
        structured = (
            key in choices or key in KEPT or value is None or isinstance(value, (bool, int))
        )
        kept[key] = value if structured else review.hold(f"{where}, '{key}'", written_by, value)
    return kept


def render(review: Review, person: str, school: str, made: str) -> str:
    """The DPO's "review before release" file, as plain text."""
    lines = [
        f"REVIEW BEFORE RELEASE: subject access export for {person}, {school}",
        f"Made {made}. For the Data Protection Officer only: do not send this file to the "
        "person. Decide on each part below, then send the export zip, adding what you release.",
        "",
        f"1. Records withheld from the export ({len(review.withheld)})",
        "",
    ]
    for item in review.withheld:
        lines += [f"{item.record}: {item.what}", f"   Why: {item.exemption}", ""]
    if not review.withheld:
        lines += ["None.", ""]
    lines += [
        f"2. Free text held for review ({len(review.passages)})",
        "",
        "These words may name other people (pupils, parents, colleagues) or their health. "
        "Names schoolbot knows are already shown as redacted and police reference numbers are "
        "masked; names it can't know are not. Release each passage, edited or not, or "
        "withhold it under DPA 2018 Schedule 2 Part 3 paragraph 16.",
        "",
    ]
    for passage in review.passages:
        lines += [f"R{passage.number}. {passage.where} (written by {passage.written_by}):"]
        lines += [f"   {line}" for line in passage.text.splitlines() or [""]]
        lines.append("")
    return "\n".join(lines) + "\n"
