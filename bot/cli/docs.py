"""`schoolbot docs`: documents drawn from the code, so they cannot go stale."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from bot.kernel.registry import Conversation


@click.group()
def docs() -> None:
    """Documents drawn from the code."""


TABLE_START = (
    "<!-- conversations: start (written by `schoolbot docs conversations --write README.md`) -->"
)
TABLE_END = "<!-- conversations: end -->"


def conversations_table(conversations: Iterable[Conversation]) -> str:
    """The README's table of conversations, one row each, from what the features register."""
    rows = [TABLE_START, "| Conversation | What happens |", "|---|---|"]
    for conversation in conversations:
        name = conversation.label.removeprefix("A ").removeprefix("An ")
        rows.append(f"| {name[:1].upper()}{name[1:]} | {conversation.about} |")
    return "\n".join([*rows, TABLE_END])


def replace_between(document: str, start: str, end: str, section: str) -> str:
    """The document with the text from `start` to `end` replaced (appended if absent)."""
    if start in document and end in document:
        before, rest = document.split(start, 1)
        return before + section + rest.split(end, 1)[1]
    return document.rstrip("\n") + "\n\n" + section + "\n"


@docs.command("conversations")
@click.option(
    "--write",
    "target",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Replace the conversations table of this file (the project keeps it in README.md).",
)
def conversations(target: Path | None) -> None:
    """The table of conversations staff can start, from the features' registrations."""
    from bot.features import build_registry

    table = conversations_table(build_registry().conversations.values())
    if target is None:
        click.echo(table)
        return
    text = target.read_text(encoding="utf-8") if target.exists() else ""
    target.write_text(replace_between(text, TABLE_START, TABLE_END, table), encoding="utf-8")
    click.echo(f"Wrote the conversations table to {target}.")


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
