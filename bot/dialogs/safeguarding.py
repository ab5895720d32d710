"""The safeguarding questions every report that may involve a child shares: is a child in
danger right now (SG-DANGER), and what does it involve (SG-HARM-TYPES). A conversation
places them where its answers first show a child may be involved."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.dialogs.declarations import Context, Predicate, Step
from bot.dialogs.engine import OPENING
from bot.dialogs.parsing import NOT_SURE
from bot.domain import harm
from bot.domain.messages import Guidance

DANGER = "danger"
HARM = "harm"


def danger_step(ask_if: Predicate, key: str = DANGER, *, first: bool = True) -> Step:
    """Asked once, as early as a child may be involved: a yes raises the alarm before any
    other question (`first`: no other question about it has been asked yet)."""
    question = "is a child in danger right now, or at risk of harm today?"
    return Step(
        key,
        f"Before anything else: {question}" if first else question.capitalize(),
        "yesno",
        ask_if=ask_if,
        hint=(
            "For example a threat to hurt them today, or a child who may hurt themselves. "
            "If you're not sure, say so: the safeguarding lead hears at once."
        ),
        not_sure=True,  # when in doubt, the DSL hears (SG-DANGER)
    )


def harm_step(ask_if: Predicate) -> Step:
    """What it involves. Words from the first message suggest a category; the member of
    staff always confirms it by choosing."""
    return Step(
        HARM,
        _harm_prompt,
        "choice",
        choices=harm.HARMS,  # always in this order: a number means the same thing every time
        ask_if=ask_if,
        hint="Choose the closest. Each one gets its own advice.",
        then_say=_at_once,
    )


def _at_once(ctx: Context) -> str | None:
    """A nude image of a child: what not to do, before any other question (SG-NUDES)."""
    if not is_nude_image(ctx):
        return None
    [advice] = harm.harm_guidance(ctx.pack, harm.NUDES)
    return f"Thank you. Please read this first:\n• {advice.text}\nI won't ask you for the image."


def suggested(ctx: Context) -> str | None:
    return harm.suggested_harm(str(ctx.options.get(OPENING) or ""))


def _harm_prompt(ctx: Context) -> str:
    guess = suggested(ctx)
    if guess is None:
        return "What does it involve?"
    label = harm.HARM_LABELS[guess].lower()
    return (
        f"From what you said, I think it involves {label}. Please choose it to confirm, "
        "or choose what fits better."
    )


def is_nude_image(ctx: Context) -> bool:
    return ctx.answers.get(HARM) == harm.NUDES


# Harm where a file is likely to be a sexual image of a child: none is ever kept.
NO_FILES = (harm.NUDES, harm.GROOMING)


def takes_no_files(ctx: Context) -> bool:
    """A nude image or grooming, as chosen, or as the first message suggests before the
    category is chosen: files are refused from the start, not only once confirmed."""
    chosen = ctx.answers.get(HARM)
    return chosen in NO_FILES or (chosen is None and suggested(ctx) in NO_FILES)


def nude_image_refusal(ctx: Context) -> str | None:
    return harm.NUDE_UPLOAD_REFUSED if takes_no_files(ctx) else None


def raises_alarm(ctx: Context) -> bool:
    """A child in danger now, or a nude image of a child: the DSL hears at once."""
    return in_danger(ctx) or is_nude_image(ctx)


def in_danger(ctx: Context) -> bool:
    """Yes, or not sure: a possible danger takes the same urgent path to the DSL."""
    return any(ctx.answers.get(key) for key in (DANGER, f"{DANGER}_child"))


def unsure_of_danger(ctx: Context) -> bool:
    """ "Not sure" and no yes: the advice says so, kindly, instead of "a child is in danger"."""
    said = [ctx.answers.get(key) for key in (DANGER, f"{DANGER}_child")]
    return NOT_SURE in said and True not in said


def danger_label(ctx: Context) -> str:
    """The danger answer as the case reads it: "yes", "no" or "not sure"."""
    if unsure_of_danger(ctx):
        return "not sure"
    return "yes" if in_danger(ctx) else "no"


def danger_advice(ctx: Context, go_to: str | None = None) -> Guidance:
    """What to do now, for a yes or a not sure (SG-DANGER)."""
    return harm.danger_guidance(ctx.pack, go_to, unsure=unsure_of_danger(ctx))


# Answers that on their own say a child is involved, whatever else was said.
_CHILD_ANSWERS = {
    "target": {"pupil"},
    "sender": {"current_pupil", "former_pupil", "young_person"},
}
_CHILD_FLAGS = ("danger", f"{DANGER}_child", "safeguarding", "concerning", "contacting", HARM)


def concerns_a_child(state: Mapping[str, Any]) -> bool:
    """Does an unfinished conversation already concern a child (SG-UNFINISHED)? Any answer
    or free text so far, the first message included: when in doubt, the DSL hears."""
    answers = state.get("answers") or {}
    if any(answers.get(key) in values for key, values in _CHILD_ANSWERS.items()):
        return True
    if any(answers.get(key) for key in _CHILD_FLAGS):
        return True
    words = [str((state.get("options") or {}).get(OPENING) or "")]
    words += [str(v) for v in answers.values() if isinstance(v, str)]
    # A child mentioned, or a harm that is about children whoever it names ("nudes",
    # "grooming"); "abuse" alone may be aimed at staff.
    return any(
        harm.about_a_child(w) or harm.suggested_harm(w) in harm.URGENT_HARMS for w in words if w
    )


def shows_risk(state: Mapping[str, Any]) -> bool:
    """Signs a child may be at risk, not merely that one is mentioned: a worrying answer,
    a harm chosen, or words naming a harm ("nudes", "hurting himself")."""
    answers = state.get("answers") or {}
    if any(answers.get(key) for key in _CHILD_FLAGS):
        return True
    words = [str((state.get("options") or {}).get(OPENING) or "")]
    words += [str(v) for v in answers.values() if isinstance(v, str)]
    return any(harm.suggested_harm(w) in harm.URGENT_HARMS for w in words if w)
