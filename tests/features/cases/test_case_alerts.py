"""Issue 10 (a school can go live): the DSL and SLT can do their job from chat.

Points 5 (who reported), 6 (the case view in words), 7 (the outcome stays in the record),
8 (reminders only for urgent cases, unfilled roles named), 17 (urgent alerts mention the
team) and part of 22 (status wording, Approved/Rejected, press enquiries). Over real HTTP
for Slack and Teams, through BotService and the real `schoolbot` command otherwise.
"""

from __future__ import annotations

import asyncio
import io
import json
import subprocess
from importlib import resources
from urllib.parse import urlencode

import aiohttp
import pytest
from sqlmodel import select

from bot.domain.policy import parse_pack
from bot.features.cases import cards
from bot.features.comments.rules import CommentIn
from bot.platforms.console.chat import ConsoleChat
from bot.storage.tables import Case
from tests.fakes.fake_slack import blocks_text
from tests.fakes.slack_harness import DSL_CHANNEL
from tests.fakes.teams_client import cards_in, channel_id, install_in_team, mention, text_of
from tests.helpers import SCHOOLBOT, env_for, free_port, grant, run_cli

FR = ["friend request", "1", "no", "instagram", "no"]
CB_PUPIL = [
    "someone is posting about a pupil",
    "a pupil",
    "x",
    "https://x.com/someone/status/1",
    "yesterday 8pm",
    "Insults under a photo of a Year 9 pupil",
]
AC = [
    "new official account",
    "Year 6 Blog",
    "instagram",
    "Share class work",
    "Parents",
    "Newsletter",
    "Ms Brown, Mr Jones",
    "closed",
    "Class photos with consent",
    "yes",
    "yes",
    "yes",
    "yes",
]
INTERNALS = ("current_pupil", "False", "True", "+00:00", "['", "{'", "image/png", "T20:00")


def pack_with_detail(detail: str):
    text = (resources.files("bot.policies") / "default.toml").read_text()
    return parse_pack(text.replace('detail = "standard"', f'detail = "{detail}"'), detail)


def tell(service, user: str, name: str, *lines: str) -> str:
    """Several lines from one person (with their display name); the last reply's text."""
    replies = []
    for line in lines:
        replies = service.handle_message("console", user, line, name=name)
    return "\n".join(m.text for m in replies)


def report_fr(service, concerning: str = "no", user: str = "alice", name: str = "Alice Smith"):
    reply = tell(service, user, name, *FR, concerning)
    assert "Your reference is FR-" in reply, reply
    return reply


def seen(message) -> str:
    """What a person reads in the terminal: names in place of mentions, fields included."""
    plain = message.with_names()
    return "\n".join([plain.title or "", plain.text, *(f"{k}: {v}" for k, v in plain.fields)])


def the_case(service, ref: str) -> Case:
    with service.session() as session:
        return session.exec(select(Case).where(Case.ref == ref)).one()


# --- point 5: who reported -----------------------------------------------------------------


@pytest.mark.parametrize("detail", ["minimal", "standard", "full"])
def test_golive_05_alert_names_the_reporter_at_every_detail_level(service_factory, detail):
    service = service_factory(pack_with_detail(detail))
    grant(service, "dsl1", "dsl")
    report_fr(service)
    [alert] = service.inbox("console", "dsl1")
    assert "<@alice>" in alert.text  # a mention, so each platform can render it its way
    assert "Reported by Alice Smith." in seen(alert)
    assert the_case(service, "FR-0001").reporter_name == "Alice Smith"


def test_golive_05_account_request_alert_and_case_view_name_the_requester(service_factory):
    service = service_factory("default")
    grant(service, "head", "headteacher")
    grant(service, "dsl1", "dsl")
    assert "AC-0001" in tell(service, "req", "Ms Req", *AC)
    [alert] = service.inbox("console", "head")
    assert "Requested by Ms Req." in seen(alert)
    report_fr(service)
    [view] = service.handle_message("console", "dsl1", "case FR-0001")
    assert "Reported by Alice Smith on" in seen(view)


def test_golive_05_cli_lists_and_shows_cases_with_the_reporter(tmp_path):
    assert run_cli(tmp_path, "roles", "add", "dsl1", "dsl").returncode == 0
    staff = run_cli(
        tmp_path, "chat", "--as", "alice", "--name", "Ms A", stdin="\n".join([*FR, "no"]) + "\n"
    )
    assert "Your reference is FR-0001" in staff.stdout, staff.stdout
    listed = run_cli(tmp_path, "cases", "list")
    assert listed.returncode == 0, listed.stderr
    assert "FR-0001" in listed.stdout and "reported by Ms A" in listed.stdout
    shown = run_cli(tmp_path, "cases", "show", "fr-0001")
    assert shown.returncode == 0, shown.stderr
    assert "Reported by Ms A on" in shown.stdout
    assert "Who sent the request?" in shown.stdout
    missing = run_cli(tmp_path, "cases", "show", "FR-0099")
    assert missing.returncode != 0 and "There is no case FR-0099" in missing.stderr


async def test_golive_05_slack_alert_mentions_the_reporter(bot):
    grant(bot.service, "UDSL", "dsl", platform="slack")
    await bot.say("U1", "friend request")
    await bot.answer(
        "U1", "A pupil (at our school or any other school)", "No", "Instagram", "No", "No"
    )
    [alert] = await bot.fake.wait_for("chat.postMessage", channel=DSL_CHANNEL)
    assert "Reported by <@U1>." in json.dumps(alert.args["blocks"])


async def test_golive_05_teams_alert_mentions_the_reporter(teams):
    await install_in_team(teams)
    grant(teams.service, "aad-dsl", "dsl", platform="teams")
    await mention(teams, "dsl", "dsl", "use this channel for dsl")
    await teams.say("alice", "friend request")
    await teams.answer("alice", "A pupil (at our school or any other school)", "No")
    await teams.say("alice", "instagram")
    await teams.answer("alice", "No", "No")
    [alert] = await teams.fake.wait_for("create", conversation=channel_id("dsl"))
    # The line naming the reporter is the activity's text, with a mention entity for them.
    assert alert.activity["text"] == "Reported by <at>Alice</at>."
    assert alert.activity["entities"] == [
        {
            "type": "mention",
            "text": "<at>Alice</at>",
            "mentioned": {"id": "aad-alice", "name": "Alice"},
        }
    ]
    [card] = cards_in(alert)
    assert "<@" not in json.dumps(card) and "msteams" not in card


# --- point 6: the case view in words ---------------------------------------------------------


def test_golive_06_case_view_shows_questions_labels_local_times_and_words(service_factory, clock):
    service = service_factory("default")
    grant(service, "dsl1", "dsl")
    grant(service, "head", "headteacher")
    report_fr(service)
    [fr] = service.handle_message("console", "dsl1", "case FR-0001")
    text = seen(fr)
    assert "• Who sent the request? A pupil (at our school or any other school)" in text
    assert "• Are they a member of your family? No" in text
    assert "• Which app or site was it on? Instagram" in text

    tell(service, "dan", "Dan Jones", *CB_PUPIL)
    shot = service.store_evidence("shot1.png", "image/png", b"\x89PNG\r\n\x1a\n one")
    service.handle_message("console", "dan", "", [shot], name="Dan Jones")
    assert "CB-0001" in tell(service, "dan", "Dan Jones", "done", "no", "yes")
    [cb] = service.handle_message("console", "dsl1", "case CB-0001")
    text = seen(cb)
    # The test clock is Saturday 21 Nov 2026, 15:00 UTC (GMT): "yesterday 8pm" is Friday.
    assert "• When was it posted? Fri 20 Nov 2026, 20:00" in text
    assert "Reported by Dan Jones on Sat 21 Nov 2026, 15:00." in text
    assert (
        f"• shot1.png: PNG image, 12 bytes, added by Dan Jones on Sat 21 Nov 2026, 15:00. "
        f"SHA-256 {shot.sha256}"
    ) in text

    tell(service, "req", "Ms Req", *AC)
    [ac] = service.handle_message("console", "head", "case AC-0001")
    text = seen(ac)
    assert "• Run by: Ms Brown and Mr Jones" in text
    assert "• Has Ms Brown read the social media policy and had training? Yes" in text
    assert "• Open or closed: Private or closed" in text
    for view in (fr, cb, ac):
        for internal in INTERNALS:
            assert internal not in seen(view), (internal, seen(view))


def test_golive_06_notes_text_is_shown_to_the_owning_team_only(service_factory):
    service = service_factory("default")
    grant(service, "dsl1", "dsl")
    report_fr(service)
    service.handle_action("console", "dsl1", cards.CASE_NOTE, "FR-0001", "Spoke to the pupil")
    [team_view] = service.handle_message("console", "dsl1", "case FR-0001")
    assert "Note by dsl1 at Sat 21 Nov 2026, 15:00: Spoke to the pupil" in seen(team_view)
    [own_view] = service.handle_message("console", "alice", "case FR-0001", name="Alice Smith")
    assert "Spoke to the pupil" not in seen(own_view)
    assert "FR-0001: Friend or follow request. Status: New." in seen(own_view)
    # The channel alert says a note was added, never what it says.
    assert all("Spoke to the pupil" not in seen(a) for a in service.inbox("console", "dsl1"))


# --- point 7: the outcome stays in the record --------------------------------------------------


def test_golive_07_outcome_stays_in_the_record_and_the_reporter_gets_a_short_message(
    service_factory,
):
    service = service_factory("default")
    grant(service, "dsl1", "dsl")
    report_fr(service)
    report_fr(service, user="bob", name="Bob")
    outcome = "Pupil's mother spoken to; pupil at risk, referred to early help"
    [done] = service.handle_action(
        "console", "dsl1", cards.CASE_CLOSE, "FR-0001", outcome, "Dee", message="Thank you!"
    )
    assert "told with your message" in done.text
    [notice] = service.inbox("console", "alice")
    assert notice.text == (
        "Your friend or follow request report FR-0001 is now closed. Thank you for reporting "
        "it.\nA message from Dee: Thank you!"
    )
    service.handle_action("console", "dsl1", cards.CASE_CLOSE, "FR-0002", outcome, "Dee")
    [short] = service.inbox("console", "bob")
    assert "is now closed" in short.text and outcome not in short.text
    assert the_case(service, "FR-0001").outcome == outcome
    [team_view] = service.handle_message("console", "dsl1", "case FR-0001")
    assert f"Outcome (for the record): {outcome}" in team_view.text
    [own_view] = service.handle_message("console", "alice", "case FR-0001", name="Alice Smith")
    assert "Status: Closed" in own_view.text and outcome not in own_view.text


def test_golive_07_terminal_close_asks_for_both_and_says_who_reads_them(service_factory):
    service = service_factory("default")
    grant(service, "dsl1", "dsl")
    report_fr(service)
    out = io.StringIO()
    chat = ConsoleChat(service, "dsl1", out=out, name="Dee")
    chat.run(io.StringIO("\nClose with outcome\nReferred to early help\nThanks for telling us\n"))
    shown = out.getvalue()
    assert cards.CLOSE_HINT in shown
    assert f"{cards.CLOSE_OUTCOME}: " in shown
    assert f"{cards.CLOSE_MESSAGE} (press Enter to leave it out): " in shown
    [notice] = service.inbox("console", "alice")
    assert notice.text.endswith("A message from Dee: Thanks for telling us")
    assert "early help" not in notice.text


async def test_golive_07_slack_close_form_has_a_separate_message_and_says_who_reads_it(bot):
    grant(bot.service, "UDSL", "dsl", platform="slack")
    await bot.say("U1", "friend request")
    await bot.answer(
        "U1", "A pupil (at our school or any other school)", "No", "Instagram", "No", "No"
    )
    await bot.fake.wait_for("chat.postMessage", channel=DSL_CHANNEL)
    await bot.click("UDSL", DSL_CHANNEL, "case.close", "FR-0001")
    [opened] = await bot.fake.wait_for("views.open")
    view = opened.args["view"]
    view = json.loads(view) if isinstance(view, str) else view
    inputs = [b for b in view["blocks"] if b["type"] == "input"]
    assert [(b["block_id"], b["label"]["text"], b.get("optional", False)) for b in inputs] == [
        ("reason", cards.CLOSE_OUTCOME, False),
        ("message", cards.CLOSE_MESSAGE, True),
    ]
    assert cards.CLOSE_HINT in json.dumps(view["blocks"])

    before = len(bot.fake.called("chat.postMessage", channel="U1"))
    payload = {
        "type": "view_submission",
        "user": {"id": "UDSL"},
        "team": {"id": "T1"},
        "api_app_id": "A1",
        "view": {
            "id": "V1",
            "type": "modal",
            "callback_id": "schoolbot_reason",
            "private_metadata": view["private_metadata"],
            "state": {
                "values": {
                    "reason": {"text": {"type": "plain_text_input", "value": "Early help"}},
                    "message": {"text": {"type": "plain_text_input", "value": "Thanks, U1"}},
                }
            },
        },
    }
    response = await bot.post(
        urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"
    )
    assert response.status == 200
    calls = await bot.fake.wait_for("chat.postMessage", before + 1, channel="U1")
    notice = blocks_text(calls[-1])
    assert "is now closed" in notice and "Thanks, U1" in notice
    assert "Early help" not in notice
    assert the_case(bot.service, "FR-0001").outcome == "Early help"


async def test_golive_07_teams_close_card_has_a_separate_message_and_says_who_reads_it(teams):
    await install_in_team(teams)
    grant(teams.service, "aad-dsl", "dsl", platform="teams")
    await mention(teams, "dsl", "dsl", "use this channel for dsl")
    await teams.say("alice", "friend request")
    await teams.answer("alice", "A pupil (at our school or any other school)", "No")
    await teams.say("alice", "instagram")
    await teams.answer("alice", "No", "No")
    [alert] = await teams.fake.wait_for("create", conversation=channel_id("dsl"))
    [card] = cards_in(alert)
    [close] = [a for a in card["actions"] if a["title"] == "Close with outcome"]
    body = close["card"]["body"]
    assert body[0]["text"] == cards.CLOSE_HINT
    assert [(b["id"], b["label"], b.get("isRequired", False)) for b in body[1:]] == [
        ("text", cards.CLOSE_OUTCOME, True),
        ("message", cards.CLOSE_MESSAGE, False),
    ]
    before = len(teams.dms("alice"))
    value = {**close["card"]["actions"][0]["data"], "text": "Early help", "message": "Thanks!"}
    activity = teams.activity("dsl", value=value, channel="dsl", thread=alert.conversation)
    assert (await teams.post(activity)).status == 200
    notices = await teams.fake.wait_for(None, before + 1, conversation="a:personal-alice")
    assert "is now closed" in text_of(notices[-1]) and "Thanks!" in text_of(notices[-1])
    assert "Early help" not in text_of(notices[-1])


# --- point 8: reminders go where the docs say ---------------------------------------------------


def test_golive_08_routine_dsl_case_is_not_realerted_or_passed_to_the_deputy(
    service_factory, clock
):
    service = service_factory("default")
    grant(service, "dsl1", "dsl")
    grant(service, "dep", "deputy_dsl")
    report_fr(service)  # routine: nothing worrying
    assert not the_case(service, "FR-0001").urgent
    service.inbox("console", "dsl1")
    service.inbox("console", "dep")
    clock.advance(hours=14)  # overnight
    service.sweep()
    assert service.inbox("console", "dsl1") == []
    assert service.inbox("console", "dep") == []


def test_golive_08_urgent_case_goes_to_the_deputy_and_no_deputy_is_said_plainly(
    service_factory, clock
):
    service = service_factory("default")
    grant(service, "dsl1", "dsl")
    grant(service, "dep", "deputy_dsl")
    report_fr(service, concerning="yes")
    service.inbox("console", "dsl1")
    service.inbox("console", "dep")
    clock.advance(minutes=61)
    service.sweep()
    team = [seen(m) for m in service.inbox("console", "dsl1")]
    assert any("It has now been sent to the Deputy DSL as well." in t for t in team), team
    assert not any("You are the deputy" in t or "come to you" in t for t in team), team
    deputy = [seen(m) for m in service.inbox("console", "dep")]
    assert any("It has come to you as Deputy DSL." in t for t in deputy), deputy

    lone = service_factory("default", url=None)
    with lone.session() as session:  # the same database: take the deputy away
        from bot.storage import repository as repo

        repo.remove_role(session, "console", "dep", "deputy_dsl")
        session.commit()
    report_fr(lone, concerning="yes", user="carl", name="Carl")
    lone.inbox("console", "dsl1")
    clock.advance(minutes=61)
    lone.sweep()
    told = [seen(m) for m in lone.inbox("console", "dsl1") if "FR-0002" in seen(m)]
    assert any("Nobody holds the Deputy DSL role, so it could not be passed on." in t for t in told)
    assert not any("You are the deputy" in t or "come to you" in t for t in told), told


def test_golive_08_roles_list_names_each_role_the_escalation_needs_without_a_holder(tmp_path):
    assert run_cli(tmp_path, "roles", "add", "dsl1", "dsl").returncode == 0
    listed = run_cli(tmp_path, "roles", "list")
    assert listed.returncode == 0, listed.stderr
    warnings = [line for line in listed.stdout.splitlines() if line.startswith("Warning:")]
    assert warnings == [
        "Warning: nobody is Deputy DSL (deputy_dsl), so urgent alerts nobody acknowledges "
        "can't be passed on. Add someone: schoolbot roles add USER_ID deputy_dsl",
        "Warning: nobody is Senior Leadership Team (slt) or Headteacher (headteacher), so "
        "overdue and press comments reach nobody in SLT. Add someone: schoolbot roles add "
        "USER_ID slt",
        "Warning: nobody is Headteacher (headteacher), so account requests wait at that "
        "approval stage with nobody to decide them. Add someone: schoolbot roles add USER_ID "
        "headteacher",
    ]
    for role in ("deputy_dsl", "headteacher"):
        assert run_cli(tmp_path, "roles", "add", f"u-{role}", role).returncode == 0
    assert "Warning:" not in run_cli(tmp_path, "roles", "list").stdout


async def test_golive_08_run_names_each_role_the_escalation_needs_without_a_holder(tmp_path):
    port = free_port()
    process = subprocess.Popen(
        [*SCHOOLBOT, "run", "--port", str(port)],
        env=env_for(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=tmp_path,
    )
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(150):
                try:
                    async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=10)
    assert "Warning: nobody is Designated Safeguarding Lead (dsl)" in output
    assert "Warning: nobody is Deputy DSL (deputy_dsl)" in output
    # DSL, deputy, the SLT team, and the approval stage (the Headteacher): one line each.
    assert output.count("Warning: nobody is") == 4


# --- point 17: urgent alerts mention the team -----------------------------------------------------


async def test_golive_17_slack_urgent_alert_mentions_the_dsl_team_and_routine_does_not(bot):
    grant(bot.service, "UDSL", "dsl", platform="slack")
    grant(bot.service, "UDEP", "deputy_dsl", platform="slack")
    grant(bot.service, "UTEAMS", "dsl", platform="teams")  # another platform: not mentioned
    pupil = "A pupil (at our school or any other school)"
    await bot.say("U1", "friend request")
    await bot.answer("U1", pupil, "No", "Instagram", "No", "No")
    [routine] = await bot.fake.wait_for("chat.postMessage", channel=DSL_CHANNEL)
    await bot.say("U2", "friend request")
    await bot.answer("U2", pupil, "No", "Instagram", "No", "Yes")
    _, urgent = await bot.fake.wait_for("chat.postMessage", 2, channel=DSL_CHANNEL)
    # The message's own text (what Slack notifies from) and its blocks both mention them.
    assert "<@UDSL>" in urgent.args["text"] and "<@UDEP>" in urgent.args["text"]
    assert "For your attention: <@UDSL> and <@UDEP>." in json.dumps(urgent.args["blocks"])
    assert "UTEAMS" not in blocks_text(urgent)
    assert "<@UDSL>" not in blocks_text(routine) and "<@UDEP>" not in blocks_text(routine)


async def test_golive_17_teams_urgent_alert_mentions_the_dsl_team_and_routine_does_not(teams):
    await install_in_team(teams)
    grant(teams.service, "aad-dsl", "dsl", platform="teams")
    grant(teams.service, "aad-dep", "deputy_dsl", platform="teams")
    await mention(teams, "dsl", "dsl", "use this channel for dsl")
    pupil = "A pupil (at our school or any other school)"
    for user, worrying in (("alice", "No"), ("bob", "Yes")):
        await teams.say(user, "friend request")
        await teams.answer(user, pupil, "No")
        await teams.say(user, "instagram")
        await teams.answer(user, "No", worrying)
    routine, urgent = await teams.fake.wait_for("create", 2, conversation=channel_id("dsl"))
    mentioned = {e["mentioned"]["id"] for e in urgent.activity.get("entities") or []}
    assert mentioned == {"aad-dsl", "aad-dep", "aad-bob"}  # the team, and the reporter
    assert urgent.activity["text"].startswith(
        "For your attention: <at>Designated Safeguarding Lead</at> and <at>Deputy DSL</at>."
    )
    routine_ids = {e["mentioned"]["id"] for e in routine.activity.get("entities") or []}
    assert routine_ids == {"aad-alice"}
    assert "For your attention" not in text_of(routine)


# --- point 22 (part): status wording, Approved/Rejected, press enquiries ----------------------------


def test_golive_22_an_updated_alert_says_its_status_not_new(service_factory):
    service = service_factory("default")
    grant(service, "dsl1", "dsl")
    report_fr(service)
    service.inbox("console", "dsl1")
    service.handle_action("console", "dsl1", cards.CASE_ACK, "FR-0001")
    [acked] = service.inbox("console", "dsl1")
    assert "A friend or follow request case for the DSL team, acknowledged." in acked.text
    service.handle_action("console", "dsl1", cards.CASE_CLOSE, "FR-0001", "Advice given")
    [closed] = service.inbox("console", "dsl1")
    assert "now closed" in closed.text
    assert "A new" not in closed.text and "A new" not in acked.text


def test_golive_22_my_cases_says_approved_or_rejected_and_the_card_shows_the_reason(
    service_factory,
):
    service = service_factory("default")
    grant(service, "head", "headteacher")
    tell(service, "req", "Ms Req", *AC)
    tell(service, "req", "Ms Req", *AC[1:])  # AC-0002: "new official account" again
    tell(service, "req", "Ms Req", "new official account", *AC[1:])
    alerts = [m for m in service.inbox("console", "head") if m.buttons]
    approve = {a.title: a for a in alerts}
    first = next(b for b in approve["New official account request AC-0001"].buttons)
    service.handle_action("console", "head", first.action, first.value, name="Head")
    second = approve["New official account request AC-0002"].buttons[1]
    service.handle_action(
        "console", "head", second.action, second.value, "Audience is under 13", "Head"
    )
    [mine] = service.handle_message("console", "req", "my cases", name="Ms Req")
    assert "AC-0001 New official account request: Approved" in mine.text
    assert "AC-0002 New official account request: Rejected" in mine.text
    updates = [m for m in service.inbox("console", "head") if "AC-0002" in (m.title or "")]
    assert "Rejected. Reason: Audience is under 13" in updates[-1].text


def test_golive_22_press_enquiry_moderators_are_not_asked_to_reply(service_factory, clock):
    service = service_factory("default")
    grant(service, "slt1", "slt")
    service.register_add(
        "test",
        name="School News",
        purpose="News",
        platform="Facebook",
        author="Ms Author",
        moderators=["Ann", "Bo"],
        contacts=["console:mod1"],
    )
    data = CommentIn(account=1, author_type="press", text="Is the school closing?")
    service.log_comment(data, "cli", "cli:admin")
    [new] = service.inbox("console", "mod1")
    assert "Please don't reply: SLT will answer" in new.text
    assert "Don't answer a journalist yourself" in new.text
    assert "Reply within the deadline" not in new.text and not new.buttons
    [slt_alert] = service.inbox("console", "slt1")
    assert [b.label for b in slt_alert.buttons] == ["Replied", "Acknowledged publicly"]
    # The nudge and the deadline go to SLT, whose reply it is; the moderators hear nothing
    # that asks them to reply.
    for _ in range(4):
        clock.advance(hours=12)
        service.sweep()
    for message in service.inbox("console", "mod1"):
        text = seen(message)
        assert "reply by" not in text.lower() and "needs a reply" not in text, text
        assert not [b for b in message.buttons if b.label == "Replied"], text
    reminders = [seen(m) for m in service.inbox("console", "slt1")]
    assert any("Reminder: the reply to this press enquiry" in t for t in reminders), reminders
