"""What every branch of every conversation says: each piece of guidance cited, the police
told truly, a rule that no longer applies named, and the smaller wording slips.

The branch walker drives the real dialogs with the real engine: at every step it tries each
choice (or a set of answers that cross every rule boundary for free-text steps), so every
path a member of staff can take through every conversation in every bundled pack is seen.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from bot.dialogs import engine, parsing
from bot.dialogs.engine import Context, Dialog, Step, UserInput
from bot.dialogs.outcome import Outcome
from bot.domain import evidence
from bot.domain.policy import PolicyPack, bundled_pack_names, load_pack
from bot.domain.turns import StaffMessage
from bot.features import build_registry
from bot.features.comments.rules import guidance_for
from bot.storage.tables import Case, CaseTask
from tests.helpers import FakeClock, grant, make_service, say

DIALOGS = {name: c.dialog for name, c in build_registry().conversations.items()}

NOW = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)
PACKS = bundled_pack_names()
COMMENT_OPTIONS = {"accounts": [[1, "PE news"]]}


def _months_ago(today: date, months: int) -> str:
    year, month = divmod(today.year * 12 + today.month - 1 - months, 12)
    return f"{month + 1:02d}/{year}"


def candidate_answers(step: Step, ctx: Context) -> list[str]:
    """Every choice of a choice step; for typed answers, values either side of each rule."""
    today = ctx.today
    match step.kind:
        case "choice":
            values = [c.value for c in step.options(ctx)]
            return values + (["Another app"] if step.other_allowed else [])
        case "yesno":
            return ["yes", "no"]
        case "text":
            return ["Something that happened"]
        case "past_datetime":
            return ["yesterday"]
        case "any_date":
            return [(today + timedelta(days=14)).strftime("%d/%m/%Y")]
        case "left_date":  # left this term, a year, two, four and ten years ago
            return [_months_ago(today, m) for m in (2, 14, 26, 50, 120)]
        case "age_or_birthday":
            adult_born = date(today.year - 19, 1, 15).strftime("%d/%m/%Y")
            return ["12", "17", "18", "25", "not sure", adult_born]
        case "url":
            return ["no link", "https://example.com/post/1"]
        case "files":
            return ["done"]
        case "people":
            return ["Ms Brown, Mr Jones"]
    raise AssertionError(f"no candidate answers for step kind {step.kind}")


@dataclass
class Path:
    said: list[str]
    outcome: Any


def walk(dialog: Dialog, pack: PolicyPack, now: datetime = NOW) -> Iterator[Path]:
    """Depth-first over every branch; yields each finished conversation with what was said."""
    options = COMMENT_OPTIONS if dialog.name == "comment" else None
    first = engine.start(dialog, pack, now, options)
    stack: list[tuple[dict[str, Any], list[str]]] = [(first.state, [])]
    while stack:
        state, said = stack.pop()
        ctx = Context(pack, state["answers"], now, state.get("options") or {})
        step = dialog.step(state["step"])
        for answer in candidate_answers(step, ctx):
            turn = engine.advance(dialog, state, UserInput(answer), pack, now)
            path = [*said, answer]
            if turn.outcome is not None:
                yield Path(path, turn.outcome)
            elif turn.state is not None and len(turn.state["history"]) > len(state["history"]):
                stack.append((turn.state, path))
            # else: the answer was refused and the question asked again (e.g. "no" to the
            # account request's "Shall I send it?"), which is not a new branch.


def all_paths() -> Iterator[tuple[PolicyPack, str, str, Path]]:
    for name in PACKS:
        pack = load_pack(name)
        for dialog in DIALOGS.values():
            for path in walk(dialog, pack):
                yield pack, name, dialog.name, path


CITATION = re.compile(r"\(([^()]+)\)$")


def is_cited(pack: PolicyPack, clause: str, text: str) -> bool:
    """Ends with "(Policy <refs>)", or names the national guidance the pack maps the clause
    to ("(Policy 5.3; KCSIE 2025 Part one)"), and includes the pack's own ref for it."""
    found = CITATION.search(text)
    ref = pack.clauses.get(clause)
    if not (found and ref):
        return False
    refs = [part.strip() for part in found.group(1).removeprefix("Policy ").split(";")]
    listed = [r.strip() for part in refs for r in part.removeprefix("Policy ").split(",")]
    return ref in refs or ref in listed


# --- every piece of guidance carries a citation, on every branch --------------------------


@pytest.mark.issue(10, 20)
def test_every_guidance_line_on_every_branch_of_every_pack_is_cited():
    finished: dict[tuple[str, str], int] = {}
    uncited: list[str] = []
    for pack, pack_name, dialog_name, path in all_paths():
        finished[(pack_name, dialog_name)] = finished.get((pack_name, dialog_name), 0) + 1
        outcome = path.outcome
        if isinstance(outcome, Outcome):
            guidance = outcome.guidance
        else:  # a logged comment: the advice that travels with it to the moderators
            f = outcome.fields
            guidance = guidance_for(
                pack, f["author_type"], offensive=f["offensive"], complaint=f["complaint"]
            )
        for line in guidance:
            if not is_cited(pack, line.clause, line.text):
                uncited.append(f"{pack_name} {dialog_name} {path.said}: {line.text!r}")
    # Every conversation finished on some branch in every pack, so the walk really ran.
    assert set(finished) == {(p, d) for p in PACKS for d in DIALOGS}
    assert finished[("king-jamess-school", "friend_request")] > 1000
    assert uncited == [], "\n".join(uncited[:20])


# --- police consent has three states, and each is told truly --------------------------------

THREAT_AGAINST_PUPIL = [
    "I want to report cyberbullying",
    "a pupil",
    "no",  # nobody in danger right now
    "threats of violence",
    "snapchat",
    "no link",
    "yesterday",
    "Messages threatening a Year 9 pupil",
    "done",
    "yes",  # threatening
    "no",  # posted by a pupil?
]


def cases(service) -> list[Case]:
    with service.kernel.session() as session:
        return list(session.exec(select(Case)))


@pytest.mark.issue(10, 3)
def test_threat_against_pupil_asks_who_decides_police(service_factory):
    service = service_factory("default")
    grant(service, "dsl1", "dsl")
    [reply] = say(service, "teacher", *THREAT_AGAINST_PUPIL)
    assert "chose not to involve the police" not in reply
    assert (
        "Because it is threatening and a pupil is the target, the Designated Safeguarding "
        "Lead will decide whether to involve the police. You don't need to do anything about "
        "that. (Policy 5.5, 5.3)"
    ) in reply
    [case] = cases(service)
    assert "police_dsl_to_decide" in case.flags
    assert "police_consent_declined" not in case.flags
    with service.kernel.session() as session:
        tasks = [t.title for t in session.exec(select(CaseTask))]
    assert "Decide whether to involve the police (threat against a pupil)" in tasks
    [alert] = service.intake.inbox("console", "dsl1")
    flags = dict(alert.fields)["Flags"]
    assert "police: DSL to decide" in flags and "declined" not in flags


@pytest.mark.issue(10, 3)
def test_every_cyberbullying_path_in_every_pack_tells_the_truth_about_police():
    dialog = DIALOGS["cyberbullying"]
    for name in PACKS:
        pack = load_pack(name)
        for path in walk(dialog, pack):
            a = path.outcome.details
            police = " ".join(g.text for g in path.outcome.guidance if "police" in g.text)
            flags = path.outcome.flags
            where = (name, path.said)
            if "police_consent" not in a:  # never asked
                assert "chose not" not in police and "consent" not in police, where
                assert not {"police", "police_consent_declined"} & set(flags), where
                dsl_decides = (
                    a["threatening"]
                    and a["target"] == "pupil"
                    and (pack.has("CB-POLICE") or pack.has("CB-SAFEGUARD"))
                )
                assert ("police_dsl_to_decide" in flags) == bool(dsl_decides), where
                assert ("will decide whether to involve the police" in police) == bool(
                    dsl_decides
                ), where
            elif a["police_consent"]:
                assert "police" in flags and "consent, the school will report" in police, where
            else:
                assert "police_consent_declined" in flags, where
                if a["target"] == "me":
                    assert "You chose not to involve the police" in police, where
                else:
                    assert "Your colleague hasn't agreed" in police, where


# --- a rule that was checked and no longer applies is named ---------------------------------


@pytest.mark.issue(10, 19)
@pytest.mark.parametrize(
    "pack_name,answers,rule",
    [
        (
            "king-jamess-school",
            ["former pupil", "July 2019", "25"],
            "The policy's rule for former pupils is no contact for 3 years after they left or "
            "until they are 18, whichever is longer. That time has passed, so the rule no "
            "longer applies.",
        ),
        (
            "harmonize-academy",
            ["former pupil", "19"],
            "The policy's rule for former pupils is no contact until they are 18. They are 18 "
            "or over now, so that rule no longer applies.",
        ),
        (
            "dukeries-academy",
            ["former pupil", "20"],
            "The policy's rule on pupils at this or any other school no longer applies, "
            "because they are 18 or over now.",
        ),
    ],
)
def test_former_pupil_past_the_rule_is_told_which_rule_no_longer_applies(
    service_factory, pack_name, answers, rule
):
    service = service_factory(pack_name)
    [reply] = say(service, "t", "friend request", *answers, "no", "facebook", "no", "no")
    assert "no fixed rule for this request" not in reply
    assert rule in reply
    assert "Use your professional judgement and keep any contact professional." in reply


@pytest.mark.issue(10, 19)
def test_no_fixed_rule_is_only_said_where_the_policy_has_none():
    for name in PACKS:
        pack = load_pack(name)
        for path in walk(DIALOGS["friend_request"], pack):
            text = " ".join(g.text for g in path.outcome.guidance)
            assert "no fixed rule for this request" not in text, (name, path.said)
            if "no fixed rule for former pupils." in text:
                assert pack.relationships.former_pupils.rule == "judgement", (name, path.said)
            if "no fixed rule for parents" in text:
                assert pack.relationships.parents == "judgement", (name, path.said)


# --- smaller wording slips ------------------------------------------------------------------


def first_outcome(dialog_name: str, pack: PolicyPack) -> Outcome:
    return next(walk(DIALOGS[dialog_name], pack)).outcome


@pytest.mark.issue(10, 22)
def test_approval_route_reads_as_a_sentence():
    default = first_outcome("account_request", load_pack("default"))
    assert any(
        g.text.startswith("It now goes to the Headteacher for approval.") for g in default.guidance
    )
    dukeries = first_outcome("account_request", load_pack("dukeries-academy"))
    assert any(
        "It now goes to the Safeguarding Officer, then the ICT Manager, then the Principal "
        "for approval." in g.text
        for g in dukeries.guidance
    )
    # Harmonize's policy has no approval route: what happens next is said, uncited.
    harmonize = first_outcome("account_request", load_pack("harmonize-academy"))
    assert "It now goes to the Principal for approval." in harmonize.closing
    # Names listed in a sentence read as words.
    kjs = [p.outcome for p in walk(DIALOGS["account_request"], load_pack("king-jamess-school"))]
    untrained = [g.text for o in kjs for g in o.guidance if g.clause == "AC-TRAINED"]
    assert any(t.startswith("Ms Brown and Mr Jones must read the policy") for t in untrained)


@pytest.mark.issue(10, 22)
def test_default_pack_name_example_is_neutral():
    pack = load_pack("default")
    step = DIALOGS["account_request"].step("name")
    assert "KJS" not in step.text(Context(pack, {}, NOW))


@pytest.mark.issue(10, 22)
def test_file_types_are_named_in_words(service_factory):
    service = service_factory("default")
    say(service, "f", "report abuse", "me", "facebook", "no link", "yesterday", "Insults")
    shot = service.kernel.store_evidence("shot1.png", "image/png", b"\x89PNG\r\n\x1a\n one")
    [got] = service.receive(StaffMessage("console", "f", "", files=[shot])).replies
    assert "shot1.png (PNG image, 12 bytes)" in got.text
    pdf = service.kernel.store_evidence("letter.pdf", None, b"%PDF-1.4 letter")
    [got] = service.receive(StaffMessage("console", "f", "", files=[pdf])).replies
    assert "letter.pdf (PDF document, 15 bytes)" in got.text
    with pytest.raises(evidence.EvidenceRefused) as refused:
        service.kernel.store_evidence("run.exe", "application/x-msdownload", b"MZ")
    assert "application/" not in str(refused.value)
    assert ".exe files" in str(refused.value)
    for kind in evidence.ALLOWED_TYPES:
        assert "/" not in evidence.type_label(kind)


def first_visits(dialog: Dialog, pack: PolicyPack) -> Iterator[dict[str, Any]]:
    """One state per step of the dialog (the first time the walk reaches it).

    States at the same step with the same questions answered, and the same answers to the
    questions that can change the path (fixed choices and yes/no), are the same shape of
    path, so only one of them is followed further.
    """
    asked: set[str] = set()
    followed: set[tuple[str, frozenset[tuple[str, str]]]] = set()
    branching = {
        s.key for s in dialog.steps if s.kind in ("choice", "yesno") and not s.other_allowed
    }
    options = COMMENT_OPTIONS if dialog.name == "comment" else None
    stack = [engine.start(dialog, pack, NOW, options).state]
    while stack:
        state = stack.pop()
        answers = state["answers"]
        shape = (
            engine.step_id(state),
            frozenset((k, repr(v) if k in branching else "") for k, v in answers.items()),
        )
        if shape in followed:
            continue
        followed.add(shape)
        if engine.step_id(state) not in asked:
            asked.add(engine.step_id(state))
            yield state
        ctx = Context(pack, state["answers"], NOW, state.get("options") or {})
        for answer in candidate_answers(dialog.step(state["step"]), ctx):
            turn = engine.advance(dialog, state, UserInput(answer), pack, NOW)
            if turn.state is not None:
                stack.append(turn.state)


# Answers each kind of step refuses for a reason of its own (future, too old, too few...).
REFUSED = {
    "past_datetime": ("today 11pm", "31/02", "whenever"),
    "left_date": ("July 2030", "1850"),
    "any_date": ("01/01/2020", "31/02/2027"),
    "age_or_birthday": ("150", "01/01/2030"),
    "url": ("my wall",),
    "people": ("Ms Brown",),
    "yesno": ("sometimes",),  # "maybe" is an answer where doubt counts (SG-DANGER)
    "files": ("what?",),
}


@pytest.mark.issue(10, 22)
@pytest.mark.parametrize("pack_name", PACKS)
def test_a_refused_answer_asks_the_question_once_at_every_step(pack_name):
    pack = load_pack(pack_name)
    for dialog in DIALOGS.values():
        for state in first_visits(dialog, pack):
            step = dialog.step(state["step"])
            if step.kind == "text":
                continue  # any words are an answer
            question = engine.current_prompt(dialog, state, pack, NOW).text
            for bad in ("²", *REFUSED.get(step.kind, ())):
                turn = engine.advance(dialog, state, UserInput(bad), pack, NOW)
                [reply] = turn.messages
                where = (dialog.name, engine.step_id(state), bad)
                assert engine.step_id(turn.state) == engine.step_id(state), where
                assert reply.text.count(question) == 1, where
                # The reason comes first and does not ask the question again in other words.
                reason = reply.text.replace(question, "")
                assert "?" not in reason, (where, reason)


def examples_in(prompt: str) -> list[str]:
    """ "When was it posted? For example A, B or C." -> [A, B, C]"""
    listed = prompt.split("For example", 1)[1].strip(" :.")
    return [e.strip() for e in re.split(r",| or ", listed) if e.strip()]


@pytest.mark.issue(10, 22)
@pytest.mark.parametrize(
    "dialog_name,step_key", [("cyberbullying", "posted_at"), ("comment", "received")]
)
def test_time_examples_are_in_the_past_just_after_midnight(dialog_name, step_key):
    # 23:05 UTC on 10 June is 00:05 on 11 June in London (BST): the start of a new day.
    pack = load_pack("default")
    zone = ZoneInfo(pack.calendar.timezone)
    just_after_midnight = datetime(2026, 6, 10, 23, 5, tzinfo=UTC).astimezone(zone)
    step = DIALOGS[dialog_name].step(step_key)
    ctx = Context(pack, {}, just_after_midnight, COMMENT_OPTIONS)
    examples = examples_in(step.text(ctx))
    assert "today 8am" not in examples
    for example in examples:
        parsing.parse_past_datetime(example, just_after_midnight)  # none is refused


@pytest.mark.issue(10, 22)
def test_future_time_at_0005_is_refused_once_without_repeating_the_question(sqlite_url, tmp_path):
    clock = FakeClock(datetime(2026, 6, 10, 23, 5, tzinfo=UTC))  # 00:05 BST, 11 June
    service = make_service(sqlite_url, "default", clock, tmp_path / "evidence")
    [asked] = say(service, "n", "report abuse", "me", "facebook", "no link")
    assert "today 8am" not in asked
    [refused] = service.receive(StaffMessage("console", "n", "today 8am")).replies
    assert "That's in the future: it's 00:05 on 11 June now." in refused.text
    assert refused.text.count("When was it posted?") == 1
    [accepted] = service.receive(StaffMessage("console", "n", "yesterday 8pm")).replies
    assert "what happened?" in accepted.text
