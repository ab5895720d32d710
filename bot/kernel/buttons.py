"""The one button payload: what a button acts on, encoded once and decoded once.

On the wire (a Slack button value, a Teams card's data) it stays the string the bot has
always sent, so buttons on messages posted before an upgrade keep working:
"FR-0001" (a case), "AC-0003:1" (stage 1 of an approval), "CM-0012" (a comment), "all".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_REF = re.compile(r"[A-Za-z0-9-]{1,20}")


@dataclass(frozen=True)
class ButtonTarget:
    ref: str
    stage: int | None = None

    def encode(self) -> str:
        return self.ref if self.stage is None else f"{self.ref}:{self.stage}"

    @classmethod
    def decode(cls, value: str) -> ButtonTarget | None:
        """None for anything this bot never sent (forged or mangled values)."""
        ref, colon, stage = value.partition(":")
        if not _REF.fullmatch(ref):
            return None
        if not colon:
            return cls(ref)
        # ASCII digits, and few: "²".isdigit() is True but int("²") raises, and int() of
        # thousands of digits raises too (a forged Teams card can carry anything).
        if not (len(stage) <= 3 and stage.isascii() and stage.isdigit()):
            return None
        return cls(ref, int(stage))
