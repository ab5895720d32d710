"""`schoolbot records`: the retention schedule, legal holds and the disposal log (X-RECORD).

For the school's DPO and IT lead. `due` previews what the next daily sweep will dispose
of; `sweep` runs it now; `disposals` exports the log of everything disposed of as CSV.
"""

from __future__ import annotations

import csv
import getpass
import io
import sys
from typing import TYPE_CHECKING

import click
from sqlmodel import col

from bot.cli.common import _service, _settings, each_chosen_service, open_service
from bot.cli.school_choice import every_school_option, school_option

if TYPE_CHECKING:
    from bot.kernel.core import Kernel


def _admin() -> str:
    return getpass.getuser()


def _trust_kernel() -> Kernel:
    """For the trust-wide commands: the install's evidence store is the same in every
    school's service, so the first school's kernel reaches it (and its trust scope)."""
    return _service(_settings()).kernel


@click.group()
def records() -> None:
    """A school's retention, legal holds and disposal log (X-RECORD); `--school` says
    which. Evidence-file commands are trust-wide."""


@records.command("schedule")
@school_option
def records_schedule() -> None:
    """Print a school's retention schedule."""
    from bot.domain.retention import rules
    from bot.features.cases.retention import in_force

    kernel = open_service().kernel
    with kernel.session() as session:
        force = in_force(session)
    for rule in rules(kernel.pack, force):
        click.echo(f"{rule.record}: {rule.period}.")


@records.command("due")
@school_option
def records_due() -> None:
    """Preview what the next retention sweep would dispose of (nothing changes)."""
    from bot.domain.retention import rule
    from bot.records.retention import RetentionSweep
    from bot.records.review import first_notices

    service = open_service()
    items = RetentionSweep(service.kernel).due(include_held=True)
    if not items:
        click.echo("Nothing is due for disposal today.")
        return
    for item in items:
        due = item.due_on.strftime("%-d %b %Y")
        words = rule(service.kernel.pack, item.rule).words
        kept = " KEPT: on legal hold." if item.held else ""
        if not item.held and item.review and not item.approved:
            kept = " WAITS for a person's decision (review)."
        click.echo(f"{item.record} ({item.record_type}), due {due} under '{words}'.{kept}")
    sweep = RetentionSweep(service.kernel)
    sent = first_notices(service.kernel)
    going = sum(sweep.may_go(i, sent) for i in items)
    click.echo(f"{going} record(s) would be disposed of.")
    if going < sum(not i.held and not i.review for i in items):
        click.echo("Others wait until their review notice has been out for its time.")


@records.command("sweep")
@every_school_option
def records_sweep() -> None:
    """Dispose of a school's records that are due now (with --all-schools, every school's
    in turn, each on its own schedule), then evidence files nothing uses: the files are
    the trust's, so that part is trust-wide, in the audited trust scope (the scheduler
    does this once a day, and the files once an hour)."""
    from bot.records.evidence_files import sweep_unused
    from bot.records.retention import RetentionSweep

    services = list(each_chosen_service())
    done = sum(RetentionSweep(service.kernel).sweep() for service in services)
    files = sweep_unused(services[0].kernel)
    also = f" and {files} evidence file(s) no record uses" if files else ""
    click.echo(f"Disposed of {done} record(s){also}. See them with: schoolbot records disposals")


@records.command("encrypt-evidence")
def records_encrypt_evidence() -> None:
    """Encrypt evidence files stored before EVIDENCE_KEYS was set, and re-encrypt those
    made with an older key, with the first key. Trust-wide: the install keeps one store of
    evidence files for every school, so no --school. Safe to run again or to interrupt:
    each file is replaced in one step, and files already done are skipped."""
    from bot.kernel.evidence_keys import HOW_TO_MAKE_ONE, EvidenceLocked

    store = _trust_kernel().evidence
    if store.keys is None:
        raise click.ClickException(
            f"EVIDENCE_KEYS is not set. Make a key with: {HOW_TO_MAKE_ONE}\n"
            "then add EVIDENCE_KEYS=<the key> to .env and run this again."
        )
    done = skipped = problems = 0
    for sha in store.names():
        try:
            if store.encrypt_one(sha):
                done += 1
            else:
                skipped += 1
        except (EvidenceLocked, ValueError, OSError) as exc:
            problems += 1
            click.echo(f"Not changed: file {sha[:16]}: {exc}.", err=True)
    click.echo(
        f"Encrypted {done} file(s) with key {store.keys.current_id}; "
        f"{skipped} already were; {problems} could not be (see above)."
    )
    if problems:
        sys.exit(1)


@records.command("move-evidence-to-database")
@click.option(
    "--keep-files", is_flag=True, help="Leave each file in the folder too, once it is copied."
)
def records_move_evidence(*, keep_files: bool) -> None:
    """Move evidence files from the folder (EVIDENCE_FOLDER, or the data folder's evidence/)
    into the database, so every instance serves them. Trust-wide: every school's files,
    recorded in the audit trail under the trust scope. Each is read back and compared
    before it leaves the folder: safe to run again or to interrupt."""
    from bot.kernel.evidence_database import DatabaseEvidenceStore
    from bot.kernel.evidence_folder import FolderEvidenceStore
    from bot.records.evidence_move import move_to_database

    settings = _settings()
    kernel = _trust_kernel()
    store = kernel.evidence
    if not isinstance(store, DatabaseEvidenceStore):
        raise click.ClickException(
            "This install keeps evidence in a folder (EVIDENCE_STORE=folder). Set "
            "EVIDENCE_STORE=database in .env, then run this again."
        )
    folder = FolderEvidenceStore(settings.evidence_dir, store.keys)
    who = _admin()
    done = move_to_database(kernel, folder, store, f"cli:{who}", keep_files=keep_files)
    for line in done.left:
        click.echo(f"Not moved: {line}.", err=True)
    click.echo(
        f"Moved {done.moved} evidence file(s) from {settings.evidence_dir} into the database; "
        f"{done.already} were there already; {len(done.left)} left in the folder (see above)."
    )
    if done.left:
        sys.exit(1)


@records.command("hold")
@school_option
@click.argument("ref")
@click.option("--reason", required=True, help="Why it must be kept, e.g. the court case.")
def records_hold(ref: str, reason: str) -> None:
    """Place a legal hold on case REF: it is never disposed of while held."""
    from bot.records.legal_hold import HoldRefused, place_hold

    who = _admin()
    try:
        click.echo(
            place_hold(
                open_service().kernel, ref, reason, f"cli:{who}", f"{who} (server)", actor=None
            )
        )
    except HoldRefused as exc:
        raise click.ClickException(str(exc)) from None


@records.command("release")
@school_option
@click.argument("ref")
def records_release(ref: str) -> None:
    """Lift the legal hold on case REF."""
    from bot.records.legal_hold import HoldRefused, release_hold

    who = _admin()
    try:
        click.echo(release_hold(open_service().kernel, ref, f"cli:{who}", f"{who} (server)", None))
    except HoldRefused as exc:
        raise click.ClickException(str(exc)) from None


@records.command("disposals")
@school_option
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="CSV file to write.")
def records_disposals(output: str | None) -> None:
    """The disposal log as CSV: what was disposed of, when, under which rule, by what."""
    from sqlmodel import select

    from bot.storage.tables import Disposal

    service = open_service()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        [
            "disposed_on",
            "record",
            "record_type",
            "rule",
            "rule_in_words",
            "due_on",
            "by",
            "files_deleted",
            "audit_entries_redacted",
            "method",
            "authorised_by",
        ]
    )
    with service.kernel.session() as session:
        rows = list(
            session.exec(
                select(Disposal)
                .where(col(Disposal.school_id) == session.school_id)
                .order_by(col(Disposal.id))
            )
        )
    for row in rows:
        writer.writerow(
            [
                row.at.astimezone(service.kernel.clock.zone).strftime("%Y-%m-%d %H:%M"),
                row.record,
                row.record_type,
                row.rule,
                row.rule_words,
                row.due_on.isoformat(),
                row.by,
                row.files_deleted,
                row.audit_rows_redacted,
                row.method,
                row.authorised_by,
            ]
        )
    if output:
        with open(output, "w", encoding="utf-8", newline="") as handle:
            handle.write(buffer.getvalue())
        click.echo(f"Wrote {len(rows)} disposal(s) to {output}.")
    else:
        click.echo(buffer.getvalue(), nl=False)


def _add_people_commands() -> None:
    """Subject access requests and leavers live in their own module (cli_records_people)."""
    from bot.cli.records_dpia import dpia
    from bot.cli.records_people import erase_person, export_person
    from bot.cli.records_review import COMMANDS

    records.add_command(export_person)
    records.add_command(erase_person)
    records.add_command(dpia)
    for command in COMMANDS:
        records.add_command(command)


_add_people_commands()
