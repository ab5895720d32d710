"""The web workspace in a real headless Chromium, driven by Playwright, checked by axe-core.

Chromium comes from Debian (`/usr/bin/chromium`) and axe-core from the npm registry
(`tests/browser`); `make test` installs both. Where they can't be installed the tests are
skipped with the reason, except on CI, where a skip would hide a broken page: there they fail.
Screenshots of the list and the case page are saved under `test-output/screenshots/`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from bot.domain.turns import ButtonPress
from tests.conftest import grant, say

CHROMIUM = Path("/usr/bin/chromium")
AXE = Path(__file__).parent / "browser" / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = Path(__file__).parent.parent / "test-output" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def _missing() -> str | None:
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (make test installs it)"
    if not CHROMIUM.exists():
        return (
            "Debian's Chromium is not installed (make test runs apt-get install chromium as root)"
        )
    if not AXE.exists():
        return "axe-core is not installed (make test runs npm ci in tests/browser)"
    return None


@pytest.fixture
async def browser():
    if problem := _missing():
        if os.environ.get("CI"):
            pytest.fail(f"browser tests must run on CI: {problem}")
        pytest.skip(problem)
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            await chromium.close()


async def _phone(browser):
    # bypass_csp lets the test inject axe-core; the CSP itself is checked over HTTP.
    context = await browser.new_context(
        viewport={"width": 375, "height": 740}, accept_downloads=True, bypass_csp=True
    )
    return context, await context.new_page()


async def _axe(page) -> list[str]:
    """WCAG 2.1 AA violations on the page as axe-core reports them (empty is good)."""
    await page.add_script_tag(content=AXE.read_text("utf-8"))
    result = await page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})",
        WCAG_AA,
    )
    return [f"{v['id']}: {v['help']} ({len(v['nodes'])} nodes)" for v in result["violations"]]


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
    context, page = await _phone(browser)
    await page.goto(_link_from_chat(workspace, "dsl1", "Mr Patel"))
    assert await page.title() == f"{ref} · schoolbot"
    assert await _axe(page) == []
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
    assert await _axe(page) == []
    told = " ".join(m.text for m in workspace.service.intake.inbox("console", "dan"))
    assert "closed" in told and "Thank you, it's been dealt with." in told
    assert "MARKER-OUTCOME" not in told  # the outcome stays in the record

    alerts = workspace.service.intake.inbox("console", "dsl1")
    assert alerts and "Closed" in dict(alerts[-1].fields).get("Status", "")

    await page.get_by_role("link", name="All cases").click()
    await page.get_by_role("heading", name="Cases", exact=True).wait_for()
    assert await _axe(page) == []
    await page.screenshot(path=str(SHOTS / "case-list.png"), full_page=True)
    await context.close()


async def test_a_member_of_staff_sees_only_their_own_reports(workspace, browser):
    grant(workspace.service, "dsl1", "dsl")
    say(workspace.service, "erin", "friend request", "parent", "no", "facebook", "no", "no")
    context, page = await _phone(browser)
    await page.goto(workspace.link("erin", "Erin"))
    content = await page.content()
    assert "Your own reports" in content and "Your team's cases" not in content
    assert workspace.case_ref not in content
    assert await _axe(page) == []
    response = await page.goto(workspace.url(f"/web/cases/{workspace.case_ref}"))
    assert response is not None and response.status == 404
    assert await _axe(page) == []
    await context.close()


async def test_the_workspace_works_with_the_keyboard_alone(workspace, browser):
    context, page = await _phone(browser)
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
        assert await _axe(page) == [], path
    await context.close()
