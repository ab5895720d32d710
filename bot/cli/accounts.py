"""`schoolbot accounts`, `schoolbot comments` and `schoolbot scheduler`: the register of
official accounts, comments awaiting a reply, and one scheduler tick by hand."""

from __future__ import annotations

import getpass
from datetime import datetime
from pathlib import Path

import click
from pydantic import ValidationError

from bot.cli.common import each_chosen_service, open_service
from bot.cli.school_choice import every_school_option, school_option
from bot.features.comments.moderation import RegisterError
from bot.features.comments.rules import AUTHOR_LABELS, CommentIn


def _admin() -> str:
    return f"cli:{getpass.getuser()}"


def _fail(exc: Exception) -> click.ClickException:
    if isinstance(exc, ValidationError):
        problems = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
        return click.ClickException("; ".join(problems))
    return click.ClickException(str(exc))


@click.group()
def accounts() -> None:
    """A school's register of official accounts (AC-REGISTER)."""


@accounts.command("list")
@school_option
def accounts_list() -> None:
    """Print the register."""
    service = open_service()
    rows = service.comments.register()
    if not rows:
        click.echo("The register is empty. Add an account with: schoolbot accounts add --help")
        return
    for a in rows:
        approved = service.kernel.calendar.local(a.approved_on).strftime("%d/%m/%Y")
        click.echo(f"{a.id:>3}  {a.name} ({a.platform or 'platform not given'}) - {a.status}")
        click.echo(f"     {a.purpose}")
        click.echo(f"     approved {approved}; author {a.author}")
        click.echo(f"     moderators: {', '.join(a.moderators) or 'none'}")
        click.echo(f"     nudges go to: {', '.join(a.contacts) or 'nobody (SLT are told instead)'}")


@accounts.command("export")
@school_option
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False), help="File to write (default: print)."
)
def accounts_export(output: str | None) -> None:
    """Write the register as CSV, in the shape of the record sheet (Dukeries Appendix 2)."""
    target = Path(output) if output else None
    if target is not None and not target.parent.is_dir():
        raise click.ClickException(
            f"There is no folder {target.parent}, so I can't write {target.name} there. "
            "Create the folder first, or give another path with -o."
        )
    text = open_service().comments.register_csv()
    if target is None:
        click.echo(text, nl=False)
        return
    try:
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(f"I can't write {target}: {exc.strerror}.") from exc
    click.echo(f"Wrote {target}.")


def _people(fn):
    fn = click.option(
        "--moderator", "moderators", multiple=True, help="A moderator's name (give at least two)."
    )(fn)
    return click.option(
        "--contact",
        "contacts",
        multiple=True,
        help="Who gets comment nudges, as platform:user_id (slack:U123, teams:<object id>).",
    )(fn)


@accounts.command("add")
@school_option
@click.option("--name", required=True, help="The account's name, e.g. 'PE Department Twitter'.")
@click.option("--purpose", required=True, help="What it is for.")
@click.option("--platform", default="", help="Facebook, X, Instagram...")
@click.option("--author", required=True, help="The member of staff who leads it.")
@_people
def accounts_add(name, purpose, platform, author, moderators, *, contacts) -> None:
    """Add an account that was approved outside the bot."""
    try:
        account = open_service().comments.register_add(
            _admin(),
            name=name,
            purpose=purpose,
            platform=platform,
            author=author,
            moderators=list(moderators),
            contacts=list(contacts),
        )
    except RegisterError as exc:
        raise _fail(exc) from exc
    click.echo(f"Added account {account.id}: {account.name}.")


@accounts.command("moderators")
@school_option
@click.argument("account_id", type=int)
@_people
def accounts_moderators(account_id: int, moderators, contacts) -> None:
    """Replace the moderators (and, if given, who gets nudges)."""
    try:
        account = open_service().comments.register_change(
            account_id,
            _admin(),
            moderators=list(moderators),
            contacts=list(contacts) if contacts else None,
        )
    except RegisterError as exc:
        raise _fail(exc) from exc
    click.echo(f"Account {account.id} moderators: {', '.join(account.moderators)}.")


@accounts.command("transfer")
@school_option
@click.argument("account_id", type=int)
@click.option("--author", required=True, help="The member of staff taking it over.")
@click.option("--contact", "contacts", multiple=True, help="Replace who gets nudges.")
def accounts_transfer(account_id: int, author: str, contacts) -> None:
    """Hand an account to a new lead, e.g. when the author leaves (AC-LEAVER)."""
    try:
        account = open_service().comments.register_change(
            account_id, _admin(), author=author, contacts=list(contacts) if contacts else None
        )
    except RegisterError as exc:
        raise _fail(exc) from exc
    click.echo(f"Account {account.id} now led by {account.author}.")


@accounts.command("close")
@school_option
@click.argument("account_id", type=int)
def accounts_close(account_id: int) -> None:
    """Close an account (AC-LEAVER). It stays in the register as closed."""
    try:
        account = open_service().comments.register_change(account_id, _admin(), close=True)
    except RegisterError as exc:
        raise _fail(exc) from exc
    click.echo(f"Account {account.id} ({account.name}) is closed.")


@click.group()
def comments() -> None:
    """Comments on a school's official accounts that need a reply (MO-24H)."""


@comments.command("add")
@school_option
@click.option("--account", required=True, help="Register number or exact account name.")
@click.option("--from", "author_type", required=True, type=click.Choice(list(AUTHOR_LABELS)))
@click.option("--text", required=True, help="The comment, or a short description of it.")
@click.option("--link", default=None, help="Link to the comment.")
@click.option(
    "--received", default=None, help="When it arrived, ISO 8601 with timezone (default now)."
)
@click.option("--offensive", is_flag=True)
@click.option("--complaint", is_flag=True)
def comments_add(account, author_type, text, link, received, *, offensive, complaint) -> None:
    """Log a comment; its moderators are nudged before the deadline."""
    service = open_service()
    try:
        data = CommentIn(
            account=account,
            author_type=author_type,
            text=text,
            link=link,
            received_at=datetime.fromisoformat(received) if received else None,
            offensive=offensive,
            complaint=complaint,
        )
        comment, _ = service.comments.log_comment(data, "cli", _admin())
    except (ValidationError, RegisterError, ValueError) as exc:
        raise _fail(exc) from exc
    due = service.kernel.calendar.local(comment.due_at).strftime("%a %-d %b %H:%M")
    click.echo(f"Logged {comment.ref}. Reply due by {due}.")


@comments.command("list")
@school_option
def comments_list() -> None:
    """Comments still waiting for a reply, soonest deadline first."""
    service = open_service()
    rows = service.comments.awaiting_comments()
    if not rows:
        click.echo("No comments are waiting for a reply.")
    for comment, account in rows:
        due = service.kernel.calendar.local(comment.due_at).strftime("%a %-d %b %H:%M")
        click.echo(f"{comment.ref}  {account}: due {due} ({comment.status})")


@click.group()
def scheduler() -> None:
    """The reminder scheduler (it also runs inside `schoolbot run`)."""


@scheduler.command("tick")
@every_school_option
def scheduler_tick() -> None:
    """Run one sweep now: send whatever reminders of a school (or, with --all-schools, of
    every school in turn, each on its own rules) are due."""
    count = sum(service.sweep() for service in each_chosen_service())
    click.echo(f"Sent or closed {count} reminder(s).")
