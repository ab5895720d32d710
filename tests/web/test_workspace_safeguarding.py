"""The DSL's case page for what issue 21 adds: the UKCIS steps on a nude-image case, the
chronology naming a file deleted unseen; a concern about a colleague out of the reach of
the person it is about, even when they hold the DSL role."""

from __future__ import annotations

import pytest

from tests.helpers import grant, say

NUDES = [
    "nudes of a year 10 girl are going round on snapchat",
    "no",  # nobody in danger right now
    "Nude or semi-nude images of someone under 18",
    "snapchat",
    "today",
    "A boy in her form says the pictures are in a group chat",
    "no",
    "yes",
]


async def page(workspace, user: str, name: str, path: str) -> tuple[int, str]:
    http = await workspace.signed_in(user, name)
    async with http, http.get(workspace.url(path)) as response:
        return response.status, await response.text()


@pytest.mark.issue(21, 3)
async def test_the_dsl_case_page_carries_the_ukcis_steps_for_a_nude_image(workspace):
    said = say(workspace.service, "erin", *NUDES)
    assert "I've added all of this to CB-0002." in said[-1]
    status, html = await page(workspace, "dsl1", "Mr Patel", "/web/cases/CB-0002")
    assert status == 200
    assert "UKCIS steps: sharing nudes and semi-nudes" in html
    assert "Report Remove" in html and "The bot has kept none." in html
    assert "Their first message:" in html and "going round on snapchat" in html


@pytest.mark.issue(21, 4)
async def test_a_concern_about_the_dsl_is_out_of_their_reach_in_the_workspace(workspace):
    service = workspace.service
    grant(service, "head", "headteacher")
    said = say(
        service, "fay", "I'm worried about a colleague",
        "They may have harmed a child, or may be a risk to children",
        "Designated Safeguarding Lead", "Mr Patel", "no", "snapchat",
        "MARKER-ABOUT-THE-DSL messages to a pupil", "yesterday",
    )  # fmt: skip
    assert "Your reference is SC-0001" in said[-1]
    status, listing = await page(workspace, "dsl1", "Mr Patel", "/web/")
    assert status == 200 and "SC-0001" not in listing
    status, html = await page(workspace, "dsl1", "Mr Patel", "/web/cases/SC-0001")
    assert status == 404 and "MARKER-ABOUT-THE-DSL" not in html
    status, html = await page(workspace, "head", "Mrs Head", "/web/cases/SC-0001")
    assert status == 200 and "MARKER-ABOUT-THE-DSL" in html
    assert "Headteacher only" in html
