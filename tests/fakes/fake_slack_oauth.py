"""The fake Slack's OAuth side: the authorize page, `oauth.v2.access`, and rotating tokens.

As Slack documents it (docs.slack.dev, "Installing with OAuth" and "Token rotation"):
- `GET /oauth/v2/authorize?client_id&scope&state[&redirect_uri]` is where the installer
  approves; Slack then sends the browser to the app's redirect URL with `code` and `state`.
  Here the approval is immediate, for the workspace the test chose (`installing`).
- `oauth.v2.access` takes the app's credentials (HTTP Basic, as slack-sdk sends them) and
  (a wrong id: `invalid_client_id`; a wrong secret: `bad_client_secret`) and either a
  `code` (once; again or unknown: `invalid_code`) or `grant_type=refresh_token`
  with a refresh token (unknown or already used: `invalid_refresh_token`). With rotation
  on, the bot token is `xoxe.xoxb-...`, expires in `expires_in` seconds (Slack: 12 hours)
  and comes with a refresh token; a refresh gives a new token and a new refresh token.
- A token past its expiry is refused with `token_expired`; a revoked one `invalid_auth`.
"""

from __future__ import annotations

import base64
import itertools
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

CLIENT_ID = "1111.2222"
CLIENT_SECRET = "fake-client-secret"


@dataclass(frozen=True)
class Workspace:
    team_id: str
    team_name: str = "School"
    enterprise_id: str | None = None
    org_wide: bool = False  # an Enterprise Grid org-wide install


@dataclass
class Issued:
    workspace: Workspace
    expires_at: float
    revoked: bool = False


@dataclass
class FakeSlackOAuth:
    redirect_url: str = ""  # the app's configured redirect URL
    installing: Workspace = field(default_factory=lambda: Workspace("T1"))
    expires_in: int = 43_200  # what a code exchange grants (Slack: 12 hours)
    refresh_expires_in: int = 43_200  # what a refresh grants
    refreshes: int = 0  # refresh_token grants answered ok
    refused_refreshes: int = 0
    tokens: dict[str, Issued] = field(default_factory=dict)
    _codes: dict[str, Workspace] = field(default_factory=dict)
    _refresh: dict[str, str] = field(default_factory=dict)  # refresh token -> its bot token
    _users: Any = field(default_factory=lambda: itertools.count(1))

    def token_problem(self, token: str) -> str | None:
        """None for a live token we issued; else Slack's error for it."""
        issued = self.tokens.get(token)
        if issued is None or issued.revoked:
            return "invalid_auth"
        if issued.expires_at <= time.time():
            return "token_expired"
        return None

    def workspace_of(self, token: str) -> Workspace | None:
        issued = self.tokens.get(token)
        return issued.workspace if issued else None

    def forget_refresh_tokens(self) -> None:
        """Every refresh token issued so far stops working (`invalid_refresh_token`)."""
        self._refresh.clear()

    def revoke(self, workspace: Workspace) -> None:
        """Uninstalled: every token of that workspace stops working."""
        for issued in self.tokens.values():
            if issued.workspace == workspace:
                issued.revoked = True

    async def authorize(self, request: web.Request) -> web.Response:
        query = request.query
        if query.get("client_id") != CLIENT_ID:
            return web.Response(status=400, text="invalid_client_id")
        code = secrets.token_hex(16)
        self._codes[code] = self.installing
        target = query.get("redirect_uri") or self.redirect_url
        location = target + "?" + urlencode({"code": code, "state": query.get("state", "")})
        raise web.HTTPFound(location)

    def access(self, args: dict[str, Any], authorization: str | None) -> dict[str, Any]:
        """`oauth.v2.access`: a code exchange, or a refresh."""
        given_id, _, given_secret = _basic(authorization).partition(":")
        if given_id != CLIENT_ID:
            return {"ok": False, "error": "invalid_client_id"}
        if given_secret != CLIENT_SECRET:
            return {"ok": False, "error": "bad_client_secret"}
        if args.get("grant_type") == "refresh_token":
            old = self._refresh.pop(str(args.get("refresh_token", "")), None)
            if old is None:
                self.refused_refreshes += 1
                return {"ok": False, "error": "invalid_refresh_token"}
            self.refreshes += 1
            workspace = self.tokens[old].workspace
            return self._grant(workspace, self.refresh_expires_in)
        workspace = self._codes.pop(str(args.get("code", "")), None)
        if workspace is None:
            return {"ok": False, "error": "invalid_code"}
        answer = self._grant(workspace, self.expires_in)
        answer.update(
            scope="chat:write,im:history,im:write,files:read,commands,groups:history",
            bot_user_id="UBOT" + workspace.team_id,
            app_id="A1",
            team=None
            if workspace.org_wide
            else {"id": workspace.team_id, "name": workspace.team_name},
            enterprise={"id": workspace.enterprise_id, "name": "Trust"}
            if workspace.enterprise_id
            else None,
            is_enterprise_install=workspace.org_wide,
            authed_user={"id": f"UINSTALLER{next(self._users)}"},
        )
        return answer

    def _grant(self, workspace: Workspace, expires_in: int) -> dict[str, Any]:
        # Slack's rotating tokens are long: "xoxe.xoxb-" and some 140 characters more.
        token = "xoxe.xoxb-1-" + secrets.token_urlsafe(105)
        refresh = "xoxe-1-" + secrets.token_urlsafe(105)
        self.tokens[token] = Issued(workspace, time.time() + expires_in)
        self._refresh[refresh] = token
        return {
            "ok": True,
            "access_token": token,
            "token_type": "bot",
            "refresh_token": refresh,
            "expires_in": expires_in,
        }

    def auth_test(self, token: str) -> dict[str, Any]:
        workspace = self.workspace_of(token)
        assert workspace is not None
        return {
            "ok": True,
            "user_id": "UBOT" + workspace.team_id,
            "bot_id": "B" + workspace.team_id,
            "team_id": workspace.team_id,
            "enterprise_id": workspace.enterprise_id,
            "is_enterprise_install": workspace.org_wide,
            "team": workspace.team_name,
            "user": "schoolbot",
            "url": "https://example.slack.com/",
        }


def _basic(authorization: str | None) -> str:
    """The `id:secret` of an HTTP Basic header ("" for anything else)."""
    if not authorization or not authorization.startswith("Basic "):
        return ""
    try:
        return base64.b64decode(authorization.removeprefix("Basic ")).decode()
    except ValueError:
        return ""
