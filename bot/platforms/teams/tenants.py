"""The trust's tenants: an activity from any other Microsoft 365 tenant is refused.

A trust's staff are in its own tenant (rarely two, after a school joins). A multi-tenant
Azure Bot, or an app package passed on, would otherwise let any organisation's Teams talk
to the bot and open conversations in its database. So, right after the token is checked
and before any turn runs, the activity's tenant, as Teams sends it in
`channelData.tenant.id` and in `conversation.tenantId`, must be on TEAMS_TENANTS (or be
MicrosoftAppTenantId when that is unset). Both must be allowed when both are present;
one with neither is refused. The answer is 403 with no reply: Teams shows the sender
nothing (botframework-sdk#4658) and the Bot Connector does not redeliver a 4xx.

With no tenant configured, a signed bot refuses every activity (the start-up line says
why); only the Emulator on loopback (anonymous mode), which sends no tenant, is let in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from botbuilder.schema import Activity

from bot.config import Settings

# Tenant ids are GUIDs; a little wider, but never free text (it goes into a log line).
_LOGGABLE = re.compile(r"[0-9A-Za-z._-]{1,64}")


@dataclass(frozen=True)
class TenantAllowList:
    tenants: frozenset[str]
    open_to_any: bool = False  # anonymous mode with no tenant set: the Emulator

    @classmethod
    def from_settings(cls, settings: Settings, *, anonymous: bool = False) -> TenantAllowList:
        listed = settings.teams_tenants or settings.microsoft_app_tenant_id or ""
        tenants = frozenset(t.strip().lower() for t in listed.split(",") if t.strip())
        return cls(tenants, open_to_any=anonymous and not tenants)

    def admits(self, activity: Activity) -> bool:
        if self.open_to_any:
            return True
        given = tenants_of(activity)
        return bool(given) and all(isinstance(t, str) and t.lower() in self.tenants for t in given)


def tenants_of(activity: Activity) -> list[object]:
    """Every tenant id the activity names (channel data first, then the conversation), as
    sent: a field that is there but isn't a tenant id counts, and fails the check.
    botbuilder-python reads conversation.tenantId under the key "tenantID", so it is
    found among the conversation's unknown keys instead."""
    found: list[object] = []
    data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    if "tenant" in data:
        tenant = data["tenant"]
        found.append(tenant.get("id") if isinstance(tenant, dict) else tenant)
    conversation = activity.conversation
    if conversation is not None:
        extra = getattr(conversation, "additional_properties", None) or {}
        found.append(conversation.tenant_id or extra.get("tenantId"))
    return [t for t in found if t is not None and t != ""]


def loggable(activity: Activity) -> str:
    """The refused tenant for the log: an id, or a word saying it wasn't one."""
    given = tenants_of(activity)
    if not given:
        return "none"
    shown = (t if isinstance(t, str) and _LOGGABLE.fullmatch(t) else "unreadable" for t in given)
    return ",".join(dict.fromkeys(shown))  # each once, in order


def status_line(settings: Settings) -> str:
    """What `schoolbot run` prints about the allow-list."""
    allowed = TenantAllowList.from_settings(settings)
    if not allowed.tenants:
        return (
            "Teams: no tenant is allowed, so every activity is refused. Set TEAMS_TENANTS "
            "(or MicrosoftAppTenantId) to your trust's tenant id."
        )
    count = len(allowed.tenants)
    return f"Teams: accepts activities from {count} tenant{'s' if count > 1 else ''} only."
