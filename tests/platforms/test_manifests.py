"""App manifests validate against the platforms' official JSON schemas (in tests/schemas)."""

from __future__ import annotations

import json
import struct
import zipfile
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner
from jsonschema import Draft4Validator, Draft6Validator, Draft7Validator, validators

from bot.cli import main
from bot.platforms.slack.adapter import SHORTCUT, SLASH_COMMAND
from bot.platforms.teams.channel_words import CHOOSE
from tests.helpers import ROOT, SCHEMAS


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture
def slack_schema() -> dict:
    return load(SCHEMAS / "slack-manifest" / "manifest.schema.2.0.0.json")


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


# --- Microsoft Teams -----------------------------------------------------------------------

TEAMS = ROOT / "manifests" / "teams"
APP_ID = "5b0c9c39-3f2e-4a7c-9d7e-2f1a4b6c8d90"


@pytest.fixture
def teams_schema() -> dict:
    return load(SCHEMAS / "teams-manifest" / "MicrosoftTeams.schema.json")


# Teams' schema says draft-04 but uses draft-06's `const` (e.g. manifestVersion "1.29").
TeamsValidator = validators.extend(Draft4Validator, {"const": Draft6Validator.VALIDATORS["const"]})


def teams_errors(schema: dict, manifest: dict) -> list[str]:
    return [e.message for e in sorted(TeamsValidator(schema).iter_errors(manifest), key=str)]


def png_info(data: bytes) -> tuple[int, int, list[int]]:
    """(width, height, alpha values) of an 8-bit RGBA PNG written without filters."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height, depth, colour = struct.unpack(">IIBB", data[16:26])
    assert (depth, colour) == (8, 6)
    idat, pos = b"", 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        if data[pos + 4 : pos + 8] == b"IDAT":
            idat += data[pos + 8 : pos + 8 + length]
        pos += length + 12
    raw = zlib.decompress(idat)
    stride = width * 4 + 1
    alphas = [raw[r * stride + 1 + c * 4 + 3] for r in range(height) for c in range(width)]
    return width, height, alphas


def test_teams_manifest_is_valid_and_matches_the_adapter(teams_schema):
    manifest = load(TEAMS / "manifest.json")
    assert teams_errors(teams_schema, manifest) == []
    assert manifest["manifestVersion"] == "1.29"
    [bot] = manifest["bots"]
    assert set(bot["scopes"]) == {"personal", "team"} and bot["supportsFiles"] is True
    team_commands = [
        c["title"] for cl in bot["commandLists"] if "team" in cl["scopes"] for c in cl["commands"]
    ]
    assert all(CHOOSE.match(title) for title in team_commands)


def test_invalid_teams_manifest_is_caught(teams_schema):
    manifest = load(TEAMS / "manifest.json")
    manifest["bots"][0]["botId"] = "not-a-guid"
    manifest["manifestVersion"] = "1.16"
    assert len(teams_errors(teams_schema, manifest)) == 2


def test_teams_icons_have_the_required_sizes_and_transparency():
    width, height, alphas = png_info((TEAMS / "color.png").read_bytes())
    assert (width, height) == (192, 192) and set(alphas) == {255}
    width, height, alphas = png_info((TEAMS / "outline.png").read_bytes())
    assert (width, height) == (32, 32) and {0, 255} <= set(alphas)


def test_schoolbot_teams_package_builds_a_valid_zip(teams_schema, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    env = {"MicrosoftAppId": APP_ID, "TEAMS_APP_DOMAIN": "https://bot.school.example.uk/"}
    result = CliRunner().invoke(main, ["teams", "package", "--out", "app.zip"], env=env)
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(tmp_path / "app.zip") as archive:
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(archive.read("manifest.json"))
        assert png_info(archive.read("color.png"))[:2] == (192, 192)
        assert png_info(archive.read("outline.png"))[:2] == (32, 32)
    assert teams_errors(teams_schema, manifest) == []
    assert manifest["id"] == manifest["bots"][0]["botId"] == APP_ID
    assert manifest["validDomains"] == ["bot.school.example.uk"]
    assert manifest["developer"]["privacyUrl"] == "https://bot.school.example.uk/privacy"


def test_teams_package_says_which_setting_is_missing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["teams", "package"], env={"MicrosoftAppId": ""})
    assert result.exit_code != 0
    assert "MicrosoftAppId must be set" in result.output
    assert not (tmp_path / "schoolbot-teams.zip").exists()


@pytest.mark.issue(10, 22)
def test_slack_scopes_are_only_those_the_code_uses():
    """Each scope the manifest asks for has a Web API call or event in bot/ that needs it."""
    needs = {
        "chat:write": ("chat_postMessage", "chat_update"),
        "im:history": ("message.im",),
        "im:write": ("conversations_open",),
        "groups:history": ("conversations_history",),
        "files:read": ("url_private",),
        "commands": ("SLASH_COMMAND",),
    }
    code = "\n".join(
        p.read_text(encoding="utf-8") for p in (ROOT / "bot" / "platforms" / "slack").rglob("*.py")
    )
    manifest = json.loads((ROOT / "manifests" / "slack" / "manifest.json").read_text())
    code += json.dumps(manifest["settings"]["event_subscriptions"])
    for scope in manifest["oauth_config"]["scopes"]["bot"]:
        assert scope in needs, f"{scope}: nothing in bot/ needs it"
        assert any(use in code for use in needs[scope]), scope


@pytest.mark.issue(25, 3)
def test_slack_trust_manifest_is_valid_and_asks_for_the_same_scopes(slack_schema):
    """The app for a trust (installed per school, tokens rotating, Grid org-wide installs)
    differs from the one-school app only where OAuth needs it."""
    trust = load(ROOT / "manifests" / "slack" / "manifest-trust.json")
    errors = sorted(Draft7Validator(slack_schema).iter_errors(trust), key=str)
    assert errors == [], "\n".join(e.message for e in errors)
    one = load(ROOT / "manifests" / "slack" / "manifest.json")
    assert trust["oauth_config"]["scopes"] == one["oauth_config"]["scopes"]
    assert trust["features"] == one["features"]
    settings = trust["settings"]
    assert settings["token_rotation_enabled"] is True
    assert settings["org_deploy_enabled"] is True
    events = set(settings["event_subscriptions"]["bot_events"])
    assert {"app_uninstalled", "tokens_revoked", "message.im", "app_home_opened"} <= events
    assert [u.rsplit("/", 1)[1] for u in trust["oauth_config"]["redirect_urls"]] == [
        "oauth_redirect"
    ]
