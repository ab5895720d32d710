"""Issue 10, points 4 and 9: answer buttons belong to the conversation that showed them,
and the terminal's numbers and labels press what they say.

Slack is driven with signed block_actions (the shape Slack sends for a button on a
message) against the running app; Teams with card submits to /api/messages; the terminal
with ConsoleChat reading a scripted stdin.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from bot.platforms.console.chat import ConsoleChat
from bot.storage import repository as repo
from bot.storage.tables import Comment
from tests.fakes.fake_slack import Call, blocks_text
from tests.fakes.teams_client import cards_in, find_submit
from tests.helpers import (
    CB_ABOUT_ME,
    DEFAULT_REQUEST,
    add_account,
    grant,
    log_comment,
    make_service,
    say,
)

FIRST_QUESTION = "Who sent the request?"
PARENT = "A parent or carer"
PUPIL = "A pupil (at our school or any other school)"
FINISH = ("No", "Instagram", "No", "No")  # family, app, accepted, concerning


def dialog_answers(service: Any, platform: str, user: str) -> dict[str, Any] | None:
    with service.session() as session:
        row = repo.get_dialog(session, platform, user)
        return None if row is None else dict(row.state["answers"])


# --- Slack ----------------------------------------------------------------------------


def slack_button(call: Call, label: str) -> dict[str, Any]:
    return next(
        e
        for b in call.args["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["text"]["text"] == label
    )


async def press_on_message(bot: Any, user: str, call: Call, label: str) -> None:
    """Press `label` on the message `call` posted, with the payload Slack sends for it."""
    button = slack_button(call, label)
    channel, ts = call.response["channel"], call.response["ts"]
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "team_id": "T1"},
        "api_app_id": "A1",
        "token": "verification-token",
        "container": {
            "type": "message",
            "message_ts": ts,
            "channel_id": channel,
            "is_ephemeral": False,
        },
        "trigger_id": "trig",
        "team": {"id": "T1", "domain": "school"},
        "channel": {"id": channel, "name": "directmessage"},
        "message": {
            "type": "message",
            "user": "UBOT",
            "ts": ts,
            "bot_id": "BBOT",
            "text": call.args["text"],
            "blocks": call.args["blocks"],
        },
        "response_url": "https://hooks.slack.com/actions/T1/1/x",
        "actions": [
            {
                "type": "button",
                "block_id": "b1",
                "action_id": button["action_id"],
                "text": button["text"],
                "value": button["value"],
                "action_ts": "1700000001.000001",
            }
        ],
    }
    body = urlencode({"payload": json.dumps(payload)})
    response = await bot.post(body, "application/x-www-form-urlencoded")
    assert response.status == 200


async def test_golive_04_old_slack_button_from_a_finished_report_does_not_answer_the_new_one(
    bot,
):
    dm = "DU1"
    await bot.say("U1", "friend request")
    [first_question] = bot.fake.called("chat.postMessage", channel=dm)
    assert FIRST_QUESTION in blocks_text(first_question)

    # Pressed on the message itself, the question shows the answer and loses its buttons.
    await press_on_message(bot, "U1", first_question, PUPIL)
    [update] = await bot.fake.wait_for("chat.update", channel=dm)
    assert update.args["ts"] == first_question.response["ts"]
    assert update.response["ok"] is True
    assert FIRST_QUESTION in blocks_text(update)
    assert f"Your answer: *{PUPIL}*" in blocks_text(update)
    assert not [b for b in update.args["blocks"] if b["type"] == "actions"]

    await bot.fake.wait_for("chat.postMessage", 2, channel=dm)
    await bot.answer("U1", *FINISH)
    assert "Your reference is FR-0001" in bot.last_dm("U1")

    await bot.say("U1", "friend request")
    assert FIRST_QUESTION in bot.last_dm("U1")
    before = len(bot.fake.called("chat.postMessage", channel=dm))

    # FR-0001's first question, pressed now (an old client, or a scrolled-back phone).
    await press_on_message(bot, "U1", first_question, PARENT)
    await bot.fake.wait_for("chat.postMessage", before + 1, channel=dm)
    reply = bot.last_dm("U1")
    assert "That question has already been answered" in reply
    assert FIRST_QUESTION in reply  # the new report's question, asked again
    assert dialog_answers(bot.service, "slack", "U1") == {}

    # That old message is marked as answered, without claiming what the answer was.
    updates = await bot.fake.wait_for("chat.update", 2, channel=dm)
    assert "already answered" in blocks_text(updates[-1])
    assert PARENT not in blocks_text(updates[-1]).split("already answered")[-1]

    # The new question's own buttons still work.
    await bot.answer("U1", PARENT)
    assert dialog_answers(bot.service, "slack", "U1") == {"sender": "parent"}


async def test_golive_04_slack_button_from_before_conversation_ids_is_stale(bot):
    await bot.say("U5", "friend request")
    last = bot.fake.called("chat.postMessage", channel="DU5")[-1]
    parent = slack_button(last, PARENT)
    # A button posted by the previous version: its action id names only the step.
    legacy = "choice:friend_request.sender:" + parent["action_id"].rsplit(":", 1)[1]
    await bot.click("U5", "DU5", legacy, parent["value"])
    await bot.fake.wait_for("chat.postMessage", 2, channel="DU5")
    assert "That question has already been answered" in bot.last_dm("U5")
    assert dialog_answers(bot.service, "slack", "U5") == {}
    await bot.answer("U5", PARENT)  # the buttons asked again are bound, and work
    assert dialog_answers(bot.service, "slack", "U5") == {"sender": "parent"}


# --- Teams ----------------------------------------------------------------------------


async def test_golive_04_old_teams_card_button_from_a_finished_report_does_not_answer_the_new_one(
    teams,
):
    await teams.say("ana", "friend request")
    [old_card] = cards_in(teams.dms("ana")[-1])
    assert FIRST_QUESTION in json.dumps(old_card)
    await teams.answer("ana", PUPIL, *FINISH)
    assert "Your reference is FR-0001" in teams.last("ana")

    await teams.say("ana", "friend request")
    assert FIRST_QUESTION in teams.last("ana")
    await teams.say("ana", value=find_submit(old_card, PARENT))
    assert "That question has already been answered" in teams.last("ana")
    assert dialog_answers(teams.service, "teams", "aad-ana") == {}

    # A card from before conversation ids (its data names only the step) is stale too.
    legacy = {**find_submit(old_card, PARENT), "step": "friend_request.sender"}
    await teams.say("ana", value=legacy)
    assert "That question has already been answered" in teams.last("ana")
    assert dialog_answers(teams.service, "teams", "aad-ana") == {}

    await teams.answer("ana", PARENT)
    assert dialog_answers(teams.service, "teams", "aad-ana") == {"sender": "parent"}


# --- the terminal -------------------------------------------------------------------


class Script:
    """A scripted stdin (not a terminal): lines typed in order, and in between, callables
    for what happens elsewhere meanwhile (another window, a colleague's click)."""

    def __init__(self, *steps: str | Callable[[], object]):
        self.steps = list(steps)

    def isatty(self) -> bool:
        return False

    def readline(self) -> str:
        while self.steps:
            step = self.steps.pop(0)
            if isinstance(step, str):
                return step + "\n"
            step()
        return ""


def chat(service: Any, user: str, *steps: str | Callable[[], object]) -> str:
    """Run one terminal chat to the end of its script; return what it printed."""
    out = io.StringIO()
    ConsoleChat(service, user, out=out, name=user.title()).run(Script(*steps))  # type: ignore[arg-type]
    return out.getvalue()


def after(output: str, typed: str) -> str:
    """What the chat printed after the last time `typed` was typed."""
    return output.rsplit(f"you> {typed}\n", 1)[1]


def test_golive_04_old_terminal_answer_from_a_finished_report_does_not_answer_the_new_one(
    service_factory,
):
    service = service_factory()
    other_window: list[str] = []

    def finish_and_start_again_elsewhere() -> None:
        other_window.append(
            chat(service, "alice", "1", "no", "instagram", "no", "no", "friend request")
        )

    # This window shows FR-0001's first question; another window finishes that report
    # and starts a new one; then "3" (A parent or carer) is typed here.
    output = chat(service, "alice", "friend request", finish_and_start_again_elsewhere, "3", "3")
    assert "Your reference is FR-0001" in other_window[0]
    assert f"3) {PARENT}" in after(output, "friend request")
    _, stale, fresh = output.split("you> 3\n")
    assert "That question has already been answered" in stale
    assert FIRST_QUESTION in stale  # the new report's question, with its own numbers
    # The second "3" answers the question now on screen: the new report's.
    assert "already been answered" not in fresh
    assert dialog_answers(service, "console", "alice") == {"sender": "parent"}


def test_golive_09_terminal_numbers_are_the_numbers_shown_after_a_report_ends(service_factory):
    service = service_factory()
    grant(service, "dsl1", "dsl")
    # The DSL reports one herself; her team's alert arrives as the report finishes.
    output = chat(service, "dsl1", "friend request", "1", "no", "instagram", "no", "no", "1")
    finished = after(output, "no")
    assert "Your reference is FR-0001" in finished
    assert "1) Acknowledge" in finished  # numbered from 1: no question is open any more
    assert "Acknowledged" in after(output, "1")
    with service.session() as session:
        assert repo.case_by_ref(session, "FR-0001").status == "acknowledged"
    assert dialog_answers(service, "console", "dsl1") is None  # "1" started nothing


def test_golive_09_terminal_button_label_works_while_a_question_is_open(service_factory):
    service = service_factory()
    grant(service, "dsl1", "dsl")

    def colleague_reports() -> None:
        say(service, "alice", "friend request", "1", "no", "instagram", "no", "no")

    # The alert arrives, then the DSL answers her own question (a new question is shown),
    # then types the alert's button label.
    output = chat(service, "dsl1", "friend request", colleague_reports, "", "1", "Acknowledge")
    assert "4) Another young person" in output  # the question's choices, then the alert's:
    assert "5) Acknowledge" in after(output, "")
    assert "Are they a member of your family?" in after(output, "1")
    assert "Acknowledged" in after(output, "Acknowledge")
    with service.session() as session:
        assert repo.case_by_ref(session, "FR-0001").status == "acknowledged"
    assert dialog_answers(service, "console", "dsl1") == {"sender": "current_pupil"}


def test_golive_09_terminal_alert_buttons_have_no_numbers_while_a_typed_answer_is_open(
    service_factory,
):
    service = service_factory()
    grant(service, "dsl1", "dsl")

    def colleague_reports() -> None:
        say(service, "alice", "friend request", "1", "no", "instagram", "no", "no")

    steps = ("friend request", "2", "July 2023", colleague_reports, "", "5")
    output = chat(service, "dsl1", *steps)
    assert "How old are they now?" in after(output, "July 2023")
    shown = after(output, "")
    assert "[Acknowledge]" in shown and ") Acknowledge" not in shown
    assert dialog_answers(service, "console", "dsl1")["age"] == {"age": 5}  # an answer
    with service.session() as session:
        assert repo.case_by_ref(session, "FR-0001").status == "new"  # "5" pressed nothing


def test_golive_09_terminal_label_and_reference_work_for_comments_in_a_later_chat(
    database_url, clock, tmp_path
):
    service = make_service(database_url, "default", clock, tmp_path / "evidence")
    add_account(service)
    log_comment(service)
    first = chat(service, "mo1")  # reads the "new comment" message, and leaves
    assert "CM-0001" in first and "Replied" in first
    later = chat(service, "mo1", "replied cm-0001")  # a new chat: nothing on screen
    assert "CM-0001 is closed as replied to" in after(later, "replied cm-0001")
    with service.session() as session:
        assert session.get(Comment, 1).status == "replied"


def test_golive_09_readme_close_example_works_in_a_later_chat(database_url, clock, tmp_path):
    """On SQLite and PostgreSQL: the earlier alert is found in the stored messages."""
    service = make_service(database_url, "default", clock, tmp_path / "evidence")
    grant(service, "dsl1", "dsl")
    say(service, "alice", "friend request", "1", "no", "instagram", "no", "no")
    assert "Close with outcome" in chat(service, "dsl1")  # the alert, read and left
    later = chat(service, "dsl1", "close FR-0001", "Spoke to the pupil; request declined.")
    assert "Outcome, for the case record" in after(later, "close FR-0001")
    with service.session() as session:
        case = repo.case_by_ref(session, "FR-0001")
        assert case.status == "closed" and "request declined" in (case.outcome or "")


def test_golive_09_stale_reject_says_already_decided_before_asking_for_a_reason(
    service_factory,
):
    service = service_factory()
    grant(service, "head1", "headteacher")
    grant(service, "head2", "headteacher")
    say(service, "req", *DEFAULT_REQUEST)

    def colleague_approves() -> None:
        [approve] = [
            b for m in service.inbox("console", "head2") for b in m.buttons if b.label == "Approve"
        ]
        service.handle_action("console", "head2", approve.action, approve.value, None, "Head2")

    output = chat(service, "head1", "", colleague_approves, "Reject", "Not needed")
    assert "Reject" in after(output, "")
    pressed = after(output, "Reject").split("you> Not needed")[0]
    assert "already been decided" in pressed
    assert "Why are you rejecting it?" not in pressed


async def test_golive_04_old_slack_menu_button_does_not_answer_a_report_in_progress(bot):
    await bot.say("U7", "hello")
    [menu] = bot.fake.called("chat.postMessage", channel="DU7")
    for line in CB_ABOUT_ME[:-1]:  # up to "what happened?", which takes any words
        await bot.say("U7", line)
    before = dialog_answers(bot.service, "slack", "U7")
    await press_on_message(bot, "U7", menu, "A new official account")
    await bot.fake.wait_for("chat.postMessage", len(CB_ABOUT_ME) + 1, channel="DU7")
    assert "That question has already been answered" in bot.last_dm("U7")
    assert dialog_answers(bot.service, "slack", "U7") == before


def test_hardening_04_terminal_unicode_digits_are_an_answer_not_a_crash(service_factory):
    """`²` and `①` pass str.isdigit() but not int(): the terminal must not crash on them."""
    service = service_factory()
    shown = chat(service, "uma", "²", "①", "friend request", "²", "99999999999999999999")
    assert "Traceback" not in shown
    assert "Who sent the request?" in after(shown, "friend request")
    assert "you> 99999999999999999999" in shown


def test_golive_09_a_moderator_who_logs_a_comment_can_press_replied_on_it(service_factory):
    """The person who logs a comment gets no nudge of their own, so their confirmation
    carries the buttons, and `replied CM-0001` works for them as docs/setup.md says."""
    service = service_factory()
    add_account(service)  # mo1 and mo2 moderate it
    shown = chat(
        service, "mo1", "log a comment", "1", "parent", "When is sports day?",
        "yesterday 4pm", "no", "no", "replied CM-0001",
    )  # fmt: skip
    logged = after(shown, "no")
    assert "Logged as CM-0001" in logged and "Replied" in logged
    assert "CM-0001 is closed as replied to" in after(shown, "replied CM-0001")


def test_terminal_label_and_reference_work_for_every_case_kind_and_say_when_they_press_nothing(
    service_factory,
):
    """`close IM-0001` works like `close FR-0001` (the terminal reads any kind's code), and
    a label and reference that press nothing say why instead of showing the menu."""
    service = service_factory()
    grant(service, "head", "headteacher")
    say(service, "alice", "someone has made a fake account pretending to be the school")
    say(
        service, "alice", "The school", "Instagram", "@our_school_fake",
        "It posts our logo and asks parents for bank details", "done", "yes",
    )  # fmt: skip
    assert "IM-0001" in chat(service, "head")  # the alert, read and left
    later = chat(service, "head", "acknowledge im-0001", "acknowledge IM-0001", "close IM-0009")
    assert "you've acknowledged IM-0001" in after(later, "acknowledge im-0001")
    again = after(later, "acknowledge IM-0001")
    assert 'IM-0001\'s alert has no "acknowledge" button now' in again
    assert "Close with outcome" in again.split("you>")[0]
    assert "I can't find an alert about IM-0009" in after(later, "close IM-0009")
    with service.session() as session:
        assert repo.case_by_ref(session, "IM-0001").status == "acknowledged"
