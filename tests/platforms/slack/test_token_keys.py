"""Slack tokens at rest: sealed with the first key, opened by any, bound to their place."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from bot.platforms.slack.token_keys import Binding, TokenKeyProblem, TokenKeys, TokenLocked

pytestmark = pytest.mark.issue(25, 3)
HOME = Binding(1, "", "TA")


def test_a_sealed_token_opens_only_in_its_own_school_and_workspace():
    keys = TokenKeys([Fernet.generate_key().decode()])
    sealed = keys.seal("xoxb-secret", HOME)
    assert "xoxb-secret" not in sealed
    assert keys.open(sealed, HOME) == "xoxb-secret"
    for elsewhere in (Binding(2, "", "TA"), Binding(1, "", "TB"), Binding(1, "E1", "TA")):
        with pytest.raises(TokenLocked):
            keys.open(sealed, elsewhere)


def test_a_new_first_key_still_opens_old_tokens_and_reseals_them():
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    sealed = TokenKeys([old]).seal("xoxb-secret", HOME)
    both = TokenKeys([new, old])
    assert both.open(sealed, HOME) == "xoxb-secret"
    assert not both.sealed_with_first(sealed)
    resealed = both.rotate(sealed)
    assert both.sealed_with_first(resealed)
    assert TokenKeys([new]).open(resealed, HOME) == "xoxb-secret"
    with pytest.raises(TokenLocked):
        TokenKeys([old]).open(resealed, HOME)


def test_a_key_that_is_not_a_fernet_key_is_refused_with_how_to_make_one():
    with pytest.raises(TokenKeyProblem, match=r"Fernet\.generate_key"):
        TokenKeys.parse("not-a-key")
    with pytest.raises(TokenKeyProblem, match="empty"):
        TokenKeys.parse(" , ")
