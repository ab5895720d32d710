"""The "I've read it" button on the yearly policy reminder (X-ANNUAL).

Anyone sent the reminder may press it: it records who confirmed and when, once a year
each (a second press, or a double click, only thanks them again). The governors' report
counts these rows; nothing names anyone.
"""

from __future__ import annotations

import logging
import re

import sqlalchemy as sa

from bot.domain.messages import Message
from bot.features.yearly import queries as yearly_queries
from bot.kernel.buttons import ButtonTarget
from bot.kernel.registry import ButtonAction, Press
from bot.storage.tables import PolicyRead

log = logging.getLogger(__name__)
ACTION = "policy.read"
LABEL = "I've read it"
_TARGET = re.compile(r"annual-(\d{4})")
UNKNOWN = "Sorry, I don't recognise that reminder. Nothing has changed."


def target(year: int) -> ButtonTarget:
    return ButtonTarget(f"annual-{year}")


def _confirm(press: Press) -> list[Message]:
    match = _TARGET.fullmatch(press.target.ref)
    if match is None:
        return [Message(UNKNOWN)]
    year, actor, session = int(match.group(1)), press.actor, press.session
    earlier = yearly_queries.confirmation(session, actor.platform, actor.user_id, year)
    if earlier is None:
        try:
            with session.begin_nested():
                session.add(
                    PolicyRead(
                        platform=actor.platform,
                        user_id=actor.user_id,
                        year=year,
                        confirmed_at=press.kernel.now(),
                    )
                )
        except sa.exc.IntegrityError:  # a double click: the other press recorded it
            earlier = yearly_queries.confirmation(session, actor.platform, actor.user_id, year)
        else:
            log.info("policy read confirmed for %s", year)
            return [Message(f"Thank you: I've recorded that you have read the policy for {year}.")]
    assert earlier is not None
    day = earlier.confirmed_at.astimezone(press.kernel.clock.zone).strftime("%-d %B %Y")
    return [Message(f"Thank you: you already confirmed you'd read the policy on {day}.")]


READ_IT = ButtonAction(ACTION, _confirm)
