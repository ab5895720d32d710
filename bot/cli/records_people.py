"""`schoolbot records export-person` and `records erase-person`: subject access requests
and members of staff who leave. Each command is self-contained, so it can join any other
`records` group (bot/cli_records.py); both are written to the audit trail without personal data in the detail."""

from __future__ import annotations

import getpass
from pathlib import Path

import click

from bot.platforms import PLATFORM_NAMES

PLATFORMS = click.Choice(PLATFORM_NAMES)


def _service():
    from bot.cli.common import _service, _settings

    return _service(_settings())


@click.command("export-person")
@click.option("--platform", required=True, type=PLATFORMS, help="Where their user id is from.")
@click.option("--user", "user_id", required=True, help="Their platform user id.")
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The zip to write.",
)
def export_person(platform: str, user_id: str, output: Path) -> None:
    """Everything the bot holds about one member of staff, other people redacted, as a zip."""
    from bot.records import subject_access as people
    from bot.storage import repository as repo
    from bot.web.casefile import local_time

    if not output.parent.is_dir():
        raise click.ClickException(f"There is no folder {output.parent}. Create it first.")
    service = _service()
    now = service.kernel.now()
    with service.kernel.session() as session:
        made = local_time(service.kernel.pack, now)
        data, count = people.export_zip(session, service.kernel, platform, user_id, made)
        repo.audit(
            session,
            now,
            f"cli:{getpass.getuser()}",
            "records.exported",
            f"{platform}:{user_id}",
            records=count,
        )
        session.commit()
    output.write_bytes(data)
    click.echo(f"Wrote {output}: {count} records, other people's details redacted.")
    click.echo("This export is in the audit trail. Send it securely, and delete your copy after.")


@click.command("erase-person")
@click.option("--platform", required=True, type=PLATFORMS, help="Where their user id is from.")
@click.option("--user", "user_id", required=True, help="Their platform user id.")
@click.option("--dry-run", is_flag=True, help="Only say what would be done.")
def erase_person(platform: str, user_id: str, *, dry_run: bool) -> None:
    """For a member of staff who has left: remove what the retention rules allow."""
    from bot.records import leavers

    service = _service()
    with service.kernel.session() as session:
        if dry_run:
            steps = leavers.erase_plan(session, platform, user_id)
        else:
            steps = leavers.erase_person(
                session, platform, user_id, service.kernel.now(), f"cli:{getpass.getuser()}"
            )
            session.commit()
    if not steps:
        click.echo(f"schoolbot holds nothing about {user_id} ({platform}) that can be removed.")
        return
    click.echo("This would:" if dry_run else "Done:")
    for step in steps:
        click.echo(f"  {step.words}: {step.count}")
    click.echo(
        "The audit trail is kept as it is."
        + (" Nothing has changed yet; run again without --dry-run." if dry_run else "")
    )
