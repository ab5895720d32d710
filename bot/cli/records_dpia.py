"""`schoolbot records dpia`: the DPIA draft for this installation (bot/records/dpia.py)."""

from __future__ import annotations

from pathlib import Path

import click
import sqlalchemy as sa

from bot.cli.school_choice import school_option


def _database(url: str) -> str:
    """The database's kind and place, never its password."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return f"SQLite file {parsed.database}"
    where = f"{parsed.host or 'local socket'}{f':{parsed.port}' if parsed.port else ''}"
    return f"{parsed.get_backend_name()} database {parsed.database or ''} on {where}"


@click.command("dpia")
@school_option
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The Markdown file to write (printed if left out).",
)
def dpia(output: Path | None) -> None:
    """A data protection impact assessment draft for a school's installation, for the DPO."""
    from bot.app import active_senders
    from bot.cli.common import _settings, open_service
    from bot.records.dpia import render

    settings = _settings()
    service = open_service()
    text = render(
        service.kernel.pack,
        services=[platform.name for platform, _ in active_senders(settings)],
        database=_database(settings.resolved_database_url),
        evidence_store=service.kernel.evidence.where(),
        today=service.kernel.now().date(),
    )
    if output is None:
        click.echo(text, nl=False)
        return
    if not output.parent.is_dir():
        raise click.ClickException(f"There is no folder {output.parent}. Create it first.")
    output.write_text(text, encoding="utf-8")
    click.echo(f"Wrote {output}: a draft for your DPO to check, complete and sign.")
