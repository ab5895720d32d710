"""Issue 23 points 3 and 6 in the workspace and the bundle: the teacher's words reach the
DSL's case page and bundle, and the record says what the teacher was told, line by line,
with the policy behind each line and times a system can read."""

from __future__ import annotations

import html
import io
import json
import re
import zipfile

import pytest
from sqlmodel import select

from bot.storage.tables import Case, Outbox
from tests.helpers import say

DISCLOSURE = "yeah she sent me a message saying she's being hurt at home"
REMOVE = "You've already accepted or replied: remove the connection now"
UNTIL = "The policy allows contact from 21 November 2028 at the earliest."
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")


def report(workspace) -> str:
    """A former pupil of 16, already accepted, with a disclosure: two lines rest on 4.3."""
    say(
        workspace.service, "amy", "a former pupil sent me a friend request", "16", "no",
        "instagram", "yes i accepted it", DISCLOSURE, "no", "done",
    )  # fmt: skip
    with workspace.service.kernel.session() as session:
        [case] = session.exec(select(Case).where(Case.kind == "FR"))
        return case.ref


@pytest.mark.issue(23, 3)
async def test_3_the_disclosure_is_on_the_case_page_and_in_the_bundle(workspace):
    ref = report(workspace)
    http = await workspace.signed_in("dsl1", "Mr Patel")
    async with http:
        async with http.get(workspace.url(f"/web/cases/{ref}")) as page:
            assert DISCLOSURE in html.unescape(await page.text())
        async with http.get(workspace.url(f"/web/cases/{ref}/bundle.zip")) as r:
            bundle = zipfile.ZipFile(io.BytesIO(await r.read()))
    record = json.loads(bundle.read(f"{ref}.json"))
    assert ["In their words:", DISCLOSURE] in record["case"]["answers"]
    # The DSL's alert (a 'standard' pack: no free text in alerts) says the words are there.
    with workspace.service.kernel.session() as session:
        rows = session.exec(select(Outbox).where(Outbox.target == "dsl"))
        [alert] = [row.message for row in rows if ref in str(row.message)]
    fields = dict(alert["fields"])
    assert fields["Concerning content"] == "Yes (their words are in the case record)"
    assert DISCLOSURE not in json.dumps(alert)


@pytest.mark.issue(23, 6)
async def test_6_guidance_given_is_each_line_as_read_with_its_policy_and_iso_times(workspace):
    ref = report(workspace)
    http = await workspace.signed_in("dsl1", "Mr Patel")
    async with http:
        async with http.get(workspace.url(f"/web/cases/{ref}")) as page:
            text = html.unescape(await page.text())
        async with http.get(workspace.url(f"/web/cases/{ref}/bundle.zip")) as r:
            bundle = zipfile.ZipFile(io.BytesIO(await r.read()))
    given = text.split("Guidance given", 1)[1].split("</ul>", 1)[0]
    # Two lines resting on one clause are two lines, each as the teacher read it.
    assert given.count(REMOVE) == 1 and given.count(UNTIL) == 1
    assert "Please decline" not in given
    record = json.loads(bundle.read(f"{ref}.json"))
    lines = record["case"]["guidance"]
    assert [said for said, _ in lines][:2] == [
        REMOVE + " (or decline the request, if it is still waiting) and don't carry on the "
        "conversation. Telling us was the right thing to do.",
        UNTIL,
    ]
    assert [reference for _, reference in lines][:2] == ["Policy 4.3", "Policy 4.3"]
    assert "FR-EXPUPIL" not in json.dumps(record)  # the policy's words, never our clause IDs
    # Times for systems: ISO 8601 with the offset; the words a person reads kept beside them.
    case = record["case"]
    assert ISO.match(record["made_at"]) and ISO.match(case["opened"])
    assert case["opened_display"].startswith("Saturday 21 November 2026")
    assert all(ISO.match(event["at"]) for event in case["chronology"])
