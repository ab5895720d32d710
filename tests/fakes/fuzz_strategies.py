"""Hypothesis strategies for what each inbound door may be sent: the right shapes, the
right shapes with wrong types in any field, and garbage. Shared by the property tests
(tests/intake/test_fuzz_doors.py) and the longer run in bench/fuzz_bench.py.

Request-body text carries MARKER in the free-text fields, so a test can check that no
body reaches the log. URLs the bot would fetch (files, serviceUrl) are only ever the
local fakes' or not URLs at all, so nothing leaves the machine.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from hypothesis import strategies as st

from bot.features import build_registry
from bot.platforms.slack.blocks import CHOICE_PREFIX

MARKER = "ZQX-marker-7731"
ODD = ["²", "①", "\x00", "", " ", "0", "-1", "99999999999999999999", "AC-0001:²", "CM-²"]
REFS = ["FR-0001", "AC-0001:0", "AC-0001:²", "CM-1", "CM-99999999999999999999", "CM-²"]
ACTIONS = [*build_registry().buttons, f"{CHOICE_PREFIX}0", "case.unknown"]

short = st.text(max_size=12)
odd_text = st.one_of(short, st.sampled_from(ODD))
free_text = st.one_of(
    odd_text,
    st.sampled_from(["friend request", "new official account", "1", "yes", "no", "help"]),
    st.just(f"friend request {MARKER}"),
    st.builds(lambda t: f"{t} {MARKER}\x00", short),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    odd_text,
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(short, inner, max_size=3)),
    max_leaves=8,
)


def maybe(right: st.SearchStrategy[Any], odds: int = 3) -> st.SearchStrategy[Any]:
    """The right shape `odds` times in `odds + 1`, any JSON value otherwise."""
    right_shape = st.sampled_from([True] * odds + [False])  # one_of would merge the copies
    return right_shape.flatmap(lambda ok: right if ok else json_values)


def record(required: dict[str, Any], optional: dict[str, Any]) -> st.SearchStrategy[Any]:
    """A JSON object: sometimes not one; each field sometimes of the wrong type."""
    return maybe(
        st.fixed_dictionaries(
            {k: maybe(v, 12) for k, v in required.items()},
            optional={k: maybe(v, 12) for k, v in optional.items()},
        )
    )


# --- Slack ---------------------------------------------------------------------------------

users = st.sampled_from(["UF1", "UF2", "UF3"])


def slack_files(file_url: str) -> st.SearchStrategy[Any]:
    return st.lists(
        st.fixed_dictionaries(
            {"name": odd_text, "mimetype": st.sampled_from(["image/png", "text/html", "x/y"])},
            optional={"url_private_download": st.sampled_from([file_url, "not a url", ""])},
        ),
        max_size=2,
    )


def slack_event(file_url: str) -> st.SearchStrategy[Any]:
    event = record(
        {
            "type": st.sampled_from(["message", "message", "app_home_opened", "reaction_added"]),
            "channel_type": st.sampled_from(["im", "im", "channel"]),
            "user": users,
            "channel": st.sampled_from(["DUF1", "CDSL"]),
            "text": free_text,
        },
        {
            "subtype": st.sampled_from(["file_share", "message_changed", "bot_message"]),
            "bot_id": short,
            "tab": st.sampled_from(["home", "messages"]),
            "files": slack_files(file_url),
            "ts": st.sampled_from(["1.0", "2.5"]),
        },
    )
    envelope = record(
        {
            "type": st.sampled_from(["event_callback"] * 4 + ["url_verification", "other"]),
            "event_id": st.text(min_size=1, max_size=10),
            "event": event,
        },
        {"team_id": st.just("T1"), "challenge": short},
    )
    return envelope.map(lambda body: json.dumps(body))


def slack_interaction() -> st.SearchStrategy[str]:
    action = record({"action_id": st.sampled_from(ACTIONS)}, {"value": st.sampled_from(REFS)})
    view = record(
        {"type": st.just("modal")},
        {
            "callback_id": st.sampled_from(["schoolbot_reason", "other"]),
            "private_metadata": st.one_of(
                st.sampled_from(["not json", "{}", "[1]", '{"action": "case.note"}']),
                st.builds(
                    lambda a, v: json.dumps({"action": a, "value": v, "channel": "CDSL"}),
                    st.sampled_from(ACTIONS),
                    st.sampled_from(REFS),
                ),
            ),
            "state": st.just({"values": {"reason": {"text": {"value": f"a note {MARKER}"}}}}),
        },
    )
    payload = record(
        {
            "type": st.sampled_from(["block_actions", "view_submission", "shortcut"]),
            "user": record({"id": users}, {}),
        },
        {
            "trigger_id": short,
            "callback_id": st.just("schoolbot_start"),
            "channel": record({"id": st.sampled_from(["DUF1", "CDSL", ""])}, {}),
            "actions": st.lists(action, max_size=2),
            "view": view,
            "message": st.just({"ts": "1.1"}),
        },
    )
    return payload.map(lambda p: urlencode({"payload": json.dumps(p)}))


def slack_command() -> st.SearchStrategy[str]:
    fields = st.fixed_dictionaries(
        {"command": st.sampled_from(["/socialmedia", "/other"])},
        optional={"user_id": users, "text": free_text, "team_id": st.just("T1")},
    )
    return fields.map(urlencode)


# --- Teams -----------------------------------------------------------------------------


def teams_activity(service_url: str, app_id: str, tenant: str) -> st.SearchStrategy[Any]:
    person = record(
        {"id": st.sampled_from(["29:fz1", "29:fz2"])},
        {"name": st.just(f"Fuzz {MARKER}"), "aadObjectId": st.sampled_from(["aad-fz1", ""])},
    )
    conversation = record(
        {"id": st.sampled_from(["a:personal-fz1", "19:dsl@thread.tacv2"])},
        {
            "conversationType": st.sampled_from(["personal", "channel", "groupChat"]),
            "tenantId": st.just(tenant),
        },
    )
    value = record(
        {"schoolbot": st.sampled_from(["choice", "action", "other"])},
        {
            "action": st.sampled_from(ACTIONS),
            "value": st.sampled_from(REFS + ODD),
            "step": short,
            "text": free_text,
        },
    )
    kinds = ["message"] * 4 + ["invoke", "conversationUpdate", "installationUpdate", "typing"]
    return record(
        {
            "type": st.sampled_from(kinds),
            # Only the fake connector, or not a URL: a reply must never leave the machine.
            "serviceUrl": st.sampled_from([service_url] * 6 + ["", "not a url"]),
            "channelId": st.just("msteams"),
            "from": person,
            "recipient": st.just({"id": f"28:{app_id}", "name": "schoolbot"}),
            "conversation": conversation,
        },
        {
            "id": short,
            "text": free_text,
            "value": value,
            "name": st.sampled_from(
                ["adaptiveCard/action", "task/fetch", "composeExtension/query"]
            ),
            "channelData": st.just({"tenant": {"id": tenant}}),
            "membersAdded": st.lists(person, max_size=2),
            "action": st.sampled_from(["add", "remove"]),
            "attachments": st.sampled_from(
                [[], [{"contentType": "text/html", "content": "<p>hi</p>"}], [{"x": 1}]]
            ),
        },
    )


# --- the comment webhook -----------------------------------------------------------------


def comment(account: str) -> st.SearchStrategy[Any]:
    return record(
        {
            "account": st.sampled_from([account, 1, "1", "²", 2**63, "No Such Blog"]),
            "author_type": st.sampled_from(["parent", "pupil", "public", "press", "robot"]),
            "text": free_text,
        },
        {
            "link": st.sampled_from(["https://blog.example.org/p#c", "ftp://x", ""]),
            "received_at": st.sampled_from(
                [
                    "2026-11-21T14:30:00Z",
                    "0001-01-01T00:00:00+05:00",
                    "9999-12-31T23:59:59-05:00",
                    "2026-11-21T14:30:00",
                    "yesterday",
                ]
            ),
            "offensive": st.booleans(),
            "complaint": st.booleans(),
            "id": st.text(max_size=4),
        },
    )
