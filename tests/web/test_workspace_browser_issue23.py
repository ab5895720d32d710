"""Issue 23 in a real headless Chromium: what a person sees at a phone's width (375 px),
what one page view adds to the chronology, and long notes in any script.

Chromium and axe-core as in test_workspace_browser.py (the `browser` fixture).
"""

from __future__ import annotations

import struct
import zlib

import pytest

from bot.storage import repository as repo
from tests.fakes.browser import phone_page
from tests.fakes.workspace_harness import add_file

NO_SIDEWAYS_SCROLL = "document.documentElement.scrollWidth <= window.innerWidth"


def _lines(workspace) -> int:
    with workspace.service.kernel.session() as session:
        return len(repo.timeline(session, workspace.case_ref))


def tall_png(width: int = 2, height: int = 3000) -> bytes:
    """A real PNG far taller than a screen."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


@pytest.mark.issue(23, 17)
async def test_17_one_page_view_in_a_browser_is_one_chronology_line(workspace, browser):
    context, page = await phone_page(browser)
    await page.goto(workspace.link("dsl1", "Mr Patel", workspace.case_ref))
    await page.get_by_alt_text("Evidence image MARKER-shot.png").wait_for()
    await page.wait_for_load_state("networkidle")
    before = _lines(workspace)
    await page.reload()
    await page.wait_for_load_state("networkidle")
    assert _lines(workspace) == before + 1
    content = await page.content()
    assert "Evidence file viewed" not in content
    await context.close()


@pytest.mark.issue(23, 19)
async def test_19_the_governors_report_reflows_at_375_px(workspace, browser):
    context, page = await phone_page(browser)
    await page.goto(workspace.link("slt1", "Mrs Khan"))
    for term in ("", "?term=autumn-2026", "?term=autumn-0001", "?term=spring-2000"):
        response = await page.goto(workspace.url(f"/web/report{term}"))
        assert response is not None and response.status == 200, term
        assert await page.evaluate(NO_SIDEWAYS_SCROLL), term
        assert await page.evaluate("document.documentElement.scrollWidth") <= 375, term
    await context.close()


@pytest.mark.issue(23, 19)
async def test_19_a_tall_evidence_image_has_a_bounded_height(workspace, browser):
    add_file(workspace, "tall.png", tall_png())
    context, page = await phone_page(browser)
    await page.goto(workspace.link("dsl1", "Mr Patel", workspace.case_ref))
    image = page.get_by_alt_text("Evidence image tall.png")
    await image.wait_for()
    await page.wait_for_function("img => img.complete", arg=await image.element_handle())
    box = await image.bounding_box()
    assert box is not None and 0 < box["height"] <= 740 * 0.6
    assert await page.evaluate(NO_SIDEWAYS_SCROLL)
    await context.close()


@pytest.mark.issue(23, 14)
async def test_14_a_2000_character_chinese_note_is_saved_from_the_browser(workspace, browser):
    context, page = await phone_page(browser)
    await page.goto(workspace.link("dsl1", "Mr Patel", workspace.case_ref))
    note = ("学生在网上受到欺负。" * 200)[:2000]
    await page.get_by_label("Add a note").fill(note)
    await page.get_by_role("button", name="Add note").click()
    await page.get_by_text("Note added to").wait_for()
    assert "expired" not in await page.content()
    assert note in await page.content()
    await context.close()
