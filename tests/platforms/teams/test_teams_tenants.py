"""Only the trust's tenants reach the bot: an activity from any other Microsoft 365 tenant
is refused right after its token is checked (403), before any turn runs or anything is
written. Signed activities over real HTTP to the running server, the fake connector as
the Bot Connector.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from sqlmodel import SQLModel, func, select

from bot.config import Settings
from bot.platforms.teams import tenants
from bot.storage.tables import (
    ConversationRef,
    DialogState,
    IntakeRequest,
    ProcessedDelivery,
)
from tests.fakes.fake_connector import TENANT
from tests.fakes.teams_client import TeamsClient, running_bot

ANOTHER_TRUST = "9f0c2b1e-0000-4000-8000-000000000bad"
WRITTEN_BY_A_TURN: tuple[type[SQLModel], ...] = (
    DialogState,
    IntakeRequest,
    ProcessedDelivery,
    ConversationRef,
)


def rows(teams: TeamsClient) -> dict[str, int]:
    with teams.service.kernel.session() as session:
        return {
            table.__name__: session.exec(select(func.count()).select_from(table)).one()
            for table in WRITTEN_BY_A_TURN
        }


def from_tenant(activity: dict[str, Any], channel_data: Any, conversation: Any) -> dict[str, Any]:
    """The activity as another tenant's Teams would send it (None: the field left out)."""
    if channel_data is None:
        activity["channelData"].pop("tenant", None)
    else:
        activity["channelData"]["tenant"] = {"id": channel_data}
    if conversation is None:
        activity["conversation"].pop("tenantId", None)
    else:
        activity["conversation"]["tenantId"] = conversation
    return activity


@pytest.mark.issue(25, 4)
@pytest.mark.parametrize(
    ("channel_data", "conversation"),
    [
        (ANOTHER_TRUST, ANOTHER_TRUST),  # another organisation's Teams
        (TENANT, ANOTHER_TRUST),  # the two fields disagree
        (ANOTHER_TRUST, TENANT),
        (None, None),  # no tenant at all
        (None, ANOTHER_TRUST),
        (12345, TENANT),  # a tenant field that isn't an id
    ],
)
async def test_an_activity_from_an_unknown_tenant_is_refused_before_any_turn(
    teams, caplog, channel_data, conversation
):
    caplog.set_level(logging.INFO)
    activity = from_tenant(
        teams.activity("mallory", "a pupil sent me a friend request"), channel_data, conversation
    )
    response = await teams.post(activity)
    assert response.status == 403
    assert await response.json() == {"error": "forbidden"}
    # No dialog, no intake record, no duplicate-check row, no stored chat; no reply at all.
    assert rows(teams) == dict.fromkeys(rows(teams), 0)
    assert teams.fake.called() == []
    refused = [r.getMessage() for r in caplog.records if "refused (403)" in r.getMessage()]
    assert len(refused) == 1
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "Mallory" not in logged and "friend request" not in logged

    # The same person's words from the trust's own tenant start a conversation as always.
    assert (await teams.post(teams.activity("mallory", "hello"))).status == 200
    assert rows(teams)["ConversationRef"] == 1  # their chat, remembered


@pytest.mark.issue(25, 4)
async def test_the_refusal_log_line_names_the_tenant_only_when_it_is_an_id(teams, caplog):
    caplog.set_level(logging.INFO)
    await teams.post(from_tenant(teams.activity("mallory", "hi"), ANOTHER_TRUST, None))
    forged = "evil\nINFO fake line"
    await teams.post(from_tenant(teams.activity("mallory", "hi"), forged, None))
    lines = [r.getMessage() for r in caplog.records if "refused (403)" in r.getMessage()]
    assert lines == [
        f"Teams: activity from tenant {ANOTHER_TRUST} refused (403)",
        "Teams: activity from tenant unreadable refused (403)",
    ]


@pytest.mark.issue(25, 4)
async def test_installing_the_app_in_another_tenants_team_is_refused(teams):
    activity = teams.activity("admin", channel="general", kind="installationUpdate")
    activity["action"] = "add"
    response = await teams.post(from_tenant(activity, ANOTHER_TRUST, ANOTHER_TRUST))
    assert response.status == 403
    assert rows(teams) == dict.fromkeys(rows(teams), 0)
    assert teams.fake.called() == []  # no hello posted in their General channel


@pytest.mark.issue(25, 4)
async def test_a_trust_with_two_tenants_lists_both(sqlite_url, clock, tmp_path, fake):
    listed = f"{TENANT}, {ANOTHER_TRUST.upper()}"
    async with running_bot(
        sqlite_url, "dukeries-academy", clock, tmp_path, fake, TEAMS_TENANTS=listed
    ) as teams:
        for tenant in (TENANT, ANOTHER_TRUST):
            activity = from_tenant(teams.activity("amy", "hello"), tenant, tenant)
            assert (await teams.post(activity)).status == 200
        stranger = from_tenant(teams.activity("amy", "hello"), "tenant-0002", "tenant-0002")
        assert (await teams.post(stranger)).status == 403


@pytest.mark.issue(25, 4)
def test_the_allow_list_comes_from_teams_tenants_else_the_apps_own_tenant():
    def allowed(**values: Any) -> frozenset[str]:
        return tenants.TenantAllowList.from_settings(Settings(_env_file=None, **values)).tenants

    assert allowed(MicrosoftAppTenantId="T1") == {"t1"}
    assert allowed(MicrosoftAppTenantId="T1", TEAMS_TENANTS="t2,t3") == {"t2", "t3"}
    assert allowed(TEAMS_TENANTS=" ") == frozenset()
    # Nothing set: a signed bot takes no one (and says so at start); the Emulator takes any.
    nothing = Settings(_env_file=None, TEAMS_TENANTS="", MicrosoftAppTenantId="")
    assert not tenants.TenantAllowList.from_settings(nothing).open_to_any
    assert "every activity is refused" in tenants.status_line(nothing)
    assert tenants.TenantAllowList.from_settings(nothing, anonymous=True).open_to_any
    assert tenants.status_line(Settings(_env_file=None, TEAMS_TENANTS="a,b")) == (
        "Teams: accepts activities from 2 tenants only."
    )
