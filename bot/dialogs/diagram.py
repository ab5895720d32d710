"""Mermaid state diagrams of dialogs, drawn from their declarations (`schoolbot docs
diagrams --write docs/architecture.md` keeps that page's copy; a test fails when it is
stale)."""

from __future__ import annotations

from collections.abc import Iterable

from bot.dialogs.declarations import Dialog, Step

START = (
    "<!-- conversation diagrams: start "
    "(written by `schoolbot docs diagrams --write docs/architecture.md`) -->"
)
END = "<!-- conversation diagrams: end -->"


def state_diagram(dialog: Dialog) -> str:
    """One question per state, in order. A question asked only on some answers goes
    through a choice point; a files question loops until "done"; a question repeated per
    item (e.g. per person named) loops once per item."""
    lines = ["stateDiagram-v2", f"    direction {'TB' if len(dialog.steps) > 6 else 'LR'}"]
    previous = "[*]"
    pending_skip: list[str] = []  # choice points whose "skipped" arrow goes to the next state
    for step in dialog.steps:
        name = _state(step)
        lines.append(f"    {name} : {_label(step)}")
        if step.ask_if is not None:
            choice = f"{name}_asked"
            lines.append(f"    state {choice} <<choice>>")
            lines.append(f"    {previous} --> {choice}")
            for skip in pending_skip:
                lines.append(f"    {skip} --> {choice} : skipped")
            lines.append(f"    {choice} --> {name} : asked")
            pending_skip = [choice]
        else:
            lines.append(f"    {previous} --> {name}")
            for skip in pending_skip:
                lines.append(f"    {skip} --> {name} : skipped")
            pending_skip = []
        if step.kind == "files":
            lines.append(f"    {name} --> {name} : a file")
        if step.repeat_over is not None:
            lines.append(f"    {name} --> {name} : next item")
        previous = name
    lines.append(f"    {previous} --> [*] : finished")
    for skip in pending_skip:
        lines.append(f"    {skip} --> [*] : skipped")
    return "\n".join(lines)


def _state(step: Step) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in step.key)


def _label(step: Step) -> str:
    kind = {"yesno": "yes or no", "past_datetime": "when", "files": "files, then done"}
    return f"{step.key.replace('_', ' ')} ({kind.get(step.kind, step.kind.replace('_', ' '))})"


def diagrams_section(dialogs: Iterable[Dialog]) -> str:
    parts = [START, ""]
    for dialog in dialogs:
        parts += [
            f"**{dialog.title}** (`{dialog.name}`)",
            "",
            "```mermaid",
            state_diagram(dialog),
            "```",
            "",
        ]
    parts.append(
        "From any question, *back* returns to the one before and *cancel* ends the "
        "conversation; the answers so far are saved after every turn."
    )
    parts += ["", END]
    return "\n".join(parts)


def replace_section(document: str, section: str) -> str:
    """`document` with its diagrams section replaced (or added at the end)."""
    if START in document and END in document:
        before = document[: document.index(START)]
        after = document[document.index(END) + len(END) :]
        return before + section + after
    return document.rstrip() + "\n\n" + section + "\n"
