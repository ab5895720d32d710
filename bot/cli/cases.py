"""`schoolbot cases`: list cases and show one, with who reported it, for the DSL or an admin
at the terminal. Whoever can run this can read the database, so it shows the full record."""

from __future__ import annotations

import click

from bot.cli.common import open_service
from bot.cli.school_choice import school_option
from bot.features.cases.history import lines as history_lines


@click.group()
def cases() -> None:
    """A school's cases: references, who reported them, and the full record of one."""


@cases.command("list")
@school_option
@click.option("--all", "everything", is_flag=True, help="Include closed cases.")
def cases_list(*, everything: bool) -> None:
    """Open cases, newest first: reference, status, team and reporter."""
    from bot.features.cases import cards
    from bot.features.cases.view import reporter_words, when
    from bot.storage import repository as repo

    service = open_service()
    with service.kernel.session() as session:
        rows = repo.recent_cases(session, include_closed=everything)
        decided = repo.approval_statuses(session, [c.id for c in rows if c.id is not None])
    if not rows:
        click.echo("No open cases." if not everything else "No cases yet.")
        return
    for case in rows:
        status = cards.status_label(case, decided.get(case.id or 0))
        urgent = ", urgent" if case.urgent and case.status != "closed" else ""
        click.echo(
            f"{case.ref}  {status}{urgent}  {case.team.upper()}  "
            f"reported by {reporter_words(case, service.kernel.platform_titles)} on {when(service.kernel.clock.zone, case.created_at)}"
        )


@cases.command("show")
@school_option
@click.argument("ref")
def cases_show(ref: str) -> None:
    """Everything about one case, as the owning team sees it with `case REF` in chat."""
    from bot.features.cases.view import case_view
    from bot.storage import repository as repo

    service = open_service()
    with service.kernel.session() as session:
        case = repo.case_by_ref(session, ref)
        if case is None:
            raise click.ClickException(f"There is no case {ref.upper()}.")
        history = history_lines(service.kernel.pack, session, case.ref, notes=True)
        view = case_view(service.kernel, session, case, for_team=True, history=history)
    click.echo(view.with_names().text)
