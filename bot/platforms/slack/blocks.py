"""Neutral messages -> Block Kit, built with slack_sdk.models so Slack's limits are checked.

Dialog choices become buttons whose action id starts with "choice:" and whose value is the
answer; record buttons keep their action id (e.g. "case.ack") and value (e.g. "FR-0001").
"""

from __future__ import annotations

import json
import re
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.domain.messages import Choice, Message
from bot.kernel.registry import MENU_STEP

CHOICE_PREFIX = "choice:"
FILES_HINT = "files_hint"  # block id of the "attach files" line, dropped once answered
ANSWER_HINT = "answer_hint"  # block id of "or type another ...", dropped once answered
REASON_MODAL = "schoolbot_reason"
TEXT_LIMIT = 2900  # a section's text may hold 3000 characters


_MENTION = re.compile(r"&lt;@([UW][A-Z0-9]{2,20})&gt;")


def _escape(text: str, people: frozenset[str] = frozenset()) -> str:
    """Slack mrkdwn treats &, < and > specially; text must not become links or @channel.

    User mentions we wrote ourselves ("<@U123>", who acknowledged a case, the people a
    message names in `people`) stay mentions, so Slack shows their name and notifies them.
    """
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    escaped = _MENTION.sub(r"<@\1>", escaped)
    for user in people:
        escaped = escaped.replace(f"&lt;@{user}&gt;", f"<@{user}>")
    return escaped


def _chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def render(message: Message) -> tuple[str, list[dict[str, Any]]]:
    """Return (fallback text, blocks). The fallback text is what notifications show."""
    blocks: list[Block] = []
    if message.title:
        title = message.title[:150]
        blocks.append(HeaderBlock(text=PlainTextObject(text=title, emoji=True)))
    people = frozenset(m.user_id for m in message.mentions)
    body = _escape(message.text, people)
    blocks.append(SectionBlock(text=MarkdownTextObject(text=body[:TEXT_LIMIT] or " ")))
    if message.fields:
        fields = [
            MarkdownTextObject(text=f"*{_escape(k)}*\n{_escape(v, people)[:1900]}")
            for k, v in message.fields
        ]
        for group in _chunks(fields, 10):
            blocks.append(SectionBlock(fields=group))
    elements = [
        ButtonElement(
            text=PlainTextObject(text=c.label[:75]),
            action_id=f"{CHOICE_PREFIX}{message.step or ''}:{i}",
            value=c.value[:2000],
        )
        for i, c in enumerate(message.choices)
    ] + [
        ButtonElement(
            text=PlainTextObject(text=b.label[:75]),
            action_id=b.action,
            value=b.value,
            style=b.style,
        )
        for b in message.buttons
    ]
    for group in _chunks(elements, 25):
        blocks.append(ActionsBlock(elements=group))
    if message.hint and message.choices:
        blocks.append(
            ContextBlock(
                block_id=ANSWER_HINT,
                elements=[MarkdownTextObject(text=_escape(message.hint[:2000]))],
            )
        )
    if message.expects_files:
        blocks.append(
            ContextBlock(
                block_id=FILES_HINT,
                elements=[
                    MarkdownTextObject(
                        text="Attach screenshots or files to a message here, then press Done."
                    )
                ],
            )
        )
    fallback = f"{message.title}: {message.text}" if message.title else message.text
    return fallback[:3000], [b.to_dict() for b in blocks]


ANSWERED = "Answered: {}"
WAS_ANSWERED = "This question was already answered."


def answered(blocks: list[dict[str, Any]], label: str | None) -> list[dict[str, Any]]:
    """A question's message once answered, by a button or in words: its words stay, its
    buttons go, and a line says what the answer was (or, for a stale button, that it had
    already been answered)."""
    kept = [
        b
        for b in blocks
        if b.get("type") != "actions" and b.get("block_id") not in (FILES_HINT, ANSWER_HINT)
    ]
    note = ANSWERED.format(f"*{_escape(label)}*") if label else WAS_ANSWERED
    kept.append(ContextBlock(elements=[MarkdownTextObject(text=note)]).to_dict())
    return kept


def reason_modal(
    prompt: str,
    action: str,
    value: str,
    channel: str | None,
    ts: str | None,
    *,
    also_asks: str | None = None,
    hint: str | None = None,
) -> dict[str, Any]:
    """A modal asking for a reason, a note or an outcome before the action is applied.

    `also_asks` adds an optional second box (block "message"), and `hint` says who will
    read what is typed in each."""
    metadata = json.dumps({"action": action, "value": value, "channel": channel, "ts": ts})
    blocks: list[Block] = []
    if hint:
        blocks.append(ContextBlock(elements=[PlainTextObject(text=hint[:2000])]))
    blocks.append(
        InputBlock(
            block_id="reason",
            label=PlainTextObject(text=prompt[:2000]),
            element=PlainTextInputElement(action_id="text", multiline=True, max_length=2000),
        )
    )
    if also_asks:
        blocks.append(
            InputBlock(
                block_id="message",
                label=PlainTextObject(text=also_asks[:2000]),
                element=PlainTextInputElement(action_id="text", multiline=True, max_length=2000),
                optional=True,
            )
        )
    view = View(
        type="modal",
        callback_id=REASON_MODAL,
        title=PlainTextObject(text=value.split(":")[0][:24]),
        submit=PlainTextObject(text="Save"),
        close=PlainTextObject(text="Cancel"),
        private_metadata=metadata,
        blocks=blocks,
    )
    return view.to_dict()


def home_view(
    lines: list[str], start: list[Choice], cases: Message | None = None
) -> dict[str, Any]:
    """The App Home tab: buttons to start something (answered in the DM), then own cases.
    `cases` carries the buttons under the list (Open in browser, when the workspace is on)."""
    _, buttons = render(
        Message("*Report or request something*", choices=tuple(start), step=MENU_STEP)
    )
    blocks: list[Any] = [*buttons, HeaderBlock(text=PlainTextObject(text="Your cases")).to_dict()]
    text = "\n".join(lines) if lines else "You haven't reported anything yet."
    blocks.append(SectionBlock(text=MarkdownTextObject(text=_escape(text)[:TEXT_LIMIT])).to_dict())
    if cases is not None and cases.buttons:
        blocks.extend(render(Message(" ", buttons=cases.buttons))[1][1:])
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text="You can also just message me, for example "
                    "_a pupil sent me a friend request_. I'll reply in our chat."
                )
            ]
        ).to_dict()
    )
    return View(type="home", blocks=blocks).to_dict()
