"""What enters the bot from a person, and what one turn gives back.

Every platform (terminal, Slack, Teams, the web workspace) builds one of these instead of
calling with a row of positional arguments, and reads the turn's status from the result,
never from its reply text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from bot.domain.evidence import EvidenceFile
from bot.domain.messages import Message


@dataclass(frozen=True)
class StaffMessage:
    """Words (and perhaps files) a member of staff sent.

    - `answering`: the question a choice button belonged to (None for typed words);
    - `request_id`: the platform's id for it, so a platform's retry gets no second reply;
    - `intake_id`: its intake record, which keeps the replies in the turn's transaction;
    - `sent_at`: set when it is run again after a crash, so a conversation that has moved
      on since does not take it as the answer to a later question;
    - `files_refused`: some files came with it and were refused (too big, a sign-in page).
    """

    platform: str
    user_id: str
    text: str = ""
    files: tuple[EvidenceFile, ...] = ()
    name: str | None = None
    answering: str | None = None
    request_id: str | None = None
    intake_id: int | None = None
    sent_at: datetime | None = None
    files_refused: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "files", tuple(self.files))  # a list given is kept as given


@dataclass(frozen=True)
class ButtonPress:
    """A record button pressed (a case, an approval, a comment): `text` is what its form
    asked for (a note, an outcome, a reason), `message` the optional words for the
    reporter when a case is closed."""

    platform: str
    user_id: str
    action: str
    value: str
    text: str | None = None
    message: str | None = None
    name: str | None = None
    intake_id: int | None = None


class TurnStatus(StrEnum):
    DONE = "done"  # the turn ran and its state is saved
    REPEAT = "repeat"  # a platform's retry of something already handled: say nothing
    STALE = "stale"  # an answer button from a question already answered
    UNSAVED = "unsaved"  # the database was down or busy: the person should send it again


@dataclass(frozen=True)
class Answered:
    """The question a turn answered (its step id, as its buttons carry it) and what to show
    as the answer, so a platform can close that question's message, however it was
    answered: a button pressed or words typed."""

    step: str
    label: str


@dataclass(frozen=True)
class TurnResult:
    replies: list[Message] = field(default_factory=list)
    status: TurnStatus = TurnStatus.DONE
    answered: Answered | None = None

    @classmethod
    def unsaved(cls, text: str) -> TurnResult:
        return cls([Message(text)], TurnStatus.UNSAVED)

    def to_stored(self) -> dict[str, Any]:
        """As kept on an intake record, so a rerun after a crash only sends the replies."""
        stored: dict[str, Any] = {
            "status": self.status.value,
            "replies": [m.to_dict() for m in self.replies],
        }
        if self.answered is not None:
            stored["answered"] = [self.answered.step, self.answered.label]
        return stored

    @classmethod
    def from_stored(cls, stored: Any) -> TurnResult | None:
        """Read back what `to_stored` wrote; a bare list is a record kept before the status
        was stored (its turn ran, so DONE)."""
        if stored is None:
            return None
        if isinstance(stored, list):
            return cls([Message.from_dict(m) for m in stored])
        answered = stored.get("answered")
        return cls(
            [Message.from_dict(m) for m in stored.get("replies", [])],
            TurnStatus(stored.get("status", TurnStatus.DONE)),
            Answered(*answered) if answered else None,
        )
