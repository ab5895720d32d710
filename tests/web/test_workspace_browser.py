"""The web workspace in a real headless Chromium, driven by Playwright, checked by axe-core.

Chromium comes from Debian (`/usr/bin/chromium`) and axe-core from the npm registry
(`tests/browser`); `make test` installs both. Where they can't be installed the tests are
skipped with the reason, except on CI, where a skip would hide a broken page: there they fail.
Screenshots of the list and the case page are saved under `test-output/screenshots/`.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from bot.domain.turns import ButtonPress
from tests.fakes.browser import SHOTS, axe_violations, phone_page
from tests.helpers import grant, say


def _link_from_chat(workspace, user: str, name: str) -> str:
    """Press "Open in browser" on the alert, as the DSL would in chat."""
    [reply] = workspace.service.press(
        ButtonPress("console", user, "web.open", workspace.case_ref, name=name)
    ).replies
    match = re.search(r"https?://\S+/web/sign-in/\S+", reply.text)
    assert match, reply.text
    assert "only for you" in reply.text and "10 minutes" in reply.text
    return match.group(0)


async def test_a_dsl_works_a_case_from_the_alert_link_to_closing_it(workspace, browser):
    SHOTS.mkdir(parents=True, exist_ok=True)
    ref = workspace.case_ref
    context, page = await phone_page(browser)
    await page.goto(_link_from_chat(workspace, "dsl1", "Mr Patel"))
    assert await page.title() == f"{ref} · schoolbot"
    assert await axe_violations(page) == []
    await page.screenshot(path=str(SHOTS / "case-page.png"), full_page=True)

    # The image is drawn in the page; the PDF is downloaded.
    image = page.get_by_alt_text("Evidence image MARKER-shot.png")
    await image.wait_for()
    assert await image.evaluate("img => img.complete && img.naturalWidth") == 1
    async with page.expect_download() as waiting:
        await page.get_by_role("link", name="Download MARKER-letter.pdf").click()
    download = await waiting.value
    assert download.suggested_filename == "MARKER-letter.pdf"

    # A note, then acknowledge, then close: each through the chat's own rules.
    await page.get_by_label("Add a note").fill("Spoke to the pupil's head of year.")
    await page.get_by_role("button", name="Add note").click()
    await page.get_by_text("Note added to").wait_for()
    assert "Spoke to the pupil's head of year." in await page.content()
    await page.get_by_role("button", name="Acknowledge").click()
    await page.get_by_text(f"you've acknowledged {ref}").wait_for()
    await page.get_by_label("Close with outcome").fill("MARKER-OUTCOME posts removed.")
    await page.get_by_label("Message to the reporter").fill("Thank you, it's been dealt with.")
    await page.get_by_role("button", name="Close the case").click()
    await page.get_by_text(f"{ref} is closed").wait_for()
    assert await axe_violations(page) == []
    told = " ".join(m.text for m in workspace.service.intake.inbox("console", "dan"))
    assert "closed" in told and "Thank you, it's been dealt with." in told
    assert "MARKER-OUTCOME" not in told  # the outcome stays in the record

    alerts = workspace.service.intake.inbox("console", "dsl1")
    assert alerts and "Closed" in dict(alerts[-1].fields).get("Status", "")

    await page.get_by_role("link", name="All cases").click()
    await page.get_by_role("heading", name="Cases", exact=True).wait_for()
    assert await axe_violations(page) == []
    await page.screenshot(path=str(SHOTS / "case-list.png"), full_page=True)
    await context.close()


async def test_a_member_of_staff_sees_only_their_own_reports(workspace, browser):
    grant(workspace.service, "dsl1", "dsl")
    say(workspace.service, "erin", "friend request", "parent", "no", "facebook", "no", "no")
    context, page = await phone_page(browser)
    await page.goto(workspace.link("erin", "Erin"))
    content = await page.content()
    assert "Your own reports" in content and "Your team's cases" not in content
    assert workspace.case_ref not in content
    assert await axe_violations(page) == []
    response = await page.goto(workspace.url(f"/web/cases/{workspace.case_ref}"))
    assert response is not None and response.status == 404
    assert await axe_violations(page) == []
    await context.close()


async def test_the_workspace_works_with_the_keyboard_alone(workspace, browser):
    context, page = await phone_page(browser)
    await page.goto(workspace.link("dsl1", "Mr Patel"))
    ref = workspace.case_ref
    for _ in range(40):  # Tab through the list until the case's link has the focus
        await page.keyboard.press("Tab")
        if await page.evaluate("document.activeElement.textContent.trim()") == ref:
            break
    else:
        pytest.fail("the case link can't be reached with Tab")
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(f"/web/cases/{ref}$"))
    for _ in range(60):
        await page.keyboard.press("Tab")
        if await page.evaluate("document.activeElement.id") == "note-text":
            break
    else:
        pytest.fail("the note box can't be reached with Tab")
    await page.keyboard.type("Typed with the keyboard only.")
    await page.keyboard.press("Tab")
    await page.keyboard.press("Enter")
    await page.get_by_text("Note added to").wait_for()
    assert "Typed with the keyboard only." in await page.content()
    for path in ("/web/sign-in/used-or-wrong", "/web/cases/CB-9999"):
        await page.goto(workspace.url(path))
        assert await axe_violations(page) == [], path
    await context.close()


@pytest.mark.issue(26, 1)
async def test_an_emailed_link_signs_in_only_when_its_button_is_pressed(workspace, browser):
    """A mail filter opens the link first; the person then presses Sign in, and can
    acknowledge the case on the page it opens."""
    ref = workspace.case_ref
    kernel = workspace.service.kernel
    with kernel.session() as session:
        link = workspace.access.add_link(
            session, "console", "dsl1", None, f"/web/cases/{ref}",
            lifetime=timedelta(hours=24), confirm=True,
        )  # fmt: skip
        session.commit()
    context, scanner = await phone_page(browser)
    await scanner.goto(link)  # what Safe Links does before the person opens the email
    await scanner.get_by_role("button", name="Sign in").wait_for()
    assert await axe_violations(scanner) == []
    await context.close()
    context, page = await phone_page(browser)
    await page.goto(link)
    await page.get_by_role("button", name="Sign in").click()
    assert await page.title() == f"{ref} · schoolbot"
    await page.get_by_role("button", name="Acknowledge").click()
    await page.get_by_text(f"you've acknowledged {ref}").wait_for()
    await context.close()
