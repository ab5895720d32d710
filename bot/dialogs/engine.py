"""The dialog engine: `state + input -> new state + replies`, the same for every platform.

A dialog is an ordered list of steps. Each step may be skipped by a condition on earlier
answers, and may repeat once per item of an earlier answer (e.g. once per named person).
State is a small JSON document, so it can be stored after every turn and survive restarts.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.dialogs import parsing
from bot.dialogs.declarations import Context, Dialog, Step
from bot.dialogs.outcome import Outcome
from bot.dialogs.parsing import InvalidAnswer
from bot.domain.evidence import EvidenceFile
from bot.domain.messages import Choice, Message
from bot.domain.policy import PolicyPack

MAX_MESSAGE_CHARS = 4000

CANCEL_WORDS = {"cancel", "stop", "quit", "exit", "abort"}
BACK_WORDS = {"back", "go back", "undo", "previous"}
HELP_WORDS = {"help", "?", "what do i do", "i don't understand"}
# Suffix of the answer key that keeps what someone typed with a yes, a no or a choice
# ("yeah she said she's being hurt at home"): the answer is the yes; the words are kept too.
WORDS = "_words"  # also known to Dialog.effective_answers
# Words typed at a yes/no or choice question that were not an answer: [step key, words],
# kept in the conversation until that question is answered, then kept with the answer.
PENDING_WORDS = "pending_words"
DONE_WORDS = {"done", "finished", "that's all", "thats all", "no more", "none", "no"}


@dataclass(frozen=True)
class UserInput:
    text: str = ""
    files: tuple[EvidenceFile, ...] = ()


# Where a conversation keeps the reference of the case an alarm opened, and the files it
# removed because it may not keep them (the chronology names each by its SHA-256).
CASE = "case"
REMOVED_FILES = "removed_evidence"
# A file refused unkept (SG-NUDES): the case's chronology says so, as the reporter may
# still hold a copy. Its action in the audit log:
UPLOAD_REFUSED = "upload_refused"
UPLOAD_REFUSED_EVENT = "upload.refused"
OPENING = "opening"  # in the options: the first sentence, word for word
UNDERSTOOD = "understood"  # answers the first sentence gave to questions not yet reached


@dataclass
class Turn:
    state: dict[str, Any] | None
    messages: list[Message] = field(default_factory=list)
    outcome: Any = None
    alarm: Any = None  # an Outcome to open as a case now (Dialog.alarm)
    discard: list[dict[str, Any]] = field(default_factory=list)  # files to delete now
    # A report whose case an alarm opened, stopped part-way: what it said so far, which
    # joins that case (nothing half-said is lost).
    stopped: dict[str, Any] | None = None


def _ctx(pack: PolicyPack, state: Mapping[str, Any], now: datetime) -> Context:
    return Context(pack, state["answers"], now, state.get("options") or {})


def _repeat_items(step: Step, ctx: Context) -> list[str]:
    return step.repeat_over(ctx) if step.repeat_over else []


def _next_position(
    dialog: Dialog, ctx: Context, after: str | None, item: int | None
) -> tuple[str, int | None] | None:
    keys = [s.key for s in dialog.steps]
    if after is not None:
        current = dialog.step(after)
        items = _repeat_items(current, ctx)
        if current.repeat_over and item is not None and item + 1 < len(items):
            return after, item + 1
    start = 0 if after is None else keys.index(after) + 1
    for step in dialog.steps[start:]:
        if not step.applies(ctx):
            continue
        if step.repeat_over:
            if not _repeat_items(step, ctx):
                continue
            return step.key, 0
        return step.key, None
    return None


def _prompt(dialog: Dialog, state: Mapping[str, Any], ctx: Context, lead: str = "") -> Message:
    step = dialog.step(state["step"])
    item = None
    if step.repeat_over is not None:
        item = _repeat_items(step, ctx)[state.get("item") or 0]
    text = step.text(ctx, item)
    if step.kind == "files" and (count := len(state["answers"].get(step.key) or [])):
        text = f"{text}\n\n{_so_far(count)}"  # e.g. when they come back to it later
    if lead:
        text = f"{lead}\n\n{text}"
    choices = step.options(ctx)
    if step.kind == "files":
        choices = (Choice("done", "Done"),)
    return Message(
        text=text,
        title=dialog.title,
        choices=choices,
        expects_files=step.kind == "files",
        free_text_allowed=step.kind not in ("choice", "yesno") or step.other_allowed,
        step=step_id(state),
        hint=step.hint or None if step.other_allowed and choices else None,
    )


def step_id(state: Mapping[str, Any]) -> str:
    """The pending question of this conversation, e.g. "friend_request.family@1f2e3d4c"
    or "...trained#1@..." for a repeated step. Answer buttons carry it, so a button from
    an earlier question, or from an earlier conversation at the same question, is spotted."""
    item = state.get("item")
    base = f"{state['dialog']}.{state['step']}" + (f"#{item}" if item is not None else "")
    conversation = state.get("conversation")
    return f"{base}@{conversation}" if conversation else base


def answers_current(state: Mapping[str, Any], answering: str) -> bool:
    """Does a button bound to `answering` belong to this conversation's pending question?

    A button from before conversations had ids names only the step: it could have come
    from an earlier conversation at the same step, so it is not taken as current."""
    return bool(state.get("conversation")) and answering == step_id(state)


def answered_label(
    dialog: Dialog, before: Mapping[str, Any], text: str, pack: PolicyPack, now: datetime
) -> str:
    """What to show under a question once `text` answered it: a choice's own label (also
    for a number or a nickname typed), or the words themselves, shortened."""
    step = dialog.step(before["step"])
    ctx = _ctx(pack, before, now)
    options = (Choice("done", "Done"),) if step.kind == "files" else step.options(ctx)
    if options:
        try:
            value = parsing.parse_choice(text, options, other_allowed=step.other_allowed)
        except InvalidAnswer:
            value = None
        if step.kind == "yesno":
            try:
                value = _yes_no_value(step, text)
            except InvalidAnswer:
                value = None
        label = next((c.label for c in options if c.value == value), None)
        if label is not None:
            return label
    said = " ".join(text.split()) or "Done"  # files sent, no words
    return said if len(said) <= ANSWER_SHOWN else said[: ANSWER_SHOWN - 1] + "…"


ANSWER_SHOWN = 200  # characters of a typed answer shown under its question
# Doubt said plainly: the answer "Not sure" itself, nothing more to keep word for word.
UNSURE_WORDS = {
    "not sure", "unsure", "don't know", "dont know", "i don't know", "maybe", "possibly",
    "perhaps", "i think so", "no idea", "idk", "dunno", "not_sure",
}  # fmt: skip


def new_conversation_id() -> str:
    """Random, so a finished conversation's buttons never match the next one's."""
    return secrets.token_hex(4)


def bind(state: Mapping[str, Any]) -> dict[str, Any]:
    """The state with a conversation id (states saved before ids existed get one now)."""
    if state.get("conversation"):
        return dict(state)
    return {**state, "conversation": new_conversation_id()}


def start(
    dialog: Dialog,
    pack: PolicyPack,
    now: datetime,
    options: Mapping[str, Any] | None = None,
    opening: str = "",
) -> Turn:
    """Begin a dialog; `opening` is the person's own first sentence, if they typed one."""
    state: dict[str, Any] = {
        "dialog": dialog.name,
        "conversation": new_conversation_id(),
        "answers": {},
        "history": [],
    }
    if options or opening:
        state["options"] = dict(options or {})
    if opening:
        state["options"][OPENING] = opening[:MAX_MESSAGE_CHARS]
    ctx = _ctx(pack, state, now)
    intro = dialog.intro(ctx) if callable(dialog.intro) else dialog.intro
    understood, note = (
        dialog.understand(opening, ctx) if opening and dialog.understand else ({}, "")
    )
    position = _next_position(dialog, ctx, None, None)
    while position is not None and position[0] in understood and position[1] is None:
        # Stored as if answered, so "back" returns to the question and the answer can change.
        _store(state, dialog.step(position[0]), understood.pop(position[0]))
        ctx = _ctx(pack, state, now)
        position = _next_position(dialog, ctx, position[0], None)
    assert position is not None, "a dialog needs a step the opening sentence can't answer"
    if understood:  # answers to later questions ("on insta"): taken when they come up
        state[UNDERSTOOD] = understood
    state["step"], state["item"] = position
    if note and (state["history"] or state.get(UNDERSTOOD)):
        intro = f"{intro} {note}"
    return Turn(state, [_prompt(dialog, state, ctx, intro)])


def current_prompt(
    dialog: Dialog, state: dict[str, Any], pack: PolicyPack, now: datetime, lead: str = ""
) -> Message:
    """Ask the pending question again, e.g. after a restart or when someone comes back."""
    return _prompt(dialog, state, _ctx(pack, state, now), lead)


def parse_answer(step: Step, user_input: UserInput, ctx: Context) -> Any:
    text = user_input.text
    match step.kind:
        case "choice":
            return parsing.parse_choice(text, step.options(ctx), other_allowed=step.other_allowed)
        case "yesno":
            if step.not_sure and parsing.is_not_sure(text):
                return parsing.NOT_SURE
            return parsing.parse_yes_no(text)
        case "text":
            return parsing.parse_text(text, step.max_chars)
        case "past_datetime":
            return parsing.parse_past_datetime(text, ctx.now)
        case "any_date":
            return parsing.parse_any_date(text, ctx.today)
        case "left_date":
            return parsing.parse_left_date(text, ctx.today)
        case "age_or_birthday":
            return parsing.parse_age_or_birthday(text, ctx.today)
        case "url":
            return parsing.parse_url(text)
        case "people":
            return parsing.parse_people(text)
    raise AssertionError(f"unhandled step kind {step.kind}")


def _yes_no_value(step: Step, text: str) -> str:
    """The choice value a yes-or-no answer stands for ("yes", "no", "not_sure")."""
    if step.not_sure and parsing.is_not_sure(text):
        return parsing.NOT_SURE
    return "yes" if parsing.parse_yes_no(text) else "no"


def _files_step(dialog: Dialog) -> Step | None:
    return next((s for s in dialog.steps if s.kind == "files"), None)


def advance(
    dialog: Dialog, state: dict[str, Any], user_input: UserInput, pack: PolicyPack, now: datetime
) -> Turn:
    """One user turn. Never raises for bad input: it re-asks with a message instead."""
    state = {**bind(state), "answers": dict(state["answers"]), "history": list(state["history"])}
    ctx = _ctx(pack, state, now)
    step = dialog.step(state["step"])
    said = parsing.normalise(user_input.text) if user_input.text else ""

    if len(user_input.text) > MAX_MESSAGE_CHARS:
        return Turn(
            state,
            [
                _prompt(
                    dialog,
                    state,
                    ctx,
                    (
                        f"That message is too long for me ({len(user_input.text):,} characters). Please send "
                        f"it in shorter parts (under {MAX_MESSAGE_CHARS:,}), or as a file. "
                        "Your earlier answers are safe."
                    ),
                )
            ],
        )
    if said in CANCEL_WORDS and not user_input.files:
        if state.get(CASE):  # an alarm already went: say so, truthfully, and keep it all
            stopped = (
                f"OK, I've stopped. The urgent alert {state[CASE]} stays with the safeguarding "
                "lead, with what you told me so far. Message me any time to add more."
            )
            return Turn(None, [Message(stopped)], stopped=_said_so_far(dialog, state, pack, now))
        stopped = (
            "OK, I've stopped. Nothing was sent to anyone. Message me any time to start again."
        )
        return Turn(None, [Message(stopped)])
    if said in BACK_WORDS and not user_input.files:
        return _go_back(dialog, state, ctx)
    if said in HELP_WORDS and not user_input.files:
        hint = step.hint or "Answer the question above."
        sent = (
            f"The safeguarding lead already has {state[CASE]}; what you add joins it."
            if state.get(CASE)
            else "Nothing is sent to anyone until the end."
        )
        help_text = (
            f"{hint} You can also say back to change your last answer, or cancel to stop. {sent}"
        )
        return Turn(state, [_prompt(dialog, state, ctx, help_text)])

    refusal = dialog.file_refusal(ctx) if user_input.files else None
    if refusal:
        # Never stored: the platform checks first, so these records are only ever names.
        if not said:
            return Turn(state, [_prompt(dialog, state, ctx, refusal)])
        user_input = UserInput(user_input.text)
        lead = refusal
    else:
        lead = ""
    turn = _answer(dialog, state, user_input, ctx, said=said)
    if lead and turn.messages:
        first = turn.messages[0]
        turn.messages[0] = dataclasses.replace(first, text=f"{lead}\n\n{first.text}")
    return turn


def _answer(
    dialog: Dialog, state: dict[str, Any], user_input: UserInput, ctx: Context, *, said: str
) -> Turn:
    step = dialog.step(state["step"])
    pack, now = ctx.pack, ctx.now
    files_step = _files_step(dialog)
    if user_input.files and files_step is not None and step is not files_step:
        stored = list(state["answers"].get(files_step.key, []))
        added, again = _keep_files(stored, user_input.files)
        state["answers"][files_step.key] = stored
        kept = f"Thanks, I've kept {_names(added)} as evidence." if added else ""
        if not said:
            return Turn(state, [_prompt(dialog, state, ctx, f"{kept} {again}".strip())])

    if step.kind == "files":
        return _files_turn(dialog, state, ctx, step, user_input, said=said)

    try:
        value = parse_answer(step, user_input, ctx)
        if step.check and (problem := step.check(value, ctx)):
            raise InvalidAnswer(problem)
    except InvalidAnswer as exc:
        problem = str(exc)
        if _keeps_unanswered_words(step, said):
            # "she told me she's being hurt at home" at a yes-or-no question: not an answer,
            # but never thrown away; it goes with the answer that follows.
            state[PENDING_WORDS] = [step.key, user_input.text.strip()[: step.max_chars]]
            problem = f"I've kept what you wrote. {problem}"
        return Turn(state, [_prompt(dialog, state, ctx, problem)])
    _store(state, step, value)
    words = words_with(step, user_input.text, value, ctx)
    pending = state.pop(PENDING_WORDS, None)
    if not words and pending and pending[0] == step.key:
        words = pending[1]
    if words:
        state["answers"][step.key + WORDS] = words[: step.max_chars]
    else:
        state["answers"].pop(step.key + WORDS, None)
    return _move_on(dialog, state, pack, now)


def _keeps_unanswered_words(step: Step, said: str) -> bool:
    """Several words that are not an answer to a yes/no or choice question are kept."""
    return step.kind in ("yesno", "choice") and step.repeat_over is None and len(said.split()) >= 3


def words_with(step: Step, text: str, value: Any, ctx: Context) -> str | None:
    """What was said beyond a bare yes, no or choice, word for word; None for a bare one.
    Nothing a person types is thrown away: "yeah she sent me a message saying she's being
    hurt at home" is a yes, and those words reach whoever reads the case. A guess ("about
    16 i think") and a reason for no link ("its a snap story") are kept the same way."""
    if step.repeat_over is not None or not text:
        return None
    if step.kind in ("age_or_birthday", "past_datetime", "left_date"):
        said = parsing.normalise(text)
        return text.strip() if parsing.unhedged(said) != said.strip(" ,.!?") else None
    if step.kind == "url":
        plain = value is None and parsing.normalise(text) not in parsing.SKIP_WORDS
        return text.strip() if plain else None
    if step.kind not in ("yesno", "choice"):
        return None
    options = step.options(ctx)
    if step.kind == "choice" and value not in {c.value for c in options}:
        return None  # an "other" answer is the words themselves
    said = parsing.normalise(text)
    if step.kind == "choice" and len(said.split()) < 3:
        return None  # "insta", "a parent": the choice itself, however it was spelt
    bare = {"1", "2", *parsing.YES, *parsing.NO} if step.kind == "yesno" else set()
    if step.not_sure:
        bare |= UNSURE_WORDS
    for number, choice in enumerate(options, 1):
        bare |= {parsing.normalise(choice.label), parsing.normalise(choice.value), str(number)}
    return None if said in bare else text.strip()


def _store(state: dict[str, Any], step: Step, value: Any) -> None:
    if step.repeat_over is not None:
        per_item = dict(state["answers"].get(step.key) or {})
        per_item[str(state["item"])] = value
        state["answers"][step.key] = per_item
    else:
        state["answers"][step.key] = value
    state["history"].append([step.key, state.get("item")])


def _move_on(dialog: Dialog, state: dict[str, Any], pack: PolicyPack, now: datetime) -> Turn:
    ctx = _ctx(pack, state, now)
    discard = _drop_refused_files(dialog, state, ctx)
    position = _next_position(dialog, ctx, state["step"], state.get("item"))
    if position is None:
        final = Context(pack, dialog.effective_answers(ctx), now)
        outcome = dialog.finish(final)
        if isinstance(outcome, Outcome):
            details = {**outcome.details, **_kept_aside(state)}
            outcome = dataclasses.replace(outcome, joins=state.get(CASE), details=details)
        return Turn(None, [], outcome=outcome, discard=discard)
    answered = dialog.step(state["step"])
    lead = (answered.then_say(ctx) or "") if answered.then_say else ""
    if discard:
        deleted = (
            f"I've deleted the file{'s' if len(discard) > 1 else ''} you sent earlier, "
            "without anyone looking at it: I may not keep an image of a child."
        )
        lead = f"{deleted}\n\n{lead}".strip()
    state["step"], state["item"] = position
    position = _take_understood(dialog, state, pack, now)
    if position is None:
        final = Context(pack, dialog.effective_answers(_ctx(pack, state, now)), now)
        outcome = dialog.finish(final)
        if isinstance(outcome, Outcome):
            details = {**outcome.details, **_kept_aside(state)}
            outcome = dataclasses.replace(outcome, joins=state.get(CASE), details=details)
        return Turn(None, [], outcome=outcome, discard=discard)
    ctx = _ctx(pack, state, now)
    alarm = None
    if dialog.alarm is not None and not state.get(CASE) and not state.get("alarmed"):
        alarm = dialog.alarm(Context(pack, dialog.effective_answers(ctx), now))
        if isinstance(alarm, Outcome) and state.get(UPLOAD_REFUSED):
            alarm = dataclasses.replace(alarm, details={**alarm.details, UPLOAD_REFUSED: True})
        if alarm is not None:
            state["alarmed"] = True  # once: the router records the case it opened
            # The first sentence goes with the alert: the DSL reads it from the start.
            if opening := (state.get("options") or {}).get(OPENING):
                alarm = dataclasses.replace(alarm, details={**alarm.details, OPENING: opening})
    return Turn(state, [_prompt(dialog, state, ctx, lead)], alarm=alarm, discard=discard)


def _take_understood(
    dialog: Dialog, state: dict[str, Any], pack: PolicyPack, now: datetime
) -> tuple[str, int | None] | None:
    """A question the first sentence already answered ("on insta") is answered now, as if
    typed, so "back" can still change it; returns the position of the next one to ask."""
    understood = state.get(UNDERSTOOD) or {}
    position: tuple[str, int | None] | None = (state["step"], state.get("item"))
    while position is not None and position[1] is None and position[0] in understood:
        _store(state, dialog.step(position[0]), understood.pop(position[0]))
        position = _next_position(dialog, _ctx(pack, state, now), position[0], None)
        if position is not None:
            state["step"], state["item"] = position
    if not understood:
        state.pop(UNDERSTOOD, None)
    return position


def _said_so_far(
    dialog: Dialog, state: dict[str, Any], pack: PolicyPack, now: datetime
) -> dict[str, Any]:
    """Every answer given and every word kept, for the case an alarm opened."""
    ctx = Context(pack, dialog.effective_answers(_ctx(pack, state, now)), now)
    alarm = dialog.alarm(ctx) if dialog.alarm is not None else None
    details = dict(alarm.details) if alarm is not None else {}
    if opening := (state.get("options") or {}).get(OPENING):
        details[OPENING] = opening  # files removed are already in the case's chronology
    return {"case": state[CASE], "details": details}


def _kept_aside(state: Mapping[str, Any]) -> dict[str, Any]:
    """What the case keeps beyond the answers: the first sentence, the files removed."""
    kept: dict[str, Any] = {}
    if removed := state["answers"].get(REMOVED_FILES):
        kept[REMOVED_FILES] = removed
    if state.get(UPLOAD_REFUSED):
        kept[UPLOAD_REFUSED] = True
    if opening := (state.get("options") or {}).get(OPENING):
        kept[OPENING] = opening
    return kept


def _drop_refused_files(
    dialog: Dialog, state: dict[str, Any], ctx: Context
) -> list[dict[str, Any]]:
    """Files sent before the bot knew it may not keep them (a nude image of a child,
    SG-NUDES): out of the answers now, their names and hashes kept for the chronology."""
    files_step = _files_step(dialog)
    if files_step is None or not state["answers"].get(files_step.key):
        return []
    if not dialog.file_refusal(ctx):
        return []
    dropped = list(state["answers"].pop(files_step.key))
    state["answers"][REMOVED_FILES] = [*state["answers"].get(REMOVED_FILES, []), *dropped]
    return dropped


def file_refusal(
    dialog: Dialog, state: Mapping[str, Any], pack: PolicyPack, now: datetime
) -> str | None:
    """Why this conversation may not take files now (asked before a platform downloads)."""
    return dialog.file_refusal(_ctx(pack, state, now))


def _go_back(dialog: Dialog, state: dict[str, Any], ctx: Context) -> Turn:
    if not state["history"]:
        return Turn(
            state,
            [
                _prompt(
                    dialog,
                    state,
                    ctx,
                    (
                        "This is the first question, so there's nothing to go back to. Say cancel to stop."
                    ),
                )
            ],
        )
    key, item = state["history"].pop()
    state["step"], state["item"] = key, item
    return Turn(state, [_prompt(dialog, state, ctx, "OK, let's change that answer.")])


def file_record(f: EvidenceFile) -> dict[str, Any]:
    return {
        "filename": f.filename,
        "content_type": f.content_type,
        "size": f.size,
        "sha256": f.sha256,
    }


def _keep_files(
    stored: list[dict[str, Any]], files: tuple[EvidenceFile, ...]
) -> tuple[list[EvidenceFile], str]:
    """Adds each file not already kept (the same SHA-256) to `stored`; returns the files
    added and a sentence naming any sent again, which are kept once."""
    have = {f.get("sha256") for f in stored}
    added, again = [], []
    for f in files:
        if f.sha256 in have:
            again.append(f)
            continue
        have.add(f.sha256)
        added.append(f)
        stored.append(file_record(f))
    if not again:
        return added, ""
    one = len(again) == 1
    return added, (
        f"{_names(again)} {'was' if one else 'were'} already attached, so I've kept "
        f"{'it' if one else 'them'} once."
    )


def _names(files: list[EvidenceFile]) -> str:
    return ", ".join(f.describe() for f in files)


def _so_far(count: int) -> str:
    return f"That's {count} file{'s' if count != 1 else ''} so far."


def _files_turn(
    dialog: Dialog,
    state: dict[str, Any],
    ctx: Context,
    step: Step,
    user_input: UserInput,
    *,
    said: str,
) -> Turn:
    stored = list(state["answers"].get(step.key, []))
    if user_input.files:
        added, again = _keep_files(stored, user_input.files)
        state["answers"][step.key] = stored
        got = f"Got it: {_names(added)}." if added else ""
        return Turn(
            state,
            [
                Message(
                    f"{got} {again} {_so_far(len(stored))} Send more, or say done.".lstrip(),
                    title=dialog.title,
                    choices=(Choice("done", "Done"),),
                    expects_files=True,
                    step=step_id(state),
                )
            ],
        )
    if said in DONE_WORDS:
        state["answers"][step.key] = stored
        state["history"].append([step.key, None])
        return _move_on(dialog, state, ctx.pack, ctx.now)
    return Turn(
        state,
        [
            _prompt(
                dialog,
                state,
                ctx,
                ("Please attach a screenshot or file here, or say done if you have no more."),
            )
        ],
    )
