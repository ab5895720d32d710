"""How a conversation is declared: a Dialog is an ordered list of Steps, each asking one
question; a Context is what a step's wording and conditions can see. The engine
(engine.py) runs these declarations; the features write them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from bot.domain.messages import Choice
from bot.domain.policy import PolicyPack

StepKind = Literal[
    "choice", "yesno", "text", "past_datetime", "any_date", "left_date", "age_or_birthday",
    "url", "files", "people",
]  # fmt: skip


@dataclass(frozen=True)
class Context:
    pack: PolicyPack
    answers: Mapping[str, Any]
    now: datetime
    # Facts from outside the pack a dialog may offer as choices (e.g. the open accounts),
    # fixed when the conversation starts and saved with it.
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def today(self) -> date:
        return self.now.date()


Text = str | Callable[[Context], str]
Predicate = Callable[[Context], bool]


@dataclass(frozen=True)
class Step:
    key: str
    prompt: Text
    kind: StepKind
    choices: tuple[Choice, ...] | Callable[[Context], tuple[Choice, ...]] = ()
    ask_if: Predicate | None = None
    other_allowed: bool = False
    max_chars: int = 2000
    hint: str = ""
    check: Callable[[Any, Context], str | None] | None = None
    repeat_over: Callable[[Context], list[str]] | None = None
    # Said as soon as this question is answered, before the next one (advice that can't
    # wait for the end, e.g. "don't view or forward the image", SG-NUDES).
    then_say: Callable[[Context], str | None] | None = None
    # A yes-or-no question where doubt must count (SG-DANGER): a third answer, "Not sure".
    not_sure: bool = False

    def text(self, ctx: Context, item: str | None = None) -> str:
        base = self.prompt(ctx) if callable(self.prompt) else self.prompt
        return base.format(item=item) if item is not None else base

    def options(self, ctx: Context) -> tuple[Choice, ...]:
        if self.kind == "yesno":
            unsure = (Choice("not_sure", "Not sure"),) if self.not_sure else ()
            return (Choice("yes", "Yes"), Choice("no", "No"), *unsure)
        return self.choices(ctx) if callable(self.choices) else self.choices

    def applies(self, ctx: Context) -> bool:
        return self.ask_if is None or self.ask_if(ctx)


@dataclass(frozen=True)
class Dialog:
    name: str
    title: str
    intro: Text
    steps: tuple[Step, ...]
    finish: Callable[[Context], Any]
    summary: Callable[[Context], str] | None = None
    # Answers a person already gave in the sentence that started the conversation ("a pupil
    # sent me a friend request"), with a sentence saying what was understood.
    understand: Callable[[str, Context], tuple[dict[str, Any], str]] | None = None
    # Short labels for reading answers back ("Aim:"), where its questions are long.
    answer_labels: Mapping[str, str] = field(default_factory=dict)
    # A case to open at once, before the last question, when the answers so far call for
    # it (a child in danger now, SG-DANGER); the rest of the answers then join that case.
    alarm: Callable[[Context], Any] | None = None
    # Why files may not be sent now, or None: on a report of a nude image of a child the
    # bot never accepts or keeps one (SG-NUDES). Files kept earlier are then removed.
    refuses_files: Callable[[Context], str | None] | None = None

    def step(self, key: str) -> Step:
        return next(s for s in self.steps if s.key == key)

    def file_refusal(self, ctx: Context) -> str | None:
        return self.refuses_files(ctx) if self.refuses_files is not None else None

    def effective_answers(self, ctx: Context) -> dict[str, Any]:
        """Only answers to steps that still apply, so a changed earlier answer can't leak."""
        kept: dict[str, Any] = {}
        for step in self.steps:
            view = Context(ctx.pack, kept, ctx.now, ctx.options)
            if step.key in ctx.answers and step.applies(view):
                kept[step.key] = ctx.answers[step.key]
                if (words := step.key + "_words") in ctx.answers:  # what was said with it
                    kept[words] = ctx.answers[words]
        return kept
