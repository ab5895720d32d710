"""Runtime settings: everything secret or machine-specific comes from the environment or `.env`.

`.env` and the data folder are found from one home folder, not from wherever a command is
typed, so `schoolbot roles add` run from another folder still uses the bot's own database.
"""

from __future__ import annotations

import contextlib
import os
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def project_home() -> Path:
    """Where `.env` and `data/` live: SCHOOLBOT_HOME if set, else the clone this code is in.

    Read from the real environment only (the `.env` file is found through it). An install
    that is not a clone, with no SCHOOLBOT_HOME, falls back to the current folder.
    """
    chosen = os.environ.get("SCHOOLBOT_HOME", "").strip()
    if chosen:
        return Path(chosen).expanduser().resolve()
    clone = Path(__file__).resolve().parents[1]
    if (clone / "pyproject.toml").is_file():
        return clone
    return Path.cwd()


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=None, env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    def __init__(self, **values: Any) -> None:
        """Read `<home>/.env` unless told otherwise (`_env_file=None` reads none)."""
        values.setdefault("_env_file", project_home() / ".env")
        super().__init__(**values)

    # A relative SCHOOLBOT_DATA_DIR is taken from the home folder, not the current one.
    data_dir: Path = Field(default=Path("data"), alias="SCHOOLBOT_DATA_DIR", validate_default=True)
    database_url: str | None = Field(default=None, alias="DATABASE_URL")
    # PostgreSQL: the tables' owner, for migrations only; DATABASE_URL is then a role that
    # does not own them, so row-level security keeps schools apart (docs/schools.md).
    database_owner_url: str | None = Field(default=None, alias="DATABASE_OWNER_URL")
    policy_pack: str = Field(default="default", alias="SCHOOLBOT_POLICY")
    host: str = Field(default="127.0.0.1", alias="SCHOOLBOT_HOST")
    port: int = Field(default=3978, alias="SCHOOLBOT_PORT")
    log_level: str = Field(default="INFO", alias="SCHOOLBOT_LOG_LEVEL")
    # "text" (a line for people) or "json" (one JSON object per line, for a log collector).
    log_format: Literal["text", "json"] = Field(default="text", alias="SCHOOLBOT_LOG_FORMAT")
    # A bearer token for GET /metrics (Prometheus); unset turns the metrics off.
    metrics_token: SecretStr | None = Field(default=None, alias="SCHOOLBOT_METRICS_TOKEN")

    max_evidence_bytes: int = Field(default=25 * 1024 * 1024, alias="SCHOOLBOT_MAX_EVIDENCE_BYTES")
    # Evidence files encrypted at rest: base64 keys, comma-separated; the first encrypts,
    # any decrypts (bot/kernel/evidence_keys.py). Unset: files are stored as they came.
    evidence_keys: SecretStr | None = Field(default=None, alias="EVIDENCE_KEYS")
    # Where evidence bytes are kept (bot/kernel/evidence_choice.py): "database" (the default
    # with PostgreSQL: every instance serves them) or "folder" (the default with SQLite).
    evidence_store: Literal["folder", "database"] | None = Field(
        default=None, alias="EVIDENCE_STORE"
    )
    # The folder store's folder (default: <data folder>/evidence), and whether every
    # instance mounts that same folder (required to use a folder with PostgreSQL).
    evidence_folder: Path | None = Field(default=None, alias="EVIDENCE_FOLDER")
    evidence_folder_shared: bool = Field(default=False, alias="EVIDENCE_FOLDER_SHARED")
    # The scheduler: how often each instance sweeps for due reminders, and how long an
    # instance may hold a message it is sending before another may take it over.
    tick_seconds: float = Field(default=30.0, gt=0, alias="SCHOOLBOT_TICK_SECONDS")
    outbox_lease_seconds: float = Field(default=60.0, gt=0, alias="SCHOOLBOT_OUTBOX_LEASE_SECONDS")
    # A once-a-day job (the retention sweep) whose instance stops renewing this is finished
    # by another (bot/dispatch/daily_jobs.py).
    daily_lease_seconds: float = Field(default=300.0, gt=0, alias="SCHOOLBOT_DAILY_LEASE_SECONDS")
    # A request answered but not yet handled when its instance died is run again this long
    # after that instance last renewed it.
    accepted_lease_seconds: float = Field(
        default=120.0, gt=0, alias="SCHOOLBOT_ACCEPTED_LEASE_SECONDS"
    )
    # Where staff reach the web workspace, e.g. https://schoolbot.example.org (unset: off).
    public_url: str | None = Field(default=None, alias="SCHOOLBOT_PUBLIC_URL")
    # Signs POST /hooks/comments (HMAC-SHA256); unset turns the webhook off.
    webhook_secret: SecretStr | None = Field(default=None, alias="SCHOOLBOT_WEBHOOK_SECRET")

    slack_bot_token: SecretStr | None = Field(default=None, alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(default=None, alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(default=None, alias="SLACK_APP_TOKEN")
    slack_dsl_channel: str | None = Field(default=None, alias="SLACK_DSL_CHANNEL")
    slack_slt_channel: str | None = Field(default=None, alias="SLACK_SLT_CHANNEL")
    slack_api_url: str = Field(default="https://slack.com/api/", alias="SLACK_API_URL")
    # One click per school (OAuth): the app's credentials, and the Fernet keys the stored
    # tokens are encrypted with (comma-separated; the first encrypts, any decrypts).
    slack_client_id: str | None = Field(default=None, alias="SLACK_CLIENT_ID")
    slack_client_secret: SecretStr | None = Field(default=None, alias="SLACK_CLIENT_SECRET")
    slack_token_keys: SecretStr | None = Field(default=None, alias="SLACK_TOKEN_KEYS")
    slack_redirect_uri: str | None = Field(default=None, alias="SLACK_REDIRECT_URI")
    slack_authorize_url: str = Field(
        default="https://slack.com/oauth/v2/authorize", alias="SLACK_AUTHORIZE_URL"
    )

    # Microsoft Teams (Azure Bot registration); the names are Bot Framework's own.
    microsoft_app_id: str | None = Field(default=None, alias="MicrosoftAppId")
    microsoft_app_password: SecretStr | None = Field(default=None, alias="MicrosoftAppPassword")
    microsoft_app_type: str = Field(default="MultiTenant", alias="MicrosoftAppType")
    microsoft_app_tenant_id: str | None = Field(default=None, alias="MicrosoftAppTenantId")
    teams_allow_anonymous: bool = Field(default=False, alias="TEAMS_ALLOW_ANONYMOUS")
    # The trust's Microsoft 365 tenant ids, comma-separated (default: MicrosoftAppTenantId):
    # an activity from any other tenant is refused (bot/platforms/teams/tenants.py).
    teams_tenants: str | None = Field(default=None, alias="TEAMS_TENANTS")
    # Keys that sign card buttons, comma-separated; the first signs, any verifies (default:
    # one derived from MicrosoftAppPassword; bot/platforms/teams/button_seal.py).
    teams_button_keys: SecretStr | None = Field(default=None, alias="TEAMS_BUTTON_KEYS")
    teams_dsl_channel: str | None = Field(default=None, alias="TEAMS_DSL_CHANNEL")
    teams_slt_channel: str | None = Field(default=None, alias="TEAMS_SLT_CHANNEL")
    teams_app_domain: str | None = Field(default=None, alias="TEAMS_APP_DOMAIN")
    # Other clouds, and the tests' fake: Bot Framework's configuration keys, unset by default.
    teams_openid_metadata_url: str | None = Field(
        default=None, alias="ToBotFromChannelOpenIdMetadataUrl"
    )
    teams_token_issuer: str | None = Field(default=None, alias="ToBotFromChannelTokenIssuer")
    teams_login_url: str | None = Field(default=None, alias="ToChannelFromBotLoginUrl")
    teams_oauth_scope: str | None = Field(default=None, alias="ToChannelFromBotOAuthScope")
    teams_oauth_url: str | None = Field(default=None, alias="OAuthUrl")
    # The Teams app's "developer" details; unset: the school's name and the pages the bot
    # serves itself at https://TEAMS_APP_DOMAIN/, /privacy and /terms.
    developer_name: str | None = Field(default=None, alias="SCHOOLBOT_DEVELOPER_NAME")
    website_url: str | None = Field(default=None, alias="SCHOOLBOT_WEBSITE_URL")
    privacy_url: str | None = Field(default=None, alias="SCHOOLBOT_PRIVACY_URL")
    terms_url: str | None = Field(default=None, alias="SCHOOLBOT_TERMS_URL")

    # Email for the escalation ladder, through the school's own mail server (unset: off).
    # SMTP_SECURITY: starttls (port 587), tls (implicit TLS, port 465), or none (a relay on
    # this machine only). Sign in with SMTP_USERNAME and SMTP_PASSWORD, or OAuth2 (XOAUTH2)
    # with a token from SMTP_OAUTH2_TOKEN_URL by the client-credentials grant.
    smtp_host: str | None = Field(default=None, alias="SMTP_HOST")
    smtp_port: int | None = Field(default=None, alias="SMTP_PORT")
    smtp_security: Literal["starttls", "tls", "none"] = Field(
        default="starttls", alias="SMTP_SECURITY"
    )
    smtp_username: str | None = Field(default=None, alias="SMTP_USERNAME")
    smtp_password: SecretStr | None = Field(default=None, alias="SMTP_PASSWORD")
    smtp_from: str | None = Field(default=None, alias="SMTP_FROM")
    smtp_oauth2_token_url: str | None = Field(default=None, alias="SMTP_OAUTH2_TOKEN_URL")
    smtp_oauth2_client_id: str | None = Field(default=None, alias="SMTP_OAUTH2_CLIENT_ID")
    smtp_oauth2_client_secret: SecretStr | None = Field(
        default=None, alias="SMTP_OAUTH2_CLIENT_SECRET"
    )
    smtp_oauth2_scope: str = Field(
        default="https://outlook.office365.com/.default", alias="SMTP_OAUTH2_SCOPE"
    )
    # A CA certificate file to trust instead of the system's (a school's own CA).
    smtp_ca_file: str | None = Field(default=None, alias="SMTP_CA_FILE")

    @field_validator(
        "database_url",
        "database_owner_url",
        "public_url",
        "slack_bot_token",
        "slack_signing_secret",
        "slack_app_token",
        "slack_dsl_channel",
        "slack_slt_channel",
        "slack_client_id",
        "slack_client_secret",
        "slack_token_keys",
        "slack_redirect_uri",
        "microsoft_app_id",
        "microsoft_app_password",
        "microsoft_app_tenant_id",
        "teams_tenants",
        "teams_button_keys",
        "teams_dsl_channel",
        "teams_slt_channel",
        "teams_app_domain",
        "teams_openid_metadata_url",
        "teams_token_issuer",
        "teams_login_url",
        "teams_oauth_scope",
        "teams_oauth_url",
        "webhook_secret",
        "metrics_token",
        "smtp_host",
        "smtp_port",
        "smtp_username",
        "smtp_password",
        "smtp_from",
        "smtp_oauth2_token_url",
        "smtp_oauth2_client_id",
        "smtp_oauth2_client_secret",
        "smtp_ca_file",
        "evidence_keys",
        mode="before",
    )
    @classmethod
    def _empty_means_unset(cls, value: object) -> object:
        """`SLACK_BOT_TOKEN=` or `MicrosoftAppId=` in .env (as in .env.example) means "not configured"."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("developer_name", "website_url", "privacy_url", "terms_url", mode="before")
    @classmethod
    def _blank_means_default(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("smtp_security", "smtp_oauth2_scope", mode="before")
    @classmethod
    def _blank_is_default(cls, value: object, info: ValidationInfo) -> object:
        """`SMTP_SECURITY=` in .env means the default; `TLS` and ` tls ` are understood."""
        if isinstance(value, str):
            value = value.strip()
            if info.field_name == "smtp_security":
                value = value.lower()
            if not value:
                field = cls.model_fields[info.field_name or ""]
                return field.default
        return value

    @field_validator("log_format", mode="before")
    @classmethod
    def _format_word(cls, value: object) -> object:
        """`JSON`, ` json ` and an empty value (the default) are all understood."""
        if isinstance(value, str):
            return value.strip().lower() or "text"
        return value

    @field_validator("teams_allow_anonymous", "evidence_folder_shared", mode="before")
    @classmethod
    def _empty_means_false(cls, value: object) -> object:
        return False if isinstance(value, str) and not value.strip() else value

    @field_validator("evidence_store", mode="before")
    @classmethod
    def _store_word(cls, value: object) -> object:
        """`EVIDENCE_STORE=` in .env is the default, as leaving it out is; `Database` too."""
        if isinstance(value, str):
            return value.strip().lower() or None
        return value

    @field_validator("evidence_folder", mode="before")
    @classmethod
    def _empty_folder_means_default(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("policy_pack", mode="after")
    @classmethod
    def _pack_file_from_home(cls, value: str) -> str:
        """A pack given as a relative file path, like the data folder, is in the home folder."""
        path = Path(value).expanduser()
        if path.is_absolute():
            return str(path)
        if path.suffix != ".toml" and len(path.parts) == 1:
            return value  # a bundled pack's name, such as dukeries-academy
        return str(project_home() / path)

    @field_validator("data_dir", mode="after")
    @classmethod
    def _from_home(cls, value: Path) -> Path:
        value = value.expanduser()
        return value if value.is_absolute() else project_home() / value

    @property
    def database_path(self) -> Path | None:
        """The SQLite file, or None when DATABASE_URL names another database."""
        return None if self.database_url else self.data_dir / "schoolbot.db"

    @property
    def migration_url(self) -> str:
        """Who migrates: the tables' owner when DATABASE_OWNER_URL is set, else the bot."""
        if self.database_owner_url:
            return normalise_database_url(self.database_owner_url)
        return self.resolved_database_url

    @cached_property
    def resolved_database_url(self) -> str:
        """SQLite under the data directory unless DATABASE_URL names another database."""
        if self.database_url:
            return normalise_database_url(self.database_url)
        make_private_dir(self.data_dir)
        return f"sqlite:///{self.data_dir.resolve() / 'schoolbot.db'}"

    @property
    def evidence_dir(self) -> Path:
        """The folder store's folder: EVIDENCE_FOLDER (from the home folder if relative)."""
        if self.evidence_folder is None:
            return self.data_dir / "evidence"
        folder = self.evidence_folder.expanduser()
        return folder if folder.is_absolute() else project_home() / folder

    @property
    def env_file(self) -> Path:
        """The `.env` this bot reads its settings from."""
        return project_home() / ".env"


def make_private_dir(path: Path) -> None:
    """Create `path` readable by its owner only (0700), and tighten it if it was looser.

    The data folder holds safeguarding records; no other user on the server may read it.
    """
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if path.stat().st_mode & 0o077:
        with contextlib.suppress(PermissionError):  # not ours to change: leave it be
            path.chmod(0o700)


def normalise_database_url(url: str) -> str:
    """Accept the common `postgres://` spellings and use the psycopg 3 driver we install."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url
