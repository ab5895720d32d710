"""`schoolbot records export-person` and `records erase-person`: subject access requests
and members of staff who leave. Each command is self-contained, so it can join any other
`records` group (bot/cli_records.py); both are written to the audit trail without personal data in the detail."""

from __future__ import annotations

import getpass
from pathlib import Path

import click

from bot.cli.common import open_service
from bot.cli.school_choice import school_option
from bot.platforms import PLATFORM_NAMES

PLATFORMS = click.Choice(PLATFORM_NAMES)


@click.command("export-person")
@school_option
@click.option("--platform", required=True, type=PLATFORMS, help="Where their user id is from.")
@click.option("--user", "user_id", required=True, help="Their platform user id.")
@click.option(
    "--name",
    "names",
    multiple=True,
    help="A name colleagues may know them by, to find reports that name them (repeatable).",
)
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The zip to write; the DPO's review file is written next to it.",
)
def export_person(platform: str, user_id: str, names: tuple[str, ...], output: Path) -> None:
    """Everything a school holds about one member of staff, for a subject access request
    (at a trust, run it for each school they work at)."""
    from bot.app import active_senders
    from bot.cli.common import _settings
    from bot.records import subject_access_export as people
    from bot.storage import repository as repo
    from bot.web.casefile import local_time

    folder = output.parent
    if not folder.exists():
        folder.mkdir(mode=0o700, parents=True)
    elif folder.stat().st_mode & 0o077:
        click.echo(f"Note: other users of this computer can open {folder}. Keep exports in a")
        click.echo("folder only you can open (chmod 700), and delete them once sent.")
    settings = _settings()
    service = open_service()
    now = service.kernel.now()
    with service.kernel.session() as session:
        made = local_time(service.kernel.pack, now)
        built = people.build(
            session,
            service.kernel,
            platform,
            user_id,
            made,
            also_known_as=names,
            services=[p.name for p, _ in active_senders(settings)],
        )
        repo.audit(
            session,
            now,
            f"cli:{getpass.getuser()}",
            "records.exported",
            f"{platform}:{user_id}",
            records=built.records,
        )
        session.commit()
    review = people.review_path(output)
    people.write_private(output, built.archive)
    people.write_private(review, built.review.encode("utf-8"))
    click.echo(f"Wrote {output}: {built.records} records; other people's names redacted.")
    click.echo(
        f"Wrote {review}: for you, the DPO, only. Read it and decide on each part "
        "before you send the zip."
    )
    click.echo("This export is in the audit trail. Send it securely, and delete your copies after.")


@click.command("erase-person")
@school_option
@click.option("--platform", required=True, type=PLATFORMS, help="Where their user id is from.")
@click.option("--user", "user_id", required=True, help="Their platform user id.")
@click.option("--dry-run", is_flag=True, help="Only say what would be done.")
def erase_person(platform: str, user_id: str, *, dry_run: bool) -> None:
    """For a member of staff who has left a school: remove what its retention rules allow."""
    from bot.records import leavers

    service = open_service()
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
