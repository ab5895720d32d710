"""`schoolbot slack ...` for Slack installed per school, and `schoolbot secrets rotate`."""

from __future__ import annotations

import getpass
import sys
from datetime import UTC, datetime

import click

from bot.cli.common import _settings, trust_work
from bot.platforms.slack import installations
from bot.platforms.slack.token_keys import HOW_TO_MAKE_ONE, TokenKeyProblem, TokenKeys
from bot.storage import repository as repo
from bot.storage.schools import find_school
from bot.storage.scoping import SchoolSession


@click.group()
def slack() -> None:
    """Slack installed per school: connections, Enterprise Grid workspaces, channels. These
    are the trust's routing (which workspace is which school), kept outside any school's
    records: `--school` here names the school a link, workspace or channel is for."""


@slack.command("status")
def slack_status() -> None:
    """Each school's Slack connection: connected, or disconnected and what to do.
    Trust-wide: every school's connection."""
    with trust_work().session() as session:
        for line in installations.status_lines(session):
            click.echo(line)


@slack.command("link")
@click.option("--school", type=int, required=True, help="The school id it installs for.")
@click.option("--days", type=click.IntRange(1, 90), default=14, show_default=True)
def slack_link(school: int, days: int) -> None:
    """Print a school's install link, to send to its Slack admin (signed: it installs for
    that school only, until it expires)."""
    import time

    from bot.platforms.slack.oauth import install_link

    settings = _settings()
    if settings.slack_client_secret is None:
        raise click.ClickException("SLACK_CLIENT_SECRET is not set (see README).")
    path = install_link(settings.slack_client_secret.get_secret_value(), school, time.time(), days)
    base = (settings.public_url or "https://YOUR-HOST").rstrip("/")
    click.echo(f"{base}{path}")
    click.echo(f"It works for {days} days; anyone with it can install Slack for school {school}.")


@slack.command("map")
@click.argument("enterprise_id")
@click.argument("team_id")
@click.option("--school", type=int, required=True, help="The school id the workspace is.")
def slack_map(enterprise_id: str, team_id: str, school: int) -> None:
    """Enterprise Grid: put workspace TEAM_ID of org ENTERPRISE_ID in a school."""
    with trust_work().session() as session:
        _must_exist(session, school)
        installations.map_workspace(session, enterprise_id, team_id, school)
        repo.audit(
            session,
            datetime.now(UTC),
            f"cli:{getpass.getuser()}",
            "slack workspace mapped",
            f"slack:{enterprise_id}:{team_id}",
            school=school,
        )
        session.commit()
    click.echo(f"Workspace {team_id} of {enterprise_id} now belongs to school {school}.")


@slack.command("channels")
@click.option("--school", type=int, required=True)
@click.option("--dsl", default=None, help="The DSL team's channel id (starts with C).")
@click.option("--slt", default=None, help="The SLT's channel id (starts with C).")
def slack_channels(school: int, dsl: str | None, slt: str | None) -> None:
    """Set where a school's DSL and SLT alerts go in its own workspace."""
    with trust_work().session() as session:
        _must_exist(session, school)
        if not installations.set_channels(session, school, dsl, slt):
            raise click.ClickException(f"School {school} has not installed Slack yet.")
        session.commit()
    click.echo(f"School {school}'s alert channels are set.")


def _must_exist(session: SchoolSession, school: int) -> None:
    if find_school(session, str(school)) is None:
        raise click.ClickException(
            f"There is no school {school}. See `schoolbot schools list`, or add it with "
            "`schoolbot schools add`."
        )


@click.group()
def secrets() -> None:
    """The keys stored secrets are encrypted with."""


@secrets.command("rotate")
def secrets_rotate() -> None:
    """Re-encrypt every stored Slack token with the first key of SLACK_TOKEN_KEYS (put a
    new key first, run this, then drop the old one). No token is shown. Trust-wide:
    every school's tokens, in the audited trust scope."""
    settings = _settings()
    if settings.slack_token_keys is None:
        raise click.ClickException(
            f"SLACK_TOKEN_KEYS is not set. Make a key with: {HOW_TO_MAKE_ONE}"
        )
    try:
        keys = TokenKeys.parse(settings.slack_token_keys.get_secret_value())
    except TokenKeyProblem as exc:
        raise click.ClickException(str(exc)) from None
    by, now = f"cli:{getpass.getuser()}", datetime.now(UTC)
    with trust_work().trust_session(
        by, "re-encrypting every school's Slack tokens", now
    ) as session:
        done, already, locked = installations.reseal_all(session, keys)
        repo.audit(
            session,
            now,
            by,
            "secrets rotated",
            "slack_installation",
            re_encrypted=done,
            already=already,
            unreadable_schools=locked,
        )
        session.commit()
    click.echo(f"Re-encrypted {done} Slack token(s) with the first key; {already} already were.")
    if locked:
        click.echo(
            f"Not changed: school(s) {', '.join(map(str, locked))}: no key in SLACK_TOKEN_KEYS "
            "opens their tokens. Put the old key back, or install Slack again there.",
            err=True,
        )
        sys.exit(1)
