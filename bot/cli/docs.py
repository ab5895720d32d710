"""`schoolbot docs`: documents drawn from the code, so they cannot go stale."""

from __future__ import annotations

from pathlib import Path

import click


@click.group()
def docs() -> None:
    """Documents drawn from the code."""


@docs.command("diagrams")
@click.option(
    "--write",
    "target",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help=(
        "Replace the diagrams section of this file "
        "(the project keeps them in docs/architecture.md)."
    ),
)
def diagrams(target: Path | None) -> None:
    """One Mermaid state diagram per conversation, from the dialog declarations."""
    from bot.dialogs.diagram import diagrams_section, replace_section
    from bot.features import build_registry

    section = diagrams_section(c.dialog for c in build_registry().conversations.values())
    if target is None:
        click.echo(section)
        return
    text = target.read_text(encoding="utf-8") if target.exists() else ""
    target.write_text(replace_section(text, section), encoding="utf-8")
    click.echo(f"Wrote the conversation diagrams to {target}.")
