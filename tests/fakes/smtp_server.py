"""A local SMTP server (aiosmtpd) that keeps what it receives, for the email tests.

It speaks STARTTLS or implicit TLS with a certificate made for the test (the bot trusts it
through SMTP_CA_FILE, as a school would trust its own CA), takes a password (PLAIN) or
an OAuth2 token (XOAUTH2), and can refuse the next few emails with a 4xx, as a
busy server does. A fake OAuth2 token endpoint (client-credentials grant) is here too.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import email
import email.policy
import ipaddress
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.helpers import free_port

USERNAME = "schoolbot@school.example"
PASSWORD = "not-a-real-password"
TOKEN = "test-oauth2-access-token"
CLIENT_ID, CLIENT_SECRET = "test-client", "test-client-secret"


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost: (certificate, key) files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage

    def part(self, subtype: str) -> str:
        """The text of the plain or html part."""
        body = self.message.get_body(preferencelist=(subtype,))
        assert body is not None, f"no text/{subtype} part"
        return body.get_content()


@dataclass
class FakeMailServer:
    folder: Path
    security: str = "starttls"  # or "tls"
    received: list[Received] = field(default_factory=list)
    sign_ins: list[str] = field(default_factory=list)  # the mechanism of each good sign-in
    refuse_next: int = 0  # answer DATA with 451 this many times
    port: int = 0
    ca_file: Path | None = None
    _controller: Controller | None = None

    # --- the handler aiosmtpd calls -----------------------------------------------------

    async def handle_DATA(self, server: SMTP, session: Any, envelope: Any) -> str:
        if self.refuse_next:
            self.refuse_next -= 1
            return "451 4.3.0 Busy, try again later"
        parsed = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 2.0.0 Queued"

    async def auth_XOAUTH2(self, server: SMTP, args: list[str]) -> AuthResult:
        decoded = base64.b64decode(args[1]).decode() if len(args) > 1 else ""
        fields = dict(part.split("=", 1) for part in decoded.split("\x01") if "=" in part)
        good = fields.get("user") == USERNAME and fields.get("auth") == f"Bearer {TOKEN}"
        if good:
            self.sign_ins.append("XOAUTH2")
        return AuthResult(success=good, handled=False)

    def _password(
        self, server: SMTP, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        good = isinstance(data, LoginPassword) and (data.login, data.password) == (
            USERNAME.encode(),
            PASSWORD.encode(),
        )
        if good:
            self.sign_ins.append(mechanism)
        return AuthResult(success=good, handled=False)  # not handled: aiosmtpd answers 535

    # --- starting and stopping ----------------------------------------------------------

    def start(self) -> FakeMailServer:
        cert, key = make_certificate(self.folder)
        self.ca_file = cert
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        self.port = free_port()
        tls = (
            {"ssl_context": context}
            if self.security == "tls"
            else {"tls_context": context, "require_starttls": True}
        )
        self._controller = Controller(
            self,
            hostname="127.0.0.1",
            port=self.port,
            authenticator=self._password,
            # aiosmtpd only counts STARTTLS as encrypted; implicit TLS is encrypted already.
            auth_require_tls=self.security != "tls",
            auth_exclude_mechanism=["LOGIN"],  # PLAIN and XOAUTH2: each sign-in counted once
            **tls,
        )
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def settings(self, **more: str) -> dict[str, str]:
        """The bot's SMTP_ settings for this server, by their environment names."""
        assert self.ca_file is not None
        return {
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(self.port),
            "SMTP_SECURITY": self.security,
            "SMTP_USERNAME": USERNAME,
            "SMTP_PASSWORD": PASSWORD,
            "SMTP_FROM": "schoolbot@school.example",
            "SMTP_CA_FILE": str(self.ca_file),
            **more,
        }

    async def wait_for(self, count: int, timeout: float = 10) -> list[Received]:
        async with asyncio.timeout(timeout):
            while len(self.received) < count:
                await asyncio.sleep(0.02)
        return self.received


@dataclass
class FakeTokenEndpoint:
    """An OAuth2 token endpoint for the client-credentials grant."""

    requests: list[dict[str, str]] = field(default_factory=list)
    server: TestServer | None = None

    async def _token(self, request: web.Request) -> web.Response:
        form = dict(await request.post())
        self.requests.append({k: str(v) for k, v in form.items()})
        if (form.get("client_id"), form.get("client_secret")) != (CLIENT_ID, CLIENT_SECRET):
            return web.json_response({"error": "invalid_client"}, status=401)
        return web.json_response(
            {"access_token": TOKEN, "token_type": "Bearer", "expires_in": 3599}
        )

    async def start(self) -> FakeTokenEndpoint:
        app = web.Application()
        app.router.add_post("/token", self._token)
        self.server = TestServer(app)
        await self.server.start_server()
        return self

    @property
    def url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("/token"))

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()
