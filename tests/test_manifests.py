"""App manifests validate against the platforms' official JSON schemas (in ../shared)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft7Validator

from bot.channels.slack.adapter import SHORTCUT, SLASH_COMMAND

ROOT = Path(__file__).parents[1]
SCHEMAS = ROOT.parent / "shared" / "schemas"


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture
def slack_schema() -> dict:
    path = SCHEMAS / "slack-manifest" / "manifest.schema.2.0.0.json"
    if not path.exists():
        pytest.skip(f"Slack's manifest schema is not at {path}")
    return load(path)


def test_slack_manifest_is_valid(slack_schema):
    manifest = load(ROOT / "manifests" / "slack" / "manifest.json")
    errors = sorted(Draft7Validator(slack_schema).iter_errors(manifest), key=str)
    assert errors == [], "\n".join(e.message for e in errors)


def test_slack_manifest_matches_the_adapter():
    manifest = load(ROOT / "manifests" / "slack" / "manifest.json")
    features = manifest["features"]
    assert [c["command"] for c in features["slash_commands"]] == [SLASH_COMMAND]
    assert [s["callback_id"] for s in features["shortcuts"]] == [SHORTCUT]
    assert features["app_home"]["home_tab_enabled"] is True
    events = manifest["settings"]["event_subscriptions"]["bot_events"]
    assert {"message.im", "app_home_opened"} <= set(events)
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"chat:write", "im:history", "files:read", "commands"} <= scopes


def test_invalid_manifest_is_caught(slack_schema):
    manifest = load(ROOT / "manifests" / "slack" / "manifest.json")
    manifest["features"]["slash_commands"][0]["command"] = 42
    assert list(Draft7Validator(slack_schema).iter_errors(manifest))
