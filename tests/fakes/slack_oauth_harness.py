"""Slack installed per school, for tests: our real server in OAuth mode against the fake
Slack, an install followed the way a browser would (without one), and signed events from
any workspace."""

from __future__ import annotations

import html
import json
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer
from cryptography.fernet import Fernet

from bot.app import create_app
from bot.config import Settings
from bot.platforms.slack.adapter import SlackAdapter
from bot.platforms.slack.oauth import install_link
from tests.fakes.fake_slack import FakeSlack
from tests.fakes.fake_slack_oauth import CLIENT_ID, CLIENT_SECRET, Workspace
from tests.fakes.slack_harness import SECRET, Bot, signed_headers
from tests.helpers import make_service, schools_up_to, trust_of

TOKEN_KEYS = [Fernet.generate_key().decode() for _ in range(2)]


def oauth_settings(fake: FakeSlack, data_dir: Path, **more: str) -> Settings:
    return Settings(
        SLACK_CLIENT_ID=CLIENT_ID,
        SLACK_CLIENT_SECRET=CLIENT_SECRET,
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_TOKEN_KEYS=TOKEN_KEYS[0],
        SLACK_API_URL=fake.api_url,
        SLACK_AUTHORIZE_URL=fake.authorize_url,
        SLACK_DSL_CHANNEL="CDSL",
        SLACK_SLT_CHANNEL="CSLT",
        SCHOOLBOT_DATA_DIR=data_dir,
        **more,
    )


@asynccontextmanager
async def oauth_bot(
    url: str, clock: Any, tmp_path: Path, fake: FakeSlack, **more_settings: str
) -> AsyncIterator[Bot]:
    """One instance of our app with Slack installed per school; several may share `url`;
    `more_settings` by their environment names."""
    data_dir = tmp_path / f"instance-{id(object())}"
    service = make_service(url, "dukeries-academy", clock, data_dir / "evidence")
    app = create_app(trust_of(service), oauth_settings(fake, data_dir, **more_settings))
    server = TestServer(app)
    await server.start_server()
    async with aiohttp.ClientSession() as http:
        yield Bot(server, service, fake, http)
    await server.close()
    service.engine.dispose()


def adapter(bot: Bot) -> SlackAdapter:
    return bot.server.app[SlackAdapter.APP_KEY]


async def install(bot: Bot, workspace: Workspace, school: int = 1) -> aiohttp.ClientResponse:
    """Click the install link, approve at the fake Slack, come back with the code: each
    redirect followed as a browser would, carrying bolt's state cookie (set `Secure`, so
    a browser sends it over HTTPS; here it is handed on by hand over plain HTTP)."""
    fake = bot.fake
    # Schools up to that number, as `schoolbot schools add` would have made them.
    schools_up_to(bot.service.engine, school)
    fake.oauth.installing = workspace
    fake.oauth.redirect_url = str(bot.server.make_url("/slack/oauth_redirect"))
    link = install_link(CLIENT_SECRET, school, time.time())
    page = await bot.http.get(bot.server.make_url(link))
    assert page.status == 200, await page.text()
    cookie = page.headers["Set-Cookie"].split(";")[0]
    authorize = html.unescape(
        re.search(r'href="(http[^"]+/oauth/v2/authorize[^"]*)"', await page.text())[1]
    )  # type: ignore[index]
    approved = await bot.http.get(authorize, allow_redirects=False)
    assert approved.status == 302
    return await bot.http.get(
        approved.headers["Location"], headers={"Cookie": cookie}, allow_redirects=False
    )


def event_body(
    workspace: Workspace, event: dict[str, Any], event_id: str, org_wide: bool = False
) -> str:
    """An Events API callback as Slack sends it from `workspace`; an org-wide install's
    `authorizations` name the org and no workspace."""
    body: dict[str, Any] = {
        "type": "event_callback",
        "team_id": workspace.team_id,
        "api_app_id": "A1",
        "event_id": event_id,
        "event_time": 1,
        "event": event,
    }
    if workspace.enterprise_id:
        body["enterprise_id"] = workspace.enterprise_id
        body["authorizations"] = [
            {
                "enterprise_id": workspace.enterprise_id,
                "team_id": None if org_wide else workspace.team_id,
                "user_id": "UBOT",
                "is_bot": True,
                "is_enterprise_install": org_wide,
            }
        ]
    return json.dumps(body)


async def send_event(bot: Bot, body: str) -> aiohttp.ClientResponse:
    headers = signed_headers(body, "application/json")
    return await bot.http.post(bot.server.make_url("/slack/events"), data=body, headers=headers)


async def dm(
    bot: Bot, workspace: Workspace, user: str, text: str, event_id: str, org_wide: bool = False
) -> aiohttp.ClientResponse:
    event = {
        "type": "message",
        "channel_type": "im",
        "user": user,
        "channel": f"D{user}",
        "text": text,
        "ts": "1.0",
    }
    return await send_event(bot, event_body(workspace, event, event_id, org_wide))
