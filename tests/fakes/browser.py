"""A real headless Chromium (Debian's) driven by Playwright, and axe-core to check pages.

Chromium comes from Debian (`/usr/bin/chromium`) and axe-core from the npm registry
(`tests/browser`); `make test` installs both. The `browser` fixture (conftest.py) skips
with the reason where they can't be installed, except on CI, where it fails.
"""

from __future__ import annotations

from pathlib import Path

from tests.helpers import ROOT

CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "tests" / "browser" / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = ROOT / "test-output" / "screenshots"
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


def missing() -> str | None:
    """Why the browser tests can't run here, or None when they can."""
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


async def phone_page(browser):
    """A new browser context and page at a phone's width."""
    # bypass_csp lets the test inject axe-core; the CSP itself is checked over HTTP.
    context = await browser.new_context(
        viewport={"width": 375, "height": 740}, accept_downloads=True, bypass_csp=True
    )
    return context, await context.new_page()


async def axe_violations(page) -> list[str]:
    """WCAG 2.1 AA violations on the page as axe-core reports them (empty is good)."""
    await page.add_script_tag(content=AXE.read_text("utf-8"))
    result = await page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})",
        WCAG_AA,
    )
    return [f"{v['id']}: {v['help']} ({len(v['nodes'])} nodes)" for v in result["violations"]]
