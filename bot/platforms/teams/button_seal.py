"""Signed card buttons: each button's data carries its school, sealed with an HMAC.

Teams sends a card's Action.Submit data back as the client holds it, so a person with a
modified client (or a copied card) could change what a button acts on: another case, or
another school's case. Each button's data therefore carries `school` and `sig`, an
HMAC-SHA256 (stdlib `hmac`, the scheme the comment webhook uses too) over the fields that
say what the button does:

- a record button ("action"): its action, its value (the case or approval) and its school;
- an answer button ("choice"): its step and its school. What it answers with is not
  sealed: the person may type any answer in the chat anyway, and a list's choice is an
  input the card fills in, not part of the card's own data.

The keys are TEAMS_BUTTON_KEYS (comma-separated: the first signs, every one verifies, so a
key can be changed without breaking cards already sent). Unset, one key is derived from
MicrosoftAppPassword, which every instance already shares; changing that password then
retires buttons on older cards, which say so when pressed. With neither (the Emulator on
loopback, or a managed identity), a random key lives as long as the process.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
from dataclasses import dataclass
from enum import Enum
from typing import Any

from bot.config import Settings

log = logging.getLogger(__name__)
SCHOOL, SIG = "school", "sig"
SEALED_FIELDS = {"action": ("action", "value"), "choice": ("step",)}
DOMAIN = "schoolbot/teams-button/v1"  # so a signature made here means nothing elsewhere
DERIVE_LABEL = b"schoolbot teams button key v1"
MAX_SCHOOL = 2**31 - 1  # an INTEGER column's largest value


class Seal(Enum):
    """What a pressed button's data says about itself."""

    UNSIGNED = "unsigned"  # no signature: a card sent before buttons were signed
    FORGED = "forged"  # a signature that none of our keys made, or a changed field


@dataclass(frozen=True)
class ButtonSeal:
    keys: tuple[bytes, ...]

    @classmethod
    def from_settings(cls, settings: Settings) -> ButtonSeal:
        if settings.teams_button_keys is not None:
            given = settings.teams_button_keys.get_secret_value().split(",")
            keys = tuple(k.strip().encode() for k in given if k.strip())
            if keys:
                return cls(keys)
        if settings.microsoft_app_password is not None:
            password = settings.microsoft_app_password.get_secret_value().encode()
            return cls((hmac.new(password, DERIVE_LABEL, hashlib.sha256).digest(),))
        log.warning(
            "Teams: no TEAMS_BUTTON_KEYS or MicrosoftAppPassword to sign card buttons with; "
            "buttons work only on cards this process sent, until it stops"
        )
        return cls((secrets.token_bytes(32),))

    def seal(self, data: dict[str, Any], school: int) -> dict[str, Any]:
        """`data` with its school and the signature over what it does."""
        sealed = {**data, SCHOOL: school}
        sealed[SIG] = _mac(self.keys[0], sealed)
        return sealed

    def school(self, data: dict[str, Any]) -> int | Seal:
        """The school a pressed button's data was sealed for, or why it can't be trusted."""
        given = data.get(SIG)
        if given is None:
            return Seal.FORGED if SCHOOL in data else Seal.UNSIGNED
        school = data.get(SCHOOL)
        if not isinstance(given, str) or not _is_school(school):
            return Seal.FORGED
        if data.get("schoolbot") not in SEALED_FIELDS:
            return Seal.FORGED
        for key in self.keys:
            if hmac.compare_digest(given.encode("utf-8", "replace"), _mac(key, data).encode()):
                return school  # type: ignore[return-value]  # _is_school checked it
        return Seal.FORGED


def status_line(settings: Settings) -> str | None:
    """A line for `schoolbot run` when the buttons' key won't outlive this process."""
    if settings.teams_button_keys is not None or settings.microsoft_app_password is not None:
        return None
    return (
        "Teams: set TEAMS_BUTTON_KEYS (the same on every instance). Without it or an app "
        "password, card buttons work only until this process stops, and only on it."
    )


def _is_school(value: object) -> bool:
    return type(value) is int and 0 < value <= MAX_SCHOOL


def _mac(key: bytes, data: dict[str, Any]) -> str:
    kind = data.get("schoolbot")
    fields = [data.get(name) for name in SEALED_FIELDS.get(str(kind), ())]
    message = json.dumps([DOMAIN, kind, fields, data.get(SCHOOL)], separators=(",", ":"))
    digest = hmac.new(key, message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
