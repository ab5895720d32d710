"""What a new user's walk of the safeguarding flows found (issue 21), each mended: a
shared file is not deleted from another case, files are refused as soon as the first
message suggests a sexual image, grooming never asks for screenshots, a category changed
with "back" is not kept, and help says truly what has been sent."""

from __future__ import annotations

from sqlmodel import select

from bot.domain.harm import NUDE_UPLOAD_REFUSED
from bot.domain.turns import StaffMessage
from bot.kernel.core import NO_FILES_HERE
from bot.storage.tables import Evidence
from tests.helpers import say, the_case

PNG = b"\x89PNG\r\n\x1a\n the same bytes in two reports"


def send_file(service, user: str):
    kept = service.kernel.store_evidence("shot.png", "image/png", PNG)
    return service.receive(StaffMessage("console", user, "", files=(kept,))).replies


def on_disk(tmp_path) -> list:
    return [p for p in (tmp_path / "evidence").rglob("*") if p.is_file()]


def test_a_file_another_case_holds_is_not_deleted_with_the_refused_copy(service_factory, tmp_path):
    service = service_factory("default")
    say(service, "alice", "a parent is posting about me on facebook", "me", "facebook",
        "no link", "today", "Insults")  # fmt: skip
    send_file(service, "alice")
    say(service, "alice", "done", "no", "no", "no")
    assert len(on_disk(tmp_path)) == 1
    say(service, "carol", "someone is posting nasty things about a pupil")
    send_file(service, "carol")
    [told] = say(service, "carol", "no", "Nude or semi-nude images of someone under 18")
    assert "I've deleted the file you sent earlier, without anyone looking at it" in told
    assert len(on_disk(tmp_path)) == 1  # CB-0001 still has its evidence
    with service.kernel.session() as session:
        assert [e.filename for e in session.exec(select(Evidence))] == ["shot.png"]


def test_files_are_refused_as_soon_as_the_first_message_suggests_nudes(service_factory, tmp_path):
    service = service_factory("default")
    say(service, "vic", "nudes of a yr10 girl going round on snap")
    assert service.upload_refusal("console", "vic") == NUDE_UPLOAD_REFUSED
    [refused] = send_file(service, "vic")
    assert NUDE_UPLOAD_REFUSED in refused.text


def test_grooming_never_asks_for_screenshots_or_says_to_keep_them(service_factory):
    service = service_factory("default")
    say(service, "gus", "an older man keeps asking a year 8 girl to meet him", "no")
    asked = say(service, "gus", "Sexual contact or grooming by an adult", "snapchat", "today",
                "He messages her late at night")  # fmt: skip
    assert "screenshots" not in asked[0]
    done = say(service, "gus", "no", "no")[0]
    assert "screenshot" not in done.lower().replace("don't ask the pupil for screenshots", "")
    assert "block and report" not in done


def test_a_conversation_with_no_file_step_refuses_files_rather_than_keeping_them(
    service_factory, tmp_path
):
    service = service_factory("default")
    say(service, "hal", "I'm worried about a colleague")
    assert service.upload_refusal("console", "hal") == NO_FILES_HERE


def test_a_category_changed_with_back_after_the_alarm_is_what_the_case_keeps(service_factory):
    service = service_factory("default")
    say(service, "ann", "someone says they will stab her at the bus stop tomorrow", "a pupil",
        "no", "Nude or semi-nude images of someone under 18")  # fmt: skip
    say(service, "ann", "back")
    say(service, "ann", "Threats of violence", "snapchat", "no link", "today",
        "A message saying he will stab her", "done", "yes", "yes")  # fmt: skip
    case = the_case(service, "CB-0001")
    assert "harm:threats" in case.flags and "harm:nudes" not in case.flags


def test_help_after_an_alarm_says_the_dsl_already_has_it(service_factory):
    service = service_factory("default")
    say(service, "bo", "someone says they will stab her at the bus stop tomorrow", "a pupil", "yes")
    [helped] = say(service, "bo", "help")
    assert "already has CB-0001" in helped and "Nothing is sent" not in helped
