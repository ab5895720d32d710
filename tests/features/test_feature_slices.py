"""A new conversation is one folder and one line: a made-up sixth conversation
(tests/features/madeup_feature) registered beside the real ones gets its menu button, its free-text
start, its case kind, references, alerts, buttons, retention rule and diagram, with no
other change anywhere."""

from __future__ import annotations

from bot.dialogs.diagram import diagrams_section
from bot.domain.turns import ButtonPress, StaffMessage
from bot.features import FEATURES, build_registry
from bot.kernel.buttons import ButtonTarget
from bot.records.retention import RetentionSweep
from bot.storage import repository as repo
from tests.features import madeup_feature
from tests.helpers import grant, make_service


def _service(sqlite_url, clock, tmp_path):
    registry = build_registry((*FEATURES, madeup_feature))  # the one line
    return make_service(sqlite_url, "default", clock, tmp_path / "evidence", registry=registry)


def say(service, user, text):
    return [m.text for m in service.receive(StaffMessage("console", user, text)).replies]


def test_a_made_up_conversation_is_on_the_menu_and_starts_from_free_text(
    sqlite_url, clock, tmp_path
):
    service = _service(sqlite_url, clock, tmp_path)
    [menu] = service.receive(StaffMessage("console", "amy", "hello")).replies
    assert "A lost or stolen device" in [c.label for c in menu.choices]
    [question] = say(service, "amy", "I think I left my school laptop on the train")
    assert question.endswith("What was lost?")
    say(service, "amy", "A Year 9 class set iPad")
    [done] = say(service, "amy", "yes")
    assert "Your reference is LD-0001" in done
    with service.kernel.session() as session:
        assert repo.case_by_ref(session, "LD-0001").urgent  # its own rule: pupils' data


def test_its_case_reaches_slt_and_its_references_and_buttons_work(sqlite_url, clock, tmp_path):
    service = _service(sqlite_url, clock, tmp_path)
    grant(service, "head", "slt")
    for line in ("lost device", "my work laptop", "no"):
        say(service, "amy", line)
    alerts = service.intake.inbox("console", "head")
    [alert] = [m for m in alerts if "lost or stolen device case" in m.text]
    assert "LD-0001" in alert.title
    [view] = say(service, "amy", "case LD-0001")
    assert "Lost or stolen device" in view and "Status: New" in view
    press = ButtonPress("console", "head", madeup_feature.FOUND, ButtonTarget("LD-0001").encode())
    assert service.press(press).replies[0].text == "Noted: LD-0001 was found."
    assert service.form_for(madeup_feature.FOUND) is None


def test_its_retention_rule_and_diagram_come_from_its_declaration(sqlite_url, clock, tmp_path):
    service = _service(sqlite_url, clock, tmp_path)
    grant(service, "head", "slt")
    for line in ("lost device", "my work laptop", "no"):
        say(service, "amy", line)
    service.intake.inbox("console", "head")
    close = ButtonPress("console", "head", "case.close", "LD-0001", text="Found in the staff room")
    service.press(close)
    clock.advance(days=365 * 7)
    [due] = [d for d in RetentionSweep(service.kernel).due() if d.record == "LD-0001"]
    assert due.rule == "account"
    dialogs = (c.dialog for c in service.kernel.registry.conversations.values())
    assert "Lost device report" in diagrams_section(dialogs)
