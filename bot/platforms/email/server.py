"""The school's mail server: connecting (STARTTLS, implicit TLS, or a local relay),
signing in (a password, or OAuth2 with XOAUTH2) and handing over one email.

OAuth2 tokens come from the client-credentials grant (Microsoft 365 and Google Workspace
both offer it for SMTP) and are kept until shortly before they expire. Nothing here logs
an address, a password or a token.
"""

from __future__ import annotations

import ipaddress
import ssl
import time
from dataclasses import dataclass
from email.message import EmailMessage

import aiohttp
import aiosmtplib

from bot.config import Settings

TIMEOUT_SECONDS = 20
DEFAULT_PORTS = {"starttls": 587, "tls": 465, "none": 25}
LOOPBACK_NAMES = {"localhost", "localhost.localdomain"}


class MailProblem(Exception):
    """Why an email could not be handed over, in words safe for a log line."""

    def __init__(self, words: str, *, permanent: bool = False):
        super().__init__(words)
        self.permanent = permanent  # the server refused for good (5xx): retrying won't help


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class MailSettings:
    host: str
    port: int
    security: str  # starttls, tls or none
    sender: str
    username: str | None
    password: str | None
    token_url: str | None
    client_id: str | None
    client_secret: str | None
    scope: str
    ca_file: str | None

    @classmethod
    def from_settings(cls, settings: Settings) -> MailSettings:
        assert settings.smtp_host is not None
        secret = settings.smtp_oauth2_client_secret
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port or DEFAULT_PORTS[settings.smtp_security],
            security=settings.smtp_security,
            sender=settings.smtp_from or settings.smtp_username or "",
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            token_url=settings.smtp_oauth2_token_url,
            client_id=settings.smtp_oauth2_client_id,
            client_secret=secret.get_secret_value() if secret else None,
            scope=settings.smtp_oauth2_scope,
            ca_file=settings.smtp_ca_file,
        )

    @property
    def sign_in(self) -> str:
        """How we sign in, in words: "OAuth2", "password" or "no sign-in"."""
        if self.token_url:
            return "OAuth2"
        return "password" if self.username else "no sign-in"

    def problems(self) -> list[str]:
        """Settings that can't work, each naming what to set."""
        found = []
        if not self.sender:
            found.append("set SMTP_FROM, the address escalation emails come from")
        if self.security == "none" and not is_loopback(self.host):
            found.append("SMTP_SECURITY=none is only for a relay on this machine; use starttls")
        if self.token_url and not (self.username and self.client_id and self.client_secret):
            found.append(
                "OAuth2 needs SMTP_USERNAME (the mailbox), SMTP_OAUTH2_CLIENT_ID and "
                "SMTP_OAUTH2_CLIENT_SECRET"
            )
        if self.username and not self.token_url and not self.password:
            found.append("set SMTP_PASSWORD, or SMTP_OAUTH2_TOKEN_URL for OAuth2")
        return found


class MailServer:
    def __init__(self, settings: MailSettings):
        self.settings = settings
        self._token: tuple[str, float] | None = None  # (access token, when to renew it)

    def _tls(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.settings.ca_file)

    def _client(self) -> aiosmtplib.SMTP:
        s = self.settings
        return aiosmtplib.SMTP(
            hostname=s.host,
            port=s.port,
            use_tls=s.security == "tls",
            start_tls=s.security == "starttls",
            tls_context=self._tls() if s.security != "none" else None,
            timeout=TIMEOUT_SECONDS,
        )

    async def _token_now(self) -> str:
        """An OAuth2 access token (client-credentials grant), fetched again near expiry."""
        if self._token is not None and time.monotonic() < self._token[1]:
            return self._token[0]
        s = self.settings
        assert s.token_url is not None
        form = {
            "grant_type": "client_credentials",
            "client_id": s.client_id or "",
            "client_secret": s.client_secret or "",
            "scope": s.scope,
        }
        timeout = aiohttp.ClientTimeout(total=TIMEOUT_SECONDS)
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout) as http,
                http.post(s.token_url, data=form) as response,
            ):
                body = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise MailProblem(f"couldn't get an OAuth2 token ({type(exc).__name__})") from exc
        token = body.get("access_token") if isinstance(body, dict) else None
        if response.status != 200 or not isinstance(token, str):
            error = body.get("error") if isinstance(body, dict) else None
            raise MailProblem(f"the OAuth2 token was refused ({error or response.status})")
        lifetime = body.get("expires_in")
        seconds = float(lifetime) if isinstance(lifetime, int | float | str) else 3600.0
        self._token = (token, time.monotonic() + max(0.0, float(seconds) - 60))
        return token

    async def _sign_in(self, client: aiosmtplib.SMTP) -> None:
        s = self.settings
        if s.token_url:
            assert s.username is not None
            await client.auth_xoauth2(s.username, await self._token_now())
        elif s.username and s.password:
            await client.login(s.username, s.password)

    async def send(self, email: EmailMessage) -> str:
        """Hand one email over; returns the server's reply. Raises MailProblem."""
        return await self._session(email)

    async def check(self) -> None:
        """Connect and sign in without sending anything. Raises MailProblem."""
        await self._session(None)

    async def _session(self, email: EmailMessage | None) -> str:
        if problems := self.settings.problems():
            raise MailProblem("; ".join(problems))
        client = self._client()
        try:
            async with client:
                await self._sign_in(client)
                if email is None:
                    return ""
                _, reply = await client.send_message(email)
                return reply
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = {r.code for r in exc.recipients}
            raise MailProblem(
                f"the server refused the recipient ({', '.join(map(str, sorted(codes)))})",
                permanent=all(code >= 500 for code in codes),
            ) from exc
        except aiosmtplib.SMTPAuthenticationError as exc:
            raise MailProblem(f"the server refused the sign-in ({exc.code})") from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise MailProblem(
                f"the server answered {exc.code}", permanent=500 <= exc.code < 600
            ) from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            cause = exc.__cause__ or exc.__context__
            detail = type(exc).__name__
            if isinstance(cause, ssl.SSLError):
                detail = f"TLS: {cause.reason or type(cause).__name__}"
            raise MailProblem(f"couldn't reach the mail server ({detail})") from exc
