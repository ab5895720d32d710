"""The dialog engine and the account/abuse rules, pure: no database, no platform."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.dialogs import engine
from bot.domain.policy import load_pack
from bot.features import build_registry
from bot.features.accounts.dialog import KIND as ACCOUNT_KIND
from bot.features.cyberbullying.rules import AbuseFacts, assess_abuse
from tests.helpers import DUKERIES_FORM

DIALOGS = {name: c.dialog for name, c in build_registry().conversations.items()}

NOW = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)


def run(pack_name: str, dialog: str, answers: list[str]):
    pack = load_pack(pack_name)
    flow = DIALOGS[dialog]
    turn = engine.start(flow, pack, NOW)
    for answer in answers:
        assert turn.state is not None, f"finished before {answer!r}"
        turn = engine.advance(flow, turn.state, engine.UserInput(answer), pack, NOW)
    return turn


def test_dukeries_full_form_then_age_warning_and_summary():
    turn = run("dukeries-academy", "account_request", DUKERIES_FORM)
    assert turn.state["step"] == "minimum_age"
    turn = run("dukeries-academy", "account_request", [*DUKERIES_FORM, "no"])
    # Dukeries does not ask about training (AC-TRAINED is not in its policy) -> summary next.
    assert turn.state["step"] == "confirm"
    summary = turn.messages[0].text
    assert "• Moderators: Cat Green, Dan Hill" in summary
    assert "• Go-live date: 1 December 2026" in summary
    done = run("dukeries-academy", "account_request", [*DUKERIES_FORM, "no", "yes"])
    outcome = done.outcome
    assert outcome.kind is ACCOUNT_KIND
    assert outcome.approval_stages == ("safeguarding_officer", "ict_manager", "principal")
    assert "minimum_age_warning" in outcome.flags
    assert any(g.clause == "AC-AGE" and "(Policy 6.5)" in g.text for g in outcome.guidance)


def test_dukeries_needs_two_moderators():
    turn = run("dukeries-academy", "account_request", [*DUKERIES_FORM[:11], "Cat Green"])
    assert turn.state["step"] == "moderators"
    assert "at least 2 named people" in turn.messages[0].text


def test_go_live_in_the_past_is_refused():
    turn = run("dukeries-academy", "account_request", [*DUKERIES_FORM[:14], "01/01/2020"])
    assert turn.state["step"] == "go_live" and "has passed" in turn.messages[0].text


KJS_START = ["KJS PE", "x", "aim", "audience", "promotion", "Sam Lee, Jo Park", "open", "content"]


def test_training_is_asked_for_each_named_person_and_back_works_across_items():
    turn = run("king-jamess-school", "account_request", KJS_START)
    assert "Has Sam Lee read" in turn.messages[0].text
    turn = run("king-jamess-school", "account_request", [*KJS_START, "yes"])
    assert "Has Jo Park read" in turn.messages[0].text
    turn = run("king-jamess-school", "account_request", [*KJS_START, "yes", "back"])
    assert "Has Sam Lee read" in turn.messages[0].text
    done = run("king-jamess-school", "account_request", [*KJS_START, "yes", "no", "yes"])
    assert "training_needed" in done.outcome.flags
    [trained] = [g for g in done.outcome.guidance if g.clause == "AC-TRAINED"]
    assert (
        trained.text.startswith("Jo Park must read the policy") and "(Policy 2.2)" in trained.text
    )


def test_saying_no_at_the_summary_does_not_submit():
    turn = run("king-jamess-school", "account_request", [*KJS_START, "yes", "yes", "no"])
    assert turn.outcome is None and turn.state["step"] == "confirm"
    assert "Say back to change an answer" in turn.messages[0].text


def test_files_sent_before_the_evidence_step_are_kept():
    from bot.domain.evidence import EvidenceFile

    pack = load_pack("default")
    flow = DIALOGS["cyberbullying"]
    turn = engine.start(flow, pack, NOW)
    early = EvidenceFile("a.png", "image/png", 10, "0" * 64)
    turn = engine.advance(flow, turn.state, engine.UserInput("", (early,)), pack, NOW)
    assert turn.state["step"] == "target" and "kept a.png" in turn.messages[0].text
    assert turn.state["answers"]["evidence"][0]["filename"] == "a.png"


def test_every_prompt_is_short_enough_for_a_phone():
    for pack_name in ("default", "dukeries-academy"):
        pack = load_pack(pack_name)
        for flow in DIALOGS.values():
            for step in flow.steps:
                ctx = engine.Context(pack, {"run_by": ["A", "B"]}, NOW)
                if step.key == "confirm":
                    continue
                assert len(step.text(ctx, "A")) <= 200, (flow.name, step.key)


# --- CB-* routing across packs ------------------------------------------------------------


def facts(**kw) -> AbuseFacts:
    base = dict(
        target="me",
        threatening=False,
        police_consent="not_asked",
        pupil_author="no",
        safeguarding=False,
    )
    return AbuseFacts(**{**base, **kw})


@pytest.mark.parametrize(
    "pack_name",
    [
        "default",
        "dukeries-academy",
        "st-anns-school",
        "king-jamess-school",
        "harmonize-academy",
        "merriott-haselbury-federation",
    ],
)
def test_cb_routing_for_every_pack(pack_name):
    pack = load_pack(pack_name)
    plain = assess_abuse(pack, facts(), NOW)
    assert (plain.team, plain.urgent) == ("slt", False)  # CB-REPORT-SENIOR
    assert plain.guidance[0].clause == "CB-REPORT-SENIOR"
    assert all(g.text.endswith(pack.cite(g.clause)) for g in plain.guidance)
    child = assess_abuse(pack, facts(safeguarding=True), NOW)
    assert (child.team, child.urgent) == ("dsl", True)  # CB-SAFEGUARD
    threat = assess_abuse(pack, facts(threatening=True, police_consent="given"), NOW)
    assert threat.urgent
    assert ("police" in threat.flags) == pack.has("CB-POLICE")
    removal = [t for t in threat.tasks if t.clause == "CB-REMOVAL-24H"]
    assert bool(removal) == pack.has("CB-REMOVAL-24H")


def test_harmonize_cb_tasks_and_deadlines():
    pack = load_pack("harmonize-academy")
    result = assess_abuse(pack, facts(target="colleague", pupil_author="unsure"), NOW)
    due = {t.clause: t.due for t in result.tasks}
    assert due["CB-REMOVAL-24H"] == datetime(2026, 11, 22, 15, 0, tzinfo=UTC)
    assert "CB-SUPPORT" in due
    assert "behaviour_policy" in result.flags
    assert any("your colleague" in g.text for g in result.guidance)
