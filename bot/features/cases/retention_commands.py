"""What the DSL (or the DPO) types to decide about a record's retention (X-RECORD):

    reclassify FR-0001 child because the messages were worrying
    keep CB-0001 5 years because the family court may need it
    dispose CB-0001 because reviewed: nothing more to keep it for

Each needs a reason, which goes in the record's history. The checks are the same as the
command line's (bot/features/cases/retention.py).
"""

from __future__ import annotations

import re

from bot.domain import retention_classes as classes
from bot.domain.cases import Actor
from bot.domain.messages import Message
from bot.features.cases import retention
from bot.kernel.core import Kernel
from bot.kernel.registry import Registry, TextCommand
from bot.storage.scoping import SchoolSession

REF = r"([a-z]{2,4}-[0-9]{1,6})"
BECAUSE = r"\s+(?:because|reason:?|as)\s+(.+)"
RECLASSIFY = re.compile(rf"^reclassify\s+{REF}\s+(?:as\s+)?(.+?){BECAUSE}$", re.I | re.S)
KEEP = re.compile(
    rf"^keep\s+{REF}\s+(?:for\s+)?([0-9]{{1,2}})\s+(?:more\s+)?years?{BECAUSE}$", re.I | re.S
)
DISPOSE = re.compile(rf"^dispose\s+(?:of\s+)?{REF}{BECAUSE}$", re.I | re.S)
STARTS = re.compile(rf"^(reclassify|keep|dispose)\s+(?:of\s+|as\s+)?{REF}\b", re.I)

HOW = {
    "reclassify": (
        "To reclassify a case, type: reclassify FR-0001 child because <your reason>. "
        f"Classes: {', '.join(classes.CASE_CLASSES)}."
    ),
    "keep": "To keep a record longer, type: keep CB-0001 5 years because <your reason>.",
    "dispose": "To dispose of a record after review, type: dispose CB-0001 because <your reason>.",
}


def register(registry: Registry) -> None:
    registry.add_command(TextCommand("retention_decision", _names_a_decision, decide))


def _names_a_decision(registry: Registry, text: str, said: str) -> str | None:
    return text.strip() if STARTS.match(text.strip()) else None


def decide(kernel: Kernel, session: SchoolSession, actor: Actor, text: str) -> list[Message]:
    by = (actor.key, actor.name or actor.user_id)
    verb = text.split(None, 1)[0].lower()
    try:
        if match := RECLASSIFY.match(text):
            ref, to, reason = match.groups()
            said = retention.reclassify(kernel, session, ref, to, reason, by=by, actor=actor)
        elif match := KEEP.match(text):
            ref, years, reason = match.groups()
            said = retention.keep(kernel, session, ref, int(years), reason, by=by, actor=actor)
        elif match := DISPOSE.match(text):
            ref, reason = match.groups()
            said = retention.approve_disposal(kernel, session, ref, reason, by=by, actor=actor)
        else:
            return [Message(f"{HOW[verb]} Nothing has changed.")]
    except retention.RetentionRefused as refusal:
        return [Message(str(refusal))]
    return [Message(said)]
