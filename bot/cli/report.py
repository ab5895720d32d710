"""`schoolbot report`: the termly report for governors, printed, as a PDF and as CSV."""

from __future__ import annotations

from pathlib import Path

import click

from bot.cli.school_choice import school_option


def _writable(path: Path) -> Path:
    if not path.parent.is_dir():
        raise click.ClickException(f"There is no folder {path.parent}. Create it first.")
    return path


@click.command("report")
@school_option
@click.option("--term", "term_name", default=None, help="autumn-2026, spring-2027, summer-2027 ...")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the report as a PDF to this file.",
)
@click.option(
    "--csv",
    "csv_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write every figure as CSV to this file.",
)
def report(term_name: str | None, output: Path | None, csv_path: Path | None) -> None:
    """A school's termly report for governors: aggregates only, small counts hidden, the rest rounded."""
    from bot.cli.common import open_service
    from bot.records import governors, governors_counts

    service = open_service()
    try:
        term = (
            governors.parse_term(term_name)
            if term_name
            else governors.term_of(service.kernel.now().date())
        )
    except governors.TermError as exc:
        raise click.ClickException(str(exc)) from exc
    data = governors_counts.figures(service.kernel, term)
    click.echo(data.text(), nl=False)
    if output is not None:
        from bot.records.governors_render import report_pdf

        _writable(output).write_bytes(report_pdf(data))
        click.echo(f"Wrote {output}.")
    if csv_path is not None:
        _writable(csv_path).write_text(data.csv(), encoding="utf-8")
        click.echo(f"Wrote {csv_path}.")
