"""Messages from staff: start or continue a conversation, or run a text command; the
feature that registered the conversation decides what its finish does."""

from __future__ import annotations

import dataclasses
import logging
import re
from typing import Any

from bot.dialogs import engine
from bot.dialogs.declarations import Dialog
from bot.dialogs.parsing import InvalidAnswer, normalise, parse_choice
from bot.dialogs.safeguarding import shows_risk
from bot.dispatch.first_words import (
    ASKING,
    HEARD,
    NOT_UNDERSTOOD,
    SOMETHING_ELSE,
    read_first_words,
)
from bot.domain.cases import Actor
from bot.domain.evidence import EvidenceFile
from bot.domain.messages import Message
from bot.domain.turns import Answered, TurnResult, TurnStatus
from bot.features.cases import opening
from bot.kernel.core import Kernel
from bot.kernel.registry import MENU_STEP
from bot.storage import repository as repo
from bot.storage.scoping import SchoolSession
from bot.storage.tables import DialogState

log = logging.getLogger(__name__)

GREETING = (
    "Hi, I'm the school's social media helper. What would you like to do? "
    "You can also just tell me what happened, in your own words."
)
# Words that only say hello (or thanks): the greeting answers them.
SMALL_TALK = re.compile(
    r"(?:hi|hello|hey|hiya|yo|morning|good (?:morning|afternoon|evening)|thanks|thank you|"
    r"cheers|ok|okay|start|menu)(?: there| again| bot)?"
)
REPORTER_NAME = "by"  # in a conversation's state: the name the platform gave its reporter
# Said when an answer button no longer answers anything (the turn's status is STALE): a
# short note, which Slack shows only to the person who pressed it. Nothing has changed.
ALREADY_ANSWERED = "That question has already been answered"
STALE_EARLIER = (
    f"{ALREADY_ANSWERED}, so nothing has changed. The question waiting for you is the "
    "latest one in our chat."
)
STALE_OTHER_REPORT = (
    f"{ALREADY_ANSWERED}: it belongs to an earlier report, so nothing has changed. The "
    "question waiting for you is the latest one in our chat."
)
STALE_NO_REPORT = (
    f"{ALREADY_ANSWERED}: it belongs to an earlier report, so nothing has changed. "
    "Message me any time to start something new."
)


class ConversationRouter:
    def __init__(self, kernel: Kernel):
        self.kernel = kernel
        self.registry = kernel.registry

    def menu(self, text: str = GREETING) -> Message:
        return Message(text, choices=self.registry.menu(), step=MENU_STEP)

    def handle(
        self,
        session: SchoolSession,
        actor: Actor,
        text: str,
        files: tuple[EvidenceFile, ...],
        answering: str | None = None,
    ) -> TurnResult:
        """One turn: `answering` names the question a choice button belonged to."""
        conversations = self.registry.conversations
        row = repo.get_dialog(session, actor.platform, actor.user_id)
        current = row.state if row is not None and row.dialog in conversations else None
        if answering and not (
            (current is None and answering == MENU_STEP)
            or (current is not None and engine.answers_current(current, answering))
        ):
            # A button from an earlier question or conversation (a double click,
            # scrolling back, or a report finished since).
            return TurnResult(self._stale(session, actor, row, answering), TurnStatus.STALE)
        if row is None or row.dialog not in conversations:
            heard = (
                str(row.state.get(HEARD) or "") if row is not None and row.dialog == ASKING else ""
            )
            return TurnResult(self._idle(session, actor, text, files, heard=heard))
        dialog = conversations[row.dialog].dialog
        if aside := self._aside(session, actor, text, dialog, row.state):
            return TurnResult(aside)
        before = row.state
        turn = engine.advance(
            dialog,
            row.state,
            engine.UserInput(text, files),
            self.kernel.pack,
            self.kernel.local_now(),
        )
        if _asked_again(row.state, turn) and not files:
            turn.messages = self._elsewhere(text, row.dialog) + turn.messages
        if _stopped(turn) and not before.get(engine.CASE) and shows_risk(before):
            # They chose to stop; what they said may still be about a child at risk.
            lead = self.kernel.pack.role_label(self.kernel.pack.lead_dsl_role)
            turn.messages.append(Message(CANCELLED_ABOUT_A_CHILD.format(lead=lead)))
        answered = self._answered(dialog, before, turn, text)
        return TurnResult(self._apply(session, actor, dialog.name, turn), answered=answered)

    def _answered(
        self, dialog: Dialog, before: dict[str, Any], turn: engine.Turn, text: str
    ) -> Answered | None:
        """The question this turn answered, if it moved on from it (not asked again, not
        gone back, not stopped), so its message can show the answer and lose its buttons."""
        if not before.get("conversation") or _stopped(turn):
            return None
        after = turn.state
        if after is not None and len(after.get("history", [])) <= len(before.get("history", [])):
            return None
        pack, now = self.kernel.pack, self.kernel.local_now()
        label = engine.answered_label(dialog, before, text, pack, now)
        return Answered(engine.step_id(before), label)

    def _elsewhere(self, text: str, current: str) -> list[Message]:
        """Words that didn't answer the question but clearly ask for another conversation
        ("actually it's a fake account"): say how to switch, rather than only "sorry"."""
        understanding = self.registry.understand(text, self.kernel.pack.understanding.words)
        other = self.registry.conversations.get(understanding.label)
        if other is None or other.name == current or understanding.confidence < SWITCH:
            return []
        return [
            Message(
                f"That sounds like {other.label.lower()} rather than this report. To switch, "
                "say cancel and tell me about it again. Or answer the question below."
            )
        ]

    def _aside(
        self, session: SchoolSession, actor: Actor, text: str, dialog: Dialog, state: dict[str, Any]
    ) -> list[Message]:
        """`case FR-0001` or `my cases` typed while a question is open does what it says,
        then the question is asked again; nothing of the report changes. Only these exact
        forms, so no answer is ever taken for a command."""
        said = normalise(text)
        if not (said.startswith("case ") or said == "my cases"):
            return []
        for command in self.registry.commands.values():
            argument = command.match(self.registry, text, said)
            if argument is not None:
                replies = command.handle(self.kernel, session, actor, argument)
                pack, now = self.kernel.pack, self.kernel.local_now()
                lead = "Your report is still open. Here's where we were:"
                return [*replies, engine.current_prompt(dialog, state, pack, now, lead)]
        return []

    def greet(self, session: SchoolSession, actor: Actor, lead: str | None = None) -> list[Message]:
        """The menu, or the pending question if a conversation is half-finished."""
        row = repo.get_dialog(session, actor.platform, actor.user_id)
        if row is None or row.dialog not in self.registry.conversations:
            return [self.menu()]
        dialog = self.registry.conversations[row.dialog].dialog
        if lead is None:
            lead = f"Welcome back. We were in the middle of your {dialog.title.lower()}; your answers are saved."
        pack, now = self.kernel.pack, self.kernel.local_now()
        return [engine.current_prompt(dialog, row.state, pack, now, lead)]

    def _stale(
        self, session: SchoolSession, actor: Actor, row: DialogState | None, answering: str
    ) -> list[Message]:
        """A short note and nothing changed. The question waiting is asked again only when
        its own buttons can't work: a conversation saved before ids, bound now."""
        if row is None or row.dialog not in self.registry.conversations:
            return [Message(STALE_NO_REPORT)]
        state = row.state
        if state.get("conversation"):
            # A menu button, or one from before ids, can't be told apart: "already answered".
            ours = "@" not in answering or answering.rpartition("@")[2] == state["conversation"]
            return [Message(STALE_EARLIER if ours else STALE_OTHER_REPORT)]
        state = engine.bind(state)  # saved before ids: bind it, so new buttons work
        repo.save_dialog(session, actor.platform, actor.user_id, state, self.kernel.now())
        return [
            Message(STALE_EARLIER),
            engine.current_prompt(
                self.registry.conversations[row.dialog].dialog,
                state,
                self.kernel.pack,
                self.kernel.local_now(),
                "Here's where we are:",
            ),
        ]

    def _apply(
        self, session: SchoolSession, actor: Actor, name: str, turn: engine.Turn
    ) -> list[Message]:
        if turn.alarm is not None and turn.state is not None:
            raise_alarm = self.registry.conversations[name].alarm
            if raise_alarm is not None:
                ref, said = raise_alarm(self.kernel, session, actor, turn.alarm)
                turn.state[engine.CASE] = ref
                turn.messages = _lead_with(said, turn.messages)
        case_ref = (turn.state or {}).get(engine.CASE)
        for record in turn.discard:
            self._discard(session, actor, record, case_ref)
        if turn.outcome is not None:
            repo.clear_dialog(session, actor.platform, actor.user_id)
            finish = self.registry.conversations[name].finish
            return finish(self.kernel, session, actor, name, turn.outcome)
        if turn.state is None:
            repo.clear_dialog(session, actor.platform, actor.user_id)
            log.info("dialog %s cancelled", name)
            if turn.stopped is not None:
                opening.stopped(self.kernel, session, actor, **turn.stopped)
        else:
            if actor.name and not turn.state.get(REPORTER_NAME):
                # An unfinished report passed to the DSL says who started it (SG-UNFINISHED).
                turn.state[REPORTER_NAME] = actor.name[:200]
            repo.save_dialog(session, actor.platform, actor.user_id, turn.state, self.kernel.now())
        return turn.messages

    def _discard(
        self, session: SchoolSession, actor: Actor, record: dict[str, object], case_ref: str | None
    ) -> None:
        """Delete a file the conversation may not keep (a nude image of a child) from the
        store now. The case's chronology names it by its SHA-256: now, if an alarm has
        opened the case, or else when the case opens."""
        sha256 = str(record.get("sha256") or "")
        if not sha256:
            return
        mine = (actor.platform, actor.user_id)
        # Another case's or conversation's copy is the same file: that one stays.
        if not repo.evidence_in_use(session, sha256, except_dialog=mine, answers=False):
            self.kernel.evidence.remove(sha256)
        subject = case_ref or actor.key
        repo.audit(
            session, self.kernel.now(), actor.key, "evidence.removed", subject, sha256=sha256
        )
        log.info("a file the conversation may not keep was removed from the store")

    def _start(
        self,
        session: SchoolSession,
        actor: Actor,
        name: str,
        files: tuple[EvidenceFile, ...] = (),
        opening: str = "",
    ) -> list[Message]:
        conversation = self.registry.conversations[name]
        options = None
        if conversation.prepare is not None:
            prepared = conversation.prepare(self.kernel, session)
            if isinstance(prepared, Message):
                return [prepared]
            options = prepared
        pack, now = self.kernel.pack, self.kernel.local_now()
        turn = engine.start(conversation.dialog, pack, now, options, opening)
        if files and turn.state is not None:
            turn.state["answers"]["evidence"] = [engine.file_record(f) for f in files]
            names = ", ".join(f.describe() for f in files)
            turn.messages.insert(0, Message(f"Thanks, I've kept {names} as evidence."))
        log.info("dialog %s started", name)
        return self._apply(session, actor, name, turn)

    # --- when no conversation is in progress ---------------------------------------------

    def _idle(
        self,
        session: SchoolSession,
        actor: Actor,
        text: str,
        files: tuple[EvidenceFile, ...],
        *,
        heard: str = "",
    ) -> list[Message]:
        """No conversation in progress. `heard`: what they typed before we asked which
        conversation they meant; the one they choose hears it."""
        said = normalise(text)
        if files:
            takes = next((c for c in self.registry.conversations.values() if c.takes_files), None)
            if takes is not None:
                return self._start(session, actor, takes.name, files)
        if len(text) > engine.MAX_MESSAGE_CHARS:
            return [
                self.menu(
                    "That message is too long for me. Please tell me in a sentence what "
                    "happened, and I'll guide you from there."
                )
            ]
        for command in self.registry.commands.values():
            argument = command.match(self.registry, text, said)
            if argument is not None:
                return command.handle(self.kernel, session, actor, argument)
        if said in engine.CANCEL_WORDS:
            return [self.menu("There's nothing in progress to cancel.")]
        try:
            choice = parse_choice(text, self.registry.menu()) if said else None
        except InvalidAnswer:
            choice = None
        if choice in self.registry.commands:
            return self.registry.commands[choice].handle(self.kernel, session, actor, "")
        if choice in self.registry.conversations:
            # A menu choice answers no question itself; words typed before it may.
            return self._start(session, actor, choice, opening=heard)
        if not said or said == SOMETHING_ELSE.value:
            return [self.menu()]
        understanding = self.registry.understand(text, self.kernel.pack.understanding.words)
        reading = read_first_words(self.registry, text, understanding, self.kernel.pack)
        if reading.start is not None:
            return self._start(session, actor, reading.start, opening=text)
        if reading.ask is None:  # a hello gets the greeting; other words, not understood
            return [self.menu() if SMALL_TALK.fullmatch(said) else self.menu(NOT_UNDERSTOOD)]
        asking = {"dialog": ASKING, HEARD: text, "answers": {}, "history": []}
        repo.save_dialog(session, actor.platform, actor.user_id, asking, self.kernel.now())
        return [reading.ask]


def _lead_with(first: list[Message], then: list[Message]) -> list[Message]:
    """One message, not two: what must be read first above the next question, so no
    platform can show them out of order."""
    if not first or not then:
        return [*first, *then]
    lead = "\n\n".join(m.text for m in first)
    return [dataclasses.replace(then[0], text=f"{lead}\n\n{then[0].text}"), *then[1:]]


# How sure the classifier must be before suggesting a switch away from an open question.
SWITCH = 0.6


def _asked_again(before: dict[str, Any], turn: engine.Turn) -> bool:
    """The same question again (an answer it couldn't read), not a step back or forward."""
    after = turn.state
    return (
        after is not None
        and turn.outcome is None
        and after.get("step") == before.get("step")
        and after.get("item") == before.get("item")
        and len(after.get("history", [])) == len(before.get("history", []))
    )


CANCELLED_ABOUT_A_CHILD = (
    "What you told me may be about a child at risk. If it is, please tell the {lead} in "
    "person today, or start again here whenever you're ready."
)


def _stopped(turn: engine.Turn) -> bool:
    """Cancelled: no conversation left and nothing finished."""
    return turn.state is None and turn.outcome is None
