"""`schoolbot records review / reclassify / keep / dispose / apply-schedule`: the people's
side of retention (X-RECORD). Every decision needs a reason and goes in the record's
history, as the same decisions typed in chat do (bot/features/cases/retention.py)."""

from __future__ import annotations

import getpass
from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING

import click

from bot.cli.common import open_service
from bot.cli.school_choice import school_option
from bot.storage.scoping import SchoolSession

if TYPE_CHECKING:
    from bot.kernel.core import Kernel


def _who() -> tuple[str, str]:
    user = getpass.getuser()
    return f"cli:{user}", f"{user} (server)"


def _decide(run: Callable[[Kernel, SchoolSession], str]) -> None:
    """Run one decision in its own transaction; a refusal is a plain message."""
    from bot.features.cases.retention import RetentionRefused

    service = open_service()
    with service.kernel.session() as session:
        try:
            said = run(service.kernel, session)
        except RetentionRefused as exc:
            raise click.ClickException(str(exc)) from None
        session.commit()
    click.echo(said)


@click.command("review")
@school_option
def records_review() -> None:
    """The records whose retention period ends within the review notice (or has ended and
    waits for a decision): what the DSL and the DPO are sent each day."""
    from bot.records.retention import RetentionSweep
    from bot.records.review import review_message

    service = open_service()
    sweep = RetentionSweep(service.kernel)
    notice = service.kernel.pack.records.retention.review_notice_days
    items = [i for i in sweep.due(within_days=notice) if i.record_type != "conversation"]
    if not items:
        click.echo(f"Nothing comes up for review in the next {notice} days.")
        return
    click.echo(review_message(items, sweep.today(), notice).text)


@click.command("reclassify")
@school_option
@click.argument("ref")
@click.argument("to")
@click.option("--reason", required=True, help="Why: it goes in the case's history.")
@click.option(
    "--child-born",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="The child's date of birth, if known (YYYY-MM-DD): a child protection record "
    "then runs from it.",
)
def records_reclassify(ref: str, to: str, reason: str, child_born: datetime | None) -> None:
    """Put case REF in another retention class TO (child, allegation, malicious,
    low-level, staff-abuse, friend-request, account)."""
    from bot.features.cases.retention import reclassify

    born: date | None = child_born.date() if child_born else None
    _decide(
        lambda kernel, session: reclassify(
            kernel, session, ref, to, reason, by=_who(), actor=None, child_born_on=born
        )
    )


@click.command("keep")
@school_option
@click.argument("ref")
@click.option("--years", type=int, required=True, help="How many more years (1 to 25).")
@click.option("--reason", required=True, help="Why: it goes in the record's history.")
def records_keep(ref: str, years: int, reason: str) -> None:
    """Keep record REF for more years after its period ends (a review decision)."""
    from bot.features.cases.retention import keep

    _decide(
        lambda kernel, session: keep(kernel, session, ref, years, reason, by=_who(), actor=None)
    )


@click.command("dispose")
@school_option
@click.argument("ref")
@click.option("--reason", required=True, help="Why: it goes in the disposal's record.")
def records_dispose(ref: str, reason: str) -> None:
    """Dispose of record REF now that its period has ended (a review decision)."""
    from bot.features.cases.retention import approve_disposal
    from bot.records.retention import RetentionSweep

    _decide(
        lambda kernel, session: approve_disposal(
            kernel, session, ref, reason, by=_who(), actor=None
        )
    )
    done = RetentionSweep(open_service().kernel).dispose_approved(ref.upper())
    click.echo(f"{ref.upper()} is disposed of." if done else "It goes at the next sweep.")


@click.command("apply-schedule")
@school_option
@click.option("--yes", is_flag=True, help="Apply without asking.")
def records_apply_schedule(*, yes: bool) -> None:
    """Apply the pack's shorter periods to the records already kept (recorded in the audit
    trail). Until then, existing records keep the longer period."""
    from bot.domain import retention as rules
    from bot.domain.retention_classes import amount, retention_class
    from bot.features.cases import retention
    from bot.storage import repository as repo

    service = open_service()
    kernel = service.kernel
    with kernel.session() as session:
        force = retention.in_force(session)
        shorter = rules.shorter_than_in_force(kernel.pack, force)
        if not shorter:
            click.echo("No period in the pack is shorter than the one in force. Nothing to do.")
            return
        for key, n in shorter.items():
            cls = retention_class(key)
            was, now = amount(force[key], cls.unit), amount(n, cls.unit)
            click.echo(f"{cls.record}: {was} -> {now}.")
        if not yes and not click.confirm("Apply these shorter periods to existing records?"):
            click.echo("Nothing has changed.")
            return
        by_key, by_name = _who()
        periods = {**force, **rules.pack_periods(kernel.pack)}
        repo.audit(
            session,
            kernel.now(),
            by_key,
            retention.SCHEDULE_APPLIED,
            rules.SCHEDULE_SUBJECT,
            periods=periods,
            how="applied by command",
            by=by_name,
            shortened=sorted(shorter),
        )
        session.commit()
    click.echo("Applied. The next sweep uses the shorter periods; see: schoolbot records due")


COMMANDS = (
    records_review,
    records_reclassify,
    records_keep,
    records_dispose,
    records_apply_schedule,
)
