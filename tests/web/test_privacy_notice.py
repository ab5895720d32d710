"""Issue 24 point 5: the privacy notice at /privacy, made from the pack, over real HTTP and in
a real headless Chromium; `policy check` warns while the DPO's contact is a placeholder."""

from __future__ import annotations

from html import escape

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.domain.policy import load_pack
from bot.domain.retention import rules
from tests.fakes.browser import axe_violations, phone_page
from tests.helpers import ROOT

DPO = "Jo Bloggs, dpo@dukeries.example.uk, 01623 000000"


def _with_dpo(bot) -> None:
    """The school fills in its DPO (the page reads the pack on every request)."""
    pack = bot.service.kernel.pack
    school = pack.school.model_copy(update={"dpo_contact": DPO})
    bot.service.kernel.pack = pack.model_copy(update={"school": school})


@pytest.mark.issue(24, 5)
async def test_5_privacy_page_over_http_gives_what_articles_13_and_14_require(bot):
    _with_dpo(bot)
    async with bot.http.get(bot.server.make_url("/privacy")) as response:
        assert response.status == 200
        page = await response.text()
    for words in (
        "The Dukeries Academy is the controller",
        f"Data Protection Officer: {DPO}",
        "Article 6(1)(e), public task",
        "Article 6(1)(c), legal obligation",
        "Article 9(2)(g), substantial public interest",
        "Schedule 1 paragraph 18 (safeguarding of children and of individuals at risk)",
        "Pupils, named or described",
        "Parents and carers",
        "the local authority designated officer (LADO)",
        "the police",
        "children&#x27;s social care",
        "Slack (Slack Technologies, part of Salesforce)",
        "UK International Data Transfer Addendum",
        "The host: the server the school runs schoolbot on",
        "Your rights",
        "Information Commissioner&#x27;s Office (ICO): ico.org.uk/make-a-complaint",
    ):
        assert words in page, words
    # Only the chat service this copy runs is named; the old false promise is gone.
    assert "Microsoft (Teams" not in page
    assert "not shared with anyone else" not in page
    for rule in rules(bot.service.kernel.pack):
        assert f"<td>{escape(rule.record)}</td><td>{escape(rule.period)}</td>" in page


@pytest.mark.issue(24, 5)
async def test_5_privacy_page_reads_in_a_real_browser(bot, browser):
    context, page = await phone_page(browser)
    await page.goto(str(bot.server.make_url("/privacy")))
    assert await page.title() == "schoolbot at The Dukeries Academy: privacy"
    await page.get_by_role("heading", name="The law that allows it (lawful bases)").wait_for()
    await page.get_by_role("heading", name="Who it is shared with").wait_for()
    table = page.get_by_role("table")
    assert "Kept for" in await table.inner_text()
    # The school hasn't filled in its DPO yet: the page says so rather than show a blank.
    assert "through the school office" in await page.content()
    assert await axe_violations(page) == []
    await context.close()


@pytest.mark.issue(24, 5)
def test_5_policy_check_warns_until_the_dpo_contact_is_filled_in(tmp_path):
    from bot.domain.policy import DPO_PLACEHOLDER

    placeholder = CliRunner().invoke(main, ["policy", "check", "default"])
    assert placeholder.exit_code == 0, placeholder.output
    assert "Warning: [school] dpo_contact is not filled in" in placeholder.output
    assert load_pack("default").school.dpo_contact == DPO_PLACEHOLDER
    text = (ROOT / "bot" / "policies" / "default.toml").read_text("utf-8")
    mine = tmp_path / "my-school.toml"
    mine.write_text(text.replace(DPO_PLACEHOLDER, DPO), "utf-8")
    filled = CliRunner().invoke(main, ["policy", "check", str(mine)])
    assert filled.exit_code == 0 and "Warning" not in filled.output, filled.output
