"""`schoolbot teams ...`: the Teams platform's own commands, added to the CLI through its
Platform declaration, so the CLI names no platform."""

from __future__ import annotations

from pathlib import Path

import click

from bot.config import Settings


@click.group(name="teams")
def teams() -> None:
    """Microsoft Teams."""


@teams.command("package")
@click.option(
    "--out",
    default="schoolbot-teams.zip",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="Where to write the zip.",
)
def teams_package(out: str) -> None:
    """Build the Teams app zip (manifest + icons) from MicrosoftAppId and TEAMS_APP_DOMAIN."""
    from bot.platforms.teams.package import PackageError, build_package

    try:
        path = build_package(Settings(), Path(out))
    except PackageError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Wrote {path}. Upload it in Teams: Apps > Manage your apps > Upload an app.")
