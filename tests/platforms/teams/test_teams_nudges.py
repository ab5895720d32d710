"""Comments awaiting a reply, through Teams end to end: new comment -> DM card -> Replied.

The contacts are Entra object ids ("teams:aad-<name>"); the bot can DM someone once they
have opened a personal chat with it (their conversation reference is stored then).
"""

from __future__ import annotations

from sqlmodel import select

from bot.features.comments.rules import CommentIn
from bot.storage.tables import Comment, Outbox, Reminder
from tests.fakes.teams_client import (
    TeamsClient,
    assert_valid_card,
    cards_in,
    find_submit,
    personal,
    text_of,
)

ACCOUNT = "Dukeries Sport"
LABELS = ["Replied", "Acknowledged publicly", "Offensive: tell SLT", "Snooze 1 hour"]


def stored(teams: TeamsClient) -> Comment:
    with teams.service.kernel.session() as session:
        comment = session.get(Comment, 1)
        assert comment is not None
        return comment


async def new_comment_card(teams: TeamsClient) -> dict:
    """alice and dave open a chat with the bot, a comment is logged, alice gets the card."""
    for user in ("alice", "dave"):
        await teams.say(user, "hello")  # stores the personal-chat reference
    teams.service.outbox.platforms = ("console", "teams")
    teams.service.comments.register_add(
        "cli:admin",
        name=ACCOUNT,
        purpose="Fixtures and results",
        platform="Facebook",
        author="Mr Coach",
        moderators=["Alice", "Dave"],
        contacts=["teams:aad-alice", "teams:aad-dave"],
    )
    before = len(teams.dms("alice"))
    comment, created = teams.service.comments.log_comment(
        CommentIn(account=ACCOUNT, author_type="parent", text="Is the match still on?"),
        "cli",
        "cli:admin",
    )
    assert created and comment.ref == "CM-0001"
    await teams.adapter.sends.flush()
    calls = await teams.fake.wait_for(None, before + 1, conversation=personal("alice"))
    [card] = cards_in(calls[-1])
    assert_valid_card(card)
    return card


async def test_new_comment_card_then_replied_closes_it(teams):
    card = await new_comment_card(teams)
    text = text_of(teams.dms("alice")[-1])
    assert "New comment on Dukeries Sport" in text
    assert "Is the match still on?" not in text  # free text: only at "full" detail
    assert [a["title"] for a in card["actions"]] == LABELS
    for label in LABELS:
        assert find_submit(card, label)["value"] == "CM-0001"
    dave = await teams.fake.wait_for(None, 2, conversation=personal("dave"))
    assert "New comment on Dukeries Sport" in text_of(dave[-1])
    with teams.service.kernel.session() as session:
        rows = session.exec(select(Outbox).where(Outbox.platform == "teams")).all()
        assert sorted((r.target, r.status) for r in rows) == [
            ("aad-alice", "sent"),
            ("aad-dave", "sent"),
        ]

    # bob is not a moderator of the account: refused, nothing changes.
    await teams.say("bob", value=find_submit(card, "Replied"))
    assert "Only the moderators of Dukeries Sport or SLT can do that" in teams.last("bob")
    assert stored(teams).status == "awaiting"

    await teams.say("alice", value=find_submit(card, "Replied"))
    assert "CM-0001 is closed as replied to" in teams.last("alice")
    comment = stored(teams)
    assert comment.status == "replied"
    assert comment.closed_by == "teams:aad-alice"
    with teams.service.kernel.session() as session:
        statuses = {r.kind: r.status for r in session.exec(select(Reminder))}
    assert statuses == {
        "comment.nudge": "cancelled",
        "comment.deadline": "cancelled",
        "comment.escalate": "cancelled",
    }

    # dave presses it later: already closed.
    await teams.say("dave", value=find_submit(card, "Acknowledged publicly"))
    assert "CM-0001 is already closed (replied)" in teams.last("dave")
    assert stored(teams).closed_by == "teams:aad-alice"
