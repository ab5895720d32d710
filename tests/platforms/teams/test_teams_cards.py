"""Every Adaptive Card the Teams adapter can send validates against the 1.5 schema.

The three conversations are walked in every bundled pack (first and last choice at each
question), then every queued alert, update and notice after each case and approval action.
"""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.domain.messages import Button, Choice, Message
from bot.domain.policy import bundled_pack_names
from bot.domain.turns import ButtonPress, StaffMessage
from bot.features.accounts import approvals
from bot.features.cases import cards
from bot.platforms.teams.cards import MAX_BUTTONS, needs_card, render
from bot.storage.tables import Outbox
from tests.fakes.teams_client import assert_valid_card, find_submit
from tests.helpers import DUKERIES_FORM, grant

STARTERS = ["a pupil sent me a friend request", "report abuse", "new official account"]
TEXT_ANSWERS = ["instagram", "yesterday 8pm", "https://example.com/post", "Mean comments"]


def walk(service, user: str, starter: str, pick: int) -> int:
    """Answer until the conversation ends; render and validate every reply."""
    checked = 0
    form = iter(DUKERIES_FORM if "account" in starter else [])
    replies = service.receive(StaffMessage("console", user, starter)).replies
    for turn in range(60):
        for message in replies:
            assert_valid_card(render(message))
            checked += 1
        last = replies[-1]
        if last.choices:
            answer = last.choices[pick if pick == 0 else len(last.choices) - 1].value
        elif last.expects_files:
            answer = "done"
        elif not last.step:
            break
        else:
            answer = next(form, TEXT_ANSWERS[turn % len(TEXT_ANSWERS)])
        replies = service.receive(StaffMessage("console", user, answer)).replies
    return checked


@pytest.mark.parametrize("pack", bundled_pack_names())
def test_every_dialog_prompt_is_a_valid_card(service_factory, pack):
    service = service_factory(pack)
    checked = sum(
        walk(service, f"{pack}-{i}-{pick}", starter, pick)
        for i, starter in enumerate(STARTERS)
        for pick in (0, 1)
    )
    assert checked > 20


@pytest.mark.parametrize("pack", ["dukeries-academy", "default", "harmonize-academy"])
def test_every_alert_update_and_notice_is_a_valid_card(service_factory, pack):
    service = service_factory(pack)
    for role in service.kernel.pack.roles:
        grant(service, "boss", role)
    for line in ["friend request", "1", "no", "instagram", "no", "yes"]:
        service.receive(StaffMessage("console", "alice", line))
    walk(service, "carol", "report abuse", 0)
    walk(service, "req", "new official account", 0)
    service.receive(StaffMessage("console", "req", "yes"))
    for ref in ("FR-0001", "CB-0001"):
        service.press(ButtonPress("console", "boss", cards.CASE_ACK, ref, text=None, name="Boss"))
        service.press(
            ButtonPress("console", "boss", cards.CASE_ASSIGN, ref, text=None, name="Boss")
        )
        service.press(
            ButtonPress("console", "boss", cards.CASE_NOTE, ref, text="Called home", name="Boss")
        )
        service.press(
            ButtonPress("console", "boss", cards.CASE_CLOSE, ref, text="Resolved", name="Boss")
        )
    for stage in range(len(service.kernel.pack.accounts.stages)):
        service.press(
            ButtonPress(
                "console", "boss", approvals.APPROVE, f"AC-0001:{stage}", text=None, name="B"
            )
        )
    with service.kernel.session() as session:
        messages = [Message.from_dict(r.message) for r in session.exec(select(Outbox))]
    assert len(messages) >= 6
    for message in messages:
        assert_valid_card(render(message))


def test_long_choice_lists_become_a_picker_and_text_buttons_ask_for_words():
    message = Message(
        "Which platform?",
        choices=tuple(Choice(f"p{i}", f"Platform {i}") for i in range(MAX_BUTTONS + 2)),
        step="platform",
        buttons=(Button(approvals.REJECT, "Reject", "AC-0001:0", "danger", "Why?"),),
    )
    card = render(message)
    assert_valid_card(card)
    assert find_submit(card, "Platform 6") == {
        "schoolbot": "choice",
        "step": "platform",
        "value": "p6",
    }
    assert find_submit(card, "Reject") == {
        "schoolbot": "action",
        "action": approvals.REJECT,
        "value": "AC-0001:0",
    }
    [show] = [a for a in card["actions"] if a["type"] == "Action.ShowCard"]
    assert show["card"]["body"][0]["isRequired"] is True
    assert not needs_card(Message("Thanks."))
