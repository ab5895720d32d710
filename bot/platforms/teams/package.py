"""`schoolbot teams package`: the zip a Teams admin uploads, filled in from our settings.

The app id and the bot id are the Azure Bot's MicrosoftAppId; the public domain goes into
validDomains. The developer's name and links come from settings, by default the school's
name and the pages the bot serves (bot/web/pages.py). Nothing here needs botbuilder.
"""

from __future__ import annotations

import copy
import json
import re
import zipfile
from pathlib import Path
from typing import Any

from bot.config import Settings
from bot.domain.policy import PolicyError, load_pack

SOURCE = Path(__file__).resolve().parents[3] / "manifests" / "teams"
GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$", re.I)
PLACEHOLDER_DOMAIN = "schoolbot.example.org"
NAME_LIMIT = 32  # Teams' manifest schema: developer.name
LINKS = {  # manifest key: (setting, setting's env name, path on our own site)
    "websiteUrl": ("website_url", "SCHOOLBOT_WEBSITE_URL", "/"),
    "privacyUrl": ("privacy_url", "SCHOOLBOT_PRIVACY_URL", "/privacy"),
    "termsOfUseUrl": ("terms_url", "SCHOOLBOT_TERMS_URL", "/terms"),
}


class PackageError(Exception):
    """A setting is missing or wrong; the message says which and where to find it."""


def fill(manifest: dict[str, Any], app_id: str, domain: str) -> dict[str, Any]:
    filled = copy.deepcopy(manifest)
    filled["id"] = app_id
    for bot in filled.get("bots", []):
        bot["botId"] = app_id
    filled["validDomains"] = [domain]
    for key, url in filled["developer"].items():
        if isinstance(url, str) and url.startswith("https://"):
            filled["developer"][key] = url.replace(PLACEHOLDER_DOMAIN, domain)
    return filled


def developer(settings: Settings, domain: str) -> dict[str, str]:
    """The manifest's developer block: from settings, else the school and our own pages."""
    name = (settings.developer_name or "").strip()
    if not name:
        try:
            name = load_pack(settings.policy_pack).school.name
        except PolicyError as exc:
            raise PackageError(
                f"Set SCHOOLBOT_DEVELOPER_NAME, or fix SCHOOLBOT_POLICY: {exc}"
            ) from exc
    if len(name) > NAME_LIMIT:
        raise PackageError(
            f"SCHOOLBOT_DEVELOPER_NAME must be set to a name of at most {NAME_LIMIT} characters "
            f"(Teams' limit); '{name}' is {len(name)}."
        )
    block = {"name": name}
    for key, (field, env, path) in LINKS.items():
        url = (getattr(settings, field) or "").strip() or f"https://{domain}{path}"
        if not url.lower().startswith("https://"):
            raise PackageError(f"{env} must be a link starting with https:// (Teams requires it).")
        block[key] = url
    return block


def build_package(settings: Settings, out: Path, source: Path = SOURCE) -> Path:
    app_id = (settings.microsoft_app_id or "").strip()
    domain = (settings.teams_app_domain or "").strip().lower()
    domain = domain.removeprefix("https://").removeprefix("http://").rstrip("/")
    if not GUID.match(app_id):
        raise PackageError(
            "MicrosoftAppId must be set to the Azure Bot's Microsoft App ID (a GUID, from the "
            "bot's Configuration page in the Azure portal)."
        )
    if not DOMAIN.match(domain):
        raise PackageError(
            "TEAMS_APP_DOMAIN must be set to the public host name the bot is reached at, "
            "e.g. schoolbot.yourschool.org.uk."
        )
    manifest = json.loads((source / "manifest.json").read_text(encoding="utf-8"))
    filled = fill(manifest, app_id, domain)
    filled["developer"] = {**filled["developer"], **developer(settings, domain)}
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(filled, indent=2, ensure_ascii=False))
        for icon in ("color.png", "outline.png"):
            archive.write(source / icon, icon)
    return out
