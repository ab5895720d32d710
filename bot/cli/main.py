"""The `schoolbot` command: run the server, chat in the terminal, manage roles and packs."""

from __future__ import annotations

import getpass
import logging
import re
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn

import click
from aiohttp import web

from bot.cli.common import (
    _database_exists,
    _say_if_new_database,
    _settings,
    _trust,
    open_service,
    school_flag,
)
from bot.cli.school_choice import school_option
from bot.config import Settings
from bot.domain.policy import PolicyError, bundled_pack_names, load_pack
from bot.platforms import PLATFORM_NAMES, PLATFORMS
from bot.platforms.email.platform import EMAIL


@click.group()
@click.version_option(package_name="schoolbot", message="%(prog)s %(version)s")
def main() -> None:
    """schoolbot: your school's social media policy, in chat."""


@main.command()
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1).")
@click.option("--port", default=None, type=int, help="Port to listen on (default 3978).")
def run(host: str | None, port: int | None) -> None:
    """Start the bot's web server (migrations run first)."""
    from bot import startup_checks
    from bot.app import RedactingAccessLogger, active_platforms, create_app
    from bot.listener import ListenError, listen
    from bot.records.at_rest import evidence_line, loose_permission_lines, where_lines
    from bot.runtime import configure_logging
    from bot.storage import db

    settings = _settings()
    configure_logging(settings.log_level, settings.log_format)
    say = _sayer(settings)
    loose = loose_permission_lines(settings)  # before the bot tightens a new data folder
    host = host or settings.host
    port = port or settings.port
    try:
        sockets = listen(host, port)  # first: a port in use stops us before anything starts
        trust = _trust(settings)
    except ListenError as exc:
        _stop_with(settings, click.ClickException(str(exc)))
    except click.ClickException as exc:  # the database or the policy pack
        _stop_with(settings, exc)
    service = trust.first
    names = ", ".join(school.kernel.pack.school.name for school in trust.services)
    say(f"schoolbot for {names} on http://{host}:{port} (health: /healthz)")
    modes = dict((platform.name, mode) for platform, mode in active_platforms(settings))
    for platform in PLATFORMS:
        say(platform.status(settings, modes.get(platform.name)))
    say(EMAIL.status(settings, EMAIL.mode(settings)))
    if settings.public_url:
        say(f"Web workspace: {settings.public_url.rstrip('/')}/web/ (sign in from chat).")
    else:
        say("Web workspace: off (set SCHOOLBOT_PUBLIC_URL to turn it on).")
    say(
        "Metrics: /metrics, with the token in SCHOOLBOT_METRICS_TOKEN."
        if settings.metrics_token
        else "Metrics: off (set SCHOOLBOT_METRICS_TOKEN to turn /metrics on)."
    )
    for line in where_lines(service.kernel.evidence, settings):
        say(line)
    say(evidence_line(service.kernel.evidence))
    say(db.isolation_line(service.engine))
    for line in loose:
        say(line)
    for school in trust.services:
        _warn_unfilled_roles(school, say)
    app = create_app(trust, settings)
    startup_checks.mount(app, settings)
    web.run_app(app, sock=sockets, print=None, access_log_class=RedactingAccessLogger)


CHAT_LOG = "chat.log"


@main.command()
@school_option
@click.option("--as", "user", required=True, help="Your user id in the terminal chat.")
@click.option("--name", default=None, help="Display name shown on alerts you act on.")
def chat(user: str, name: str | None) -> None:
    """Talk to the bot in this terminal, using the real conversations and database."""
    from bot.platforms.console.chat import ConsoleChat
    from bot.runtime import configure_logging

    settings = _settings()
    service = open_service()
    # The person chatting reads the bot's words; its log lines go to a file beside the data
    # (the folder made, private, if the database lives elsewhere and it doesn't exist yet).
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    configure_logging(settings.log_level, settings.log_format, to=settings.data_dir / CHAT_LOG)
    ConsoleChat(service, user, name=name).run(sys.stdin)


@main.group()
def policy() -> None:
    """Policy packs."""


@policy.command("check")
@click.argument("file")
def policy_check(file: str) -> None:
    """Validate a policy pack (a TOML file, or a bundled pack's name)."""
    try:
        pack = load_pack(file)
    except PolicyError as exc:
        click.echo(f"{exc.source} is not a valid policy pack:", err=True)
        for problem in exc.problems:
            click.echo(f"  - {problem}", err=True)
        sys.exit(1)
    stages = " -> ".join(pack.role_label(s) for s in pack.accounts.stages)
    click.echo(f"OK: {pack.school.name}. {len(pack.clauses)} clauses; approvals: {stages}.")
    from bot.domain.privacy import pack_warnings

    for warning in pack_warnings(pack):
        click.echo(f"Warning: {warning}")


@policy.command("list")
def policy_list() -> None:
    """List the bundled policy packs."""
    for name in bundled_pack_names():
        click.echo(f"{name}: {load_pack(name).school.name}")


@policy.command("clauses")
@click.option(
    "--write",
    "target",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the reference to this file (the project keeps it in docs/policy-clauses.md).",
)
def policy_clauses(target: Path | None) -> None:
    """The clause reference: each clause ID, what the bot does, and each bundled pack's section."""
    from bot.domain.clauses import render_reference

    text = render_reference({name: load_pack(name) for name in bundled_pack_names()})
    if target is None:
        click.echo(text, nl=False)
        return
    if not target.parent.is_dir():
        raise click.ClickException(f"There is no folder {target.parent}. Create it first.")
    target.write_text(text, encoding="utf-8")
    click.echo(f"Wrote {target}.")


@main.group("db")
def db_group() -> None:
    """Database."""


@db_group.command("upgrade")
def db_upgrade() -> None:
    """Apply database migrations."""
    from bot.storage import db

    settings = _settings()
    existed = _database_exists(settings)
    db.upgrade(settings.migration_url, app_url=settings.resolved_database_url)
    _say_if_new_database(settings, existed=existed)
    click.echo("Database is up to date.")


@db_group.command("revision")
@click.argument("message")
def db_revision(message: str) -> None:
    """For developers: write a migration for changes to bot/storage/tables.py."""
    from alembic import command

    from bot.storage import db

    url = _settings().resolved_database_url
    db.upgrade(url)
    command.revision(db.alembic_config(url), message=message, autogenerate=True)


@main.group()
def roles() -> None:
    """Who is DSL, SLT, an approver or a moderator at a school, per platform user id."""


def _role_args(fn):
    fn = school_option(fn)
    fn = click.argument("role")(fn)
    fn = click.argument("user_id")(fn)
    return click.option(
        "--platform",
        default="console",
        show_default=True,
        type=click.Choice(PLATFORM_NAMES),
    )(fn)


EMAIL_ADDRESS = re.compile(r"[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\".]+")


def _email_address(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if len(value) > 254 or not EMAIL_ADDRESS.fullmatch(value):
        raise click.BadParameter(f"'{value}' doesn't look like an email address.")
    return value


@roles.command("add")
@_role_args
@click.option(
    "--email",
    default=None,
    callback=_email_address,
    help="Their work email: where unacknowledged safeguarding alerts reach them.",
)
def roles_add(platform: str, user_id: str, role: str, email: str | None) -> None:
    """Give USER_ID a ROLE (a role key from the policy pack), and with --email the address
    the escalation ladder emails them at (the only way an address is ever stored)."""
    from bot.storage import repository as repo

    service = open_service()
    if role not in service.kernel.pack.roles:
        raise click.ClickException(
            f"'{role}' is not a role in this policy pack. Roles: {', '.join(service.kernel.pack.roles)}"
        )
    now = datetime.now(UTC)
    by = f"cli:{getpass.getuser()}"
    with service.kernel.session() as session:
        added = repo.add_role(session, platform, user_id, role, by, now=now)
        if added:
            repo.audit(session, now, by, "role.added", f"{platform}:{user_id}", role=role)
        if email is not None:
            session.flush()
            repo.set_email(session, platform, user_id, email)
            # The audit trail is kept for years: it says an address was set, never which.
            repo.audit(session, now, by, "role.email_set", f"{platform}:{user_id}")
        session.commit()
    click.echo(
        f"{user_id} is {'now' if added else 'already'} {service.kernel.pack.role_label(role)} ({platform})."
    )
    if email is not None:
        click.echo("Their email address is saved: unacknowledged alerts can reach them there.")


@roles.command("remove")
@_role_args
def roles_remove(platform: str, user_id: str, role: str) -> None:
    """Take ROLE away from USER_ID."""
    from bot.storage import repository as repo

    service = open_service()
    now = datetime.now(UTC)
    with service.kernel.session() as session:
        removed = repo.remove_role(session, platform, user_id, role)
        if removed:
            repo.audit(
                session,
                now,
                f"cli:{getpass.getuser()}",
                "role.removed",
                f"{platform}:{user_id}",
                role=role,
            )
        session.commit()
    click.echo(f"Removed {role} from {user_id}." if removed else f"{user_id} did not have {role}.")


@roles.command("list")
@school_option
def roles_list() -> None:
    """Show every role assignment."""
    from bot.storage import repository as repo

    service = open_service()
    with service.kernel.session() as session:
        rows = repo.all_roles(session)
    if not rows:
        click.echo(f"No roles yet. Add one with: schoolbot roles add{school_flag()} USER_ID dsl")
    pack = service.kernel.pack
    for row in rows:
        email = ", email on file" if row.email else ""
        label = pack.role_label(row.role) if row.role in pack.roles else "not in this pack"
        click.echo(f"{row.platform:8} {row.user_id:24} {row.role} ({label}{email})")
    _warn_unfilled_roles(service)


def _warn_unfilled_roles(service, say: Callable[[str], None] = click.echo) -> None:
    """One line per role the pack's escalation needs that nobody holds (see role_check)."""
    from bot.kernel.role_check import unfilled_role_lines

    for line in unfilled_role_lines(service.kernel, school_flag()):
        say(line)


def _stop_with(settings: Settings, problem: click.ClickException) -> NoReturn:
    """`run` can't start: say why as click does ("Error: ..."), or with
    SCHOOLBOT_LOG_FORMAT=json as one log line, so the collector still reads only JSON."""
    if settings.log_format != "json":
        raise problem
    logging.getLogger("bot.cli").error("Error: %s", problem.format_message())
    sys.exit(problem.exit_code)


def _sayer(settings: Settings) -> Callable[[str], None]:
    """How `run` tells whoever started it something: printed, or with
    SCHOOLBOT_LOG_FORMAT=json a log line, so a log collector reads nothing but JSON."""
    if settings.log_format != "json":
        return click.echo
    log = logging.getLogger("bot.cli")

    def say(line: str) -> None:
        log.log(logging.WARNING if line.startswith("Warning:") else logging.INFO, "%s", line)

    return say


def _add_moderation_commands() -> None:
    from bot.cli.accounts import accounts, comments, scheduler
    from bot.cli.cases import cases
    from bot.cli.docs import docs
    from bot.cli.records import records
    from bot.cli.report import report
    from bot.cli.schools import schools
    from bot.cli.slack import secrets, slack

    for group in (
        accounts,
        comments,
        scheduler,
        cases,
        records,
        report,
        docs,
        schools,
        slack,
        secrets,
    ):
        main.add_command(group)
    for platform in PLATFORMS:  # a platform's own commands (schoolbot teams package)
        if platform.commands is not None:
            main.add_command(platform.commands)


_add_moderation_commands()
