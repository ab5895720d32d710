"""Runtime settings: everything secret or machine-specific comes from the environment or `.env`."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    data_dir: Path = Field(default=Path("data"), alias="SCHOOLBOT_DATA_DIR")
    database_url: str | None = Field(default=None, alias="DATABASE_URL")
    policy_pack: str = Field(default="default", alias="SCHOOLBOT_POLICY")
    host: str = Field(default="127.0.0.1", alias="SCHOOLBOT_HOST")
    port: int = Field(default=3978, alias="SCHOOLBOT_PORT")
    log_level: str = Field(default="INFO", alias="SCHOOLBOT_LOG_LEVEL")

    max_evidence_bytes: int = Field(default=25 * 1024 * 1024, alias="SCHOOLBOT_MAX_EVIDENCE_BYTES")
    # The scheduler: how often each instance sweeps for due reminders, and how long an
    # instance may hold a message it is sending before another may take it over.
    tick_seconds: float = Field(default=30.0, gt=0, alias="SCHOOLBOT_TICK_SECONDS")
    outbox_lease_seconds: float = Field(default=60.0, gt=0, alias="SCHOOLBOT_OUTBOX_LEASE_SECONDS")
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

    # Microsoft Teams (Azure Bot registration); the names are Bot Framework's own.
    microsoft_app_id: str | None = Field(default=None, alias="MicrosoftAppId")
    microsoft_app_password: SecretStr | None = Field(default=None, alias="MicrosoftAppPassword")
    microsoft_app_type: str = Field(default="MultiTenant", alias="MicrosoftAppType")
    microsoft_app_tenant_id: str | None = Field(default=None, alias="MicrosoftAppTenantId")
    teams_allow_anonymous: bool = Field(default=False, alias="TEAMS_ALLOW_ANONYMOUS")
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

    @field_validator(
        "database_url",
        "public_url",
        "slack_bot_token",
        "slack_signing_secret",
        "slack_app_token",
        "slack_dsl_channel",
        "slack_slt_channel",
        "microsoft_app_id",
        "microsoft_app_password",
        "microsoft_app_tenant_id",
        "teams_dsl_channel",
        "teams_slt_channel",
        "teams_app_domain",
        "teams_openid_metadata_url",
        "teams_token_issuer",
        "teams_login_url",
        "teams_oauth_scope",
        "teams_oauth_url",
        "webhook_secret",
        mode="before",
    )
    @classmethod
    def _empty_means_unset(cls, value: object) -> object:
        """`SLACK_BOT_TOKEN=` or `MicrosoftAppId=` in .env (as in .env.example) means "not configured"."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("teams_allow_anonymous", mode="before")
    @classmethod
    def _empty_means_false(cls, value: object) -> object:
        return False if isinstance(value, str) and not value.strip() else value

    @cached_property
    def resolved_database_url(self) -> str:
        """SQLite under the data directory unless DATABASE_URL names another database."""
        if self.database_url:
            return normalise_database_url(self.database_url)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{(self.data_dir / 'schoolbot.db').resolve()}"

    @property
    def evidence_dir(self) -> Path:
        return self.data_dir / "evidence"


def normalise_database_url(url: str) -> str:
    """Accept the common `postgres://` spellings and use the psycopg 3 driver we install."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url
