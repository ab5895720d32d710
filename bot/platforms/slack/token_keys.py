"""The keys Slack tokens are stored under (Fernet from `cryptography`, several at once).

SLACK_TOKEN_KEYS holds one or more Fernet keys separated by commas: the first encrypts,
any of them decrypts (`MultiFernet`), so a key is rotated by putting a new one first and
running `schoolbot secrets rotate`, then dropping the old one.

Each token is sealed together with the school and the workspace it belongs to, and that
is checked when it is opened: a token row copied to another school, or another
workspace's row, does not open.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

HOW_TO_MAKE_ONE = (
    'python3 -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
)


class TokenKeyProblem(ValueError):
    """SLACK_TOKEN_KEYS can't be used; the message says why in a line (never the key)."""


class TokenLocked(Exception):
    """A stored token that doesn't open: a key missing, or it belongs elsewhere."""


@dataclass(frozen=True)
class Binding:
    """Whose token it is: the school and the Slack workspace (or org)."""

    school_id: int
    enterprise_key: str
    team_key: str


class TokenKeys:
    def __init__(self, keys: list[str]):
        try:
            self._fernets = [Fernet(key.encode()) for key in keys]
        except (ValueError, TypeError):
            raise TokenKeyProblem(
                f"SLACK_TOKEN_KEYS: each key must be a Fernet key (make one with: {HOW_TO_MAKE_ONE})."
            ) from None
        if not self._fernets:
            raise TokenKeyProblem("SLACK_TOKEN_KEYS is empty.")
        self._multi = MultiFernet(self._fernets)

    @classmethod
    def parse(cls, text: str) -> TokenKeys:
        return cls([part for part in text.replace(",", " ").split() if part])

    def seal(self, token: str, binding: Binding) -> str:
        payload = {
            "school": binding.school_id,
            "enterprise": binding.enterprise_key,
            "team": binding.team_key,
            "token": token,
        }
        return self._multi.encrypt(json.dumps(payload).encode()).decode()

    def open(self, sealed: str, binding: Binding) -> str:
        """The token, if it opens with one of our keys and is bound to `binding`."""
        try:
            payload = json.loads(self._multi.decrypt(sealed.encode()))
        except (InvalidToken, ValueError):
            raise TokenLocked("a stored Slack token does not open with SLACK_TOKEN_KEYS") from None
        found = (payload.get("school"), payload.get("enterprise"), payload.get("team"))
        if found != (binding.school_id, binding.enterprise_key, binding.team_key):
            raise TokenLocked("a stored Slack token belongs to another school or workspace")
        return str(payload["token"])

    def rotate(self, sealed: str) -> str:
        """The same token sealed with the first key (its binding kept as it is)."""
        try:
            return self._multi.rotate(sealed.encode()).decode()
        except InvalidToken:
            raise TokenLocked("a stored Slack token does not open with SLACK_TOKEN_KEYS") from None

    def sealed_with_first(self, sealed: str) -> bool:
        try:
            self._fernets[0].decrypt(sealed.encode())
        except InvalidToken:
            return False
        return True
