"""Comments on official accounts that are waiting for a reply (MO-24H and friends).

Which comments go to SLT at once, and the guidance that travels with them, is decided
here; the storage, the reminders and the messages are built on top.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.domain.messages import Guidance
from bot.domain.policy import PolicyPack

AuthorType = Literal["parent", "pupil", "public", "press"]
AUTHOR_LABELS: dict[str, str] = {
    "parent": "A parent or carer",
    "pupil": "A pupil",
    "public": "A member of the public",
    "press": "A journalist or the press",
}
MAX_ACCOUNT_NUMBER = 2**31 - 1  # register numbers fit every database's integer
EARLIEST_YEAR, LATEST_YEAR = 2000, 2100


class CommentIn(BaseModel):
    """One comment as it arrives from chat, the webhook or the CLI, already checked."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    account: int | str = Field(description="The register number or the account's name.")
    author_type: AuthorType
    text: str = Field(min_length=1, max_length=4000)
    link: str | None = Field(default=None, max_length=1000)
    received_at: datetime | None = None
    offensive: bool = False
    complaint: bool = False
    id: str | None = Field(default=None, max_length=100, description="Sender's id, for retries.")

    @field_validator("account", "text", "link", "id", mode="before")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        """U+0000 is no character anyone types, and PostgreSQL can't store it in text."""
        return value.replace("\x00", "") if isinstance(value, str) else value

    @field_validator("account")
    @classmethod
    def _account(cls, value: int | str) -> int | str:
        if isinstance(value, str):
            value = value.strip()
            if not (value.isascii() and value.isdigit()):  # a name (not "²", not "①")
                if not value or len(value) > 200:
                    raise ValueError("must be a register number or an account name")
                return value
            value = int(value[:12])  # longer is out of range anyway
        if not 1 <= value <= MAX_ACCOUNT_NUMBER:
            raise ValueError("is not a register number")
        return value

    @field_validator("received_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("must include a timezone, e.g. 2026-11-21T09:30:00Z")
        try:
            year = value.astimezone(UTC).year
        except OverflowError:  # 0001-01-01 east of Greenwich is before year 1 in UTC
            year = 0
        if not EARLIEST_YEAR <= year <= LATEST_YEAR:
            raise ValueError(f"must be a date between {EARLIEST_YEAR} and {LATEST_YEAR}")
        return value

    @field_validator("id")
    @classmethod
    def _id(cls, value: str | None) -> str | None:
        return value or None  # "" is no id: no duplicate check, nothing stored under it

    @field_validator("link")
    @classmethod
    def _web_link(cls, value: str | None) -> str | None:
        if value and not value.startswith(("https://", "http://")):
            raise ValueError("must start with https://")
        return value or None


def needs_slt_now(author_type: str, *, offensive: bool, complaint: bool) -> bool:
    """MO-OFFENSIVE, MO-COMPLAINT and MO-JOURNALIST: SLT hear at once, not at the deadline."""
    return offensive or complaint or author_type == "press"


def guidance_for(
    pack: PolicyPack, author_type: str, *, offensive: bool, complaint: bool
) -> list[Guidance]:
    """Advice for the moderators, one line per clause the school has (each one cited)."""
    advice: list[Guidance] = []
    if pack.has("MO-24H"):
        advice.append(
            pack.guidance(
                "MO-24H",
                "Reply within the deadline, even if only to say you have seen it and will "
                "come back.",
            )
        )
    elif pack.has("MO-REGULAR"):
        # The policy sets no reply time, only regular monitoring; the deadline is the bot's.
        advice.append(
            pack.guidance(
                "MO-REGULAR",
                "Keep an eye on the account and reply promptly, even if only to say you have "
                "seen it and will come back.",
            )
        )
    if offensive and pack.has("MO-OFFENSIVE"):
        advice.append(
            pack.guidance(
                "MO-OFFENSIVE",
                "Hide or remove the comment if the platform allows, keep a screenshot, "
                "and let SLT know (done for you).",
            )
        )
    if offensive and author_type == "parent" and pack.has("MO-PARENT"):
        advice.append(
            pack.guidance(
                "MO-PARENT",
                "Ask the parent privately to remove the post, invite them in to talk, "
                "and point them to the complaints procedure.",
            )
        )
    if complaint and pack.has("MO-COMPLAINT"):
        agreed_by = pack.comments.complaint_reply_agreed_by
        agree = (
            f" The reply must be agreed by the {pack.role_label(agreed_by)} before it is sent."
            if agreed_by
            else ""
        )
        advice.append(
            pack.guidance(
                "MO-COMPLAINT",
                "Treat it as a complaint under the Complaints Policy, and point them to the "
                "complaints procedure." + agree,
            )
        )
    if author_type == "press" and pack.has("MO-JOURNALIST"):
        advice.append(
            pack.guidance(
                "MO-JOURNALIST",
                "Don't answer a journalist yourself; SLT will reply (they have been told).",
            )
        )
    return advice
