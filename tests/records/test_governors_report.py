"""The governors' termly report: a seeded autumn term with known figures, small counts
hidden, charts rendered, the PDF read back with pdftotext, the CSV, and the SLT-only page
over real HTTP and in Chromium with axe-core."""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.records import governors
from bot.records.governors_counts import figures
from bot.records.governors_render import render, report_pdf
from bot.storage.tables import Case, CaseTask, Comment, OfficialAccount, Reminder
from tests.fakes.browser import SHOTS, axe_violations, phone_page
from tests.helpers import make_service

FEWER = "fewer than 3"


def _at(month: int, day: int, hour: int = 11, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def seed_term(service) -> None:
    """Autumn 2026, with figures worked out by hand:

    reports: September 4 (one at 00:30 on 1 September, London time), October 4, November 2,
    December 0, plus one in August and one in January that are not in the term;
    kinds: 6 online abuse, 3 friend requests, 1 account request; 4 urgent;
    acknowledged after 5, 10, 20, 40 and 60 minutes (median 20, 90th percentile 52;
    3 of 5 within the 30-minute re-alert);
    comments: 4 received, 3 answered before their deadline, 1 after;
    follow-ups: 3 past due and not done, 1 done; accounts: 1 opened, none closed;
    the yearly reminder went to 12 people.
    """
    plan = [
        ("CB", _at(8, 31, 23, 30), True, 5),  # 00:30 on 1 September in London
        ("CB", _at(9, 10), True, 10),
        ("CB", _at(9, 15), True, 20),
        ("CB", _at(9, 20), True, 40),
        ("FR", _at(10, 1), False, 60),
        ("FR", _at(10, 2), False, None),
        ("FR", _at(10, 3), False, None),
        ("AC", _at(10, 4), False, None),
        ("CB", _at(11, 5), False, None),
        ("CB", _at(11, 6), False, None),
        ("CB", _at(8, 20), True, 1),  # summer term
        ("CB", _at(1, 5, year=2027), True, 1),  # spring term
    ]
    with service.kernel.session() as session:
        for number, (kind, opened, urgent, ack) in enumerate(plan, start=1):
            case = Case(
                ref=f"{kind}-9{number:03d}",
                kind=kind,
                status="acknowledged" if ack else "new",
                team="dsl" if kind == "CB" else "slt",
                urgent=urgent,
                platform="console",
                reporter_id=f"staff{number}",
                reporter_name="MARKER-REPORTER",
                created_at=opened,
                updated_at=opened,
                acknowledged_at=opened + timedelta(minutes=ack) if ack else None,
            )
            session.add(case)
        session.flush()
        first = session.exec(Case.__table__.select().where(Case.ref == "CB-9002")).first()
        for due, done in (
            (_at(10, 10), None),
            (_at(10, 11), None),
            (_at(10, 12), None),
            (_at(10, 13), _at(10, 12)),
        ):
            session.add(
                CaseTask(case_id=first.id, clause="AB-LOG", title="x", due_at=due, done_at=done)
            )
        account = OfficialAccount(
            name="PE department",
            purpose="Fixtures",
            platform="Instagram",
            author="MARKER-AUTHOR",
            approved_on=_at(10, 20),
        )
        session.add(account)
        session.flush()
        for number, (received, closed) in enumerate(
            [
                (_at(9, 1), _at(9, 1, 15)),
                (_at(9, 2), _at(9, 2, 15)),
                (_at(10, 5), _at(10, 5, 15)),
                (_at(10, 6), _at(10, 9)),  # after its 24-hour deadline
            ]
        ):
            session.add(
                Comment(
                    account_id=account.id,
                    author_type="parent",
                    text="MARKER-COMMENT",
                    received_at=received,
                    due_at=received + timedelta(hours=24),
                    source="cli",
                    logged_by="console:slt1",
                    external_id=f"c{number}",
                    status="replied",
                    closed_at=closed,
                )
            )
        session.add(
            Reminder(
                key="annual:2026",
                kind="annual",
                due_at=_at(9, 1, 7),
                status="done",
                done_at=_at(9, 1, 7),
                outcome="reminded 12 people",
            )
        )
        session.commit()


def _values(data) -> dict[str, str]:
    """Measure -> value, this term's only (the comparison with last term repeats names)."""
    return {m: v for section, m, v in data.rows() if not section.startswith("Compared")}


@pytest.fixture
def seeded(database_url, clock, tmp_path):
    service = make_service(database_url, "default", clock, tmp_path / "evidence")
    seed_term(service)
    return service, database_url


def test_governors_report_seeded_term_prints_the_right_numbers(seeded):
    """From the command, on the real clock (after November 2026, so every seeded case counts)."""
    _, url = seeded
    result = CliRunner().invoke(
        main, ["report", "--term", "autumn-2026"], env={"DATABASE_URL": url}
    )
    assert result.exit_code == 0, result.output
    text = result.output
    for line in (
        "OFFICIAL-SENSITIVE",
        "Autumn term 2026 report for governors",
        "Figures as at: ",
        "September 2026: about 5",
        "October 2026: about 5",
        f"November 2026: {FEWER}",
        "Cyberbullying or online abuse: about 5",
        "Friend or follow request: about 5",
        f"New official account request: {FEWER}",
        "All reports: about 10",
        "Acknowledged: about 5",
        "Median time from alert to acknowledgement: 20 minutes",
        "90th percentile: 52 minutes",
        "Staff sent the yearly reminder: about 10",
        "counts confirmations and never names anyone",
    ):
        assert line in text, line
    assert "MARKER" not in text  # no names, no comment text


def test_governors_report_counts_the_whole_term_once_it_is_over(seeded, clock):
    service, _ = seeded
    clock.current = datetime(2027, 1, 10, 12, 0, tzinfo=UTC)
    data = figures(service.kernel, governors.parse_term("autumn-2026"))
    values = _values(data)
    assert (data.state, data.as_at.isoformat()) == ("over", "2026-12-31")
    assert values == values | {
        "September 2026": "about 5",  # 4
        "October 2026": "about 5",  # 4
        "November 2026": FEWER,  # 2
        "December 2026": FEWER,  # 0
        "Cyberbullying or online abuse": "about 5",  # 6
        "Friend or follow request": "about 5",  # 3
        "New official account request": FEWER,  # 1
        "All reports": "about 10",  # 10
        "Marked urgent": "about 5 of about 10 (about 40%)",  # 4 of 10
        "Acknowledged": "about 5",
        "Median time from alert to acknowledgement": "20 minutes",
        "90th percentile": "52 minutes",
        # 3 of 5, and 3 of 4: the rest are fewer than 3, so no percentage
        "Acknowledged within the re-alert time (30 minutes)": "about 5 of about 5",
        "Answered within 24 hours": "about 5 of about 5",
        "Overdue follow-up tasks (past due, not done)": "about 5",  # 3
        "Official accounts opened": FEWER,
        "Official accounts closed": FEWER,
        "Staff sent the yearly reminder": "about 10",  # 12
    }


@pytest.mark.issue(23, 25)
def test_governors_report_shows_no_clause_ids_and_no_fewer_than_3_of_fewer_than_3(seeded, clock):
    service, _ = seeded
    clock.current = datetime(2027, 4, 10, 12, 0, tzinfo=UTC)
    for term in ("autumn-2026", "spring-2027"):
        data = figures(service.kernel, governors.parse_term(term))
        for printed in (data.text(), data.csv()):
            clause_ids = re.findall(r"\b[A-Z]{1,3}-[A-Z0-9]{2,}\b", printed)
            assert [c for c in clause_ids if c != "OFFICIAL-SENSITIVE"] == [], term
            assert f"{FEWER} of {FEWER}" not in printed, term


def test_governors_report_suppresses_small_counts_and_small_shares(seeded, clock):
    service, _ = seeded
    clock.current = datetime(2027, 4, 10, 12, 0, tzinfo=UTC)
    data = figures(service.kernel, governors.parse_term("spring-2027"))
    values = _values(data)
    assert values["All reports"] == FEWER  # one report
    assert values["Marked urgent"] == f"not shown ({FEWER} in all)"
    assert values["Median time from alert to acknowledgement"].startswith("not shown")
    assert "%" not in " ".join(values.values())
    assert governors.shown(0) == governors.shown(2) == FEWER
    assert [governors.shown(n) for n in (3, 7, 8, 12, 13)] == [
        "about 5", "about 5", "about 10", "about 10", "about 15"
    ]  # fmt: skip


def test_governors_report_terms_are_autumn_spring_summer():
    assert governors.parse_term("Autumn-2026").first.isoformat() == "2026-09-01"
    assert governors.parse_term("spring-2027").last.isoformat() == "2027-03-31"
    assert governors.parse_term("summer-2027").last.isoformat() == "2027-08-31"
    with pytest.raises(governors.TermError, match="autumn-2026"):
        governors.parse_term("michaelmas-2026")


def test_governors_report_charts_render_as_svg_without_script_and_png(seeded):
    service, _ = seeded
    data = figures(service.kernel, governors.parse_term("autumn-2026"))
    for key in ("months", "kinds", "acknowledgement"):
        svg = render(data, key, "svg").decode("utf-8")
        assert svg.lstrip().startswith("<?xml") and "<svg" in svg
        assert "<script" not in svg.lower() and "javascript:" not in svg.lower()
        assert render(data, key, "png").startswith(b"\x89PNG\r\n\x1a\n")


def _pdftotext(path: Path) -> str:
    if shutil.which("pdftotext") is None:
        if os.environ.get("CI"):
            pytest.fail("pdftotext must be installed on CI (make test installs poppler-utils)")
        pytest.skip("pdftotext is not installed (make test installs poppler-utils as root)")
    done = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    )
    return done.stdout


def test_governors_report_pdf_and_csv_from_the_command(seeded, tmp_path):
    _, url = seeded
    pdf, table = tmp_path / "report.pdf", tmp_path / "report.csv"
    result = CliRunner().invoke(
        main,
        ["report", "--term", "autumn-2026", "-o", str(pdf), "--csv", str(table)],
        env={"DATABASE_URL": url},
    )
    assert result.exit_code == 0, result.output
    assert f"Wrote {pdf}." in result.output and f"Wrote {table}." in result.output
    assert pdf.read_bytes().startswith(b"%PDF")
    text = " ".join(_pdftotext(pdf).split())
    for words in (
        "Autumn term 2026",
        "Reports by month",
        "Time from alert to acknowledgement",
        "OFFICIAL-SENSITIVE",
        "Figures as at",
        "Median 20 minutes",
        "90th percentile 52 minutes",
        f"New official account request {FEWER}",
    ):
        assert words in text, words
    assert "MARKER" not in text
    rows = list(csv.reader(io.StringIO(table.read_text("utf-8"))))
    assert rows[0] == ["School", "Term", "Section", "Measure", "Value"]
    values = {(r[2], r[3]): r[4] for r in rows[1:]}
    assert values[("Reports by month", "September 2026")] == "about 5"
    assert values[("About this report", "Marking")] == "OFFICIAL-SENSITIVE"
    assert values[("Reports by kind and month", "Friend or follow request, October 2026")] == (
        "about 5"
    )
    assert (
        values[("Reports by kind and month", "Cyberbullying or online abuse, November 2026")]
        == FEWER
    )
    assert values[("Accounts", "Official accounts opened")] == FEWER
    assert "MARKER" not in table.read_text("utf-8")


def test_governors_report_pdf_has_title_and_language(seeded):
    service, _ = seeded
    data = figures(service.kernel, governors.parse_term("autumn-2026"))
    pdf = report_pdf(data)
    assert b"/Lang (en-GB)" in pdf and b"report for governors" in pdf


async def test_governors_report_page_is_for_slt_only(workspace):
    seed_term(workspace.service)
    async with await workspace.signed_in("slt1", "Ms Jones") as http:
        async with http.get(workspace.url("/web/")) as response:
            assert 'href="/web/report"' in await response.text()
        async with http.get(workspace.url("/web/report?term=autumn-2026")) as response:
            assert response.status == 200
            page = await response.text()
            assert "script-src" not in response.headers["Content-Security-Policy"]
        assert "Marked urgent" in page and "fewer than 3" in page and "MARKER" not in page
        assert "<script" not in page and "style=" not in page
        async with http.get(workspace.url("/web/report/months.svg?term=autumn-2026")) as response:
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("image/svg+xml")
            svg = await response.text()
        assert "<svg" in svg and "<script" not in svg.lower()
        async with http.get(workspace.url("/web/report/report.pdf?term=autumn-2026")) as response:
            assert response.status == 200 and response.content_type == "application/pdf"
            assert "governors-autumn-2026.pdf" in response.headers["Content-Disposition"]
            assert (await response.read()).startswith(b"%PDF")
        async with http.get(workspace.url("/web/report/report.csv?term=autumn-2026")) as response:
            assert response.status == 200 and response.content_type == "text/csv"
            assert "Marked urgent" in await response.text()
    for user in ("dsl1", "dan"):
        async with await workspace.signed_in(user) as http:
            async with http.get(workspace.url("/web/")) as response:
                assert "/web/report" not in await response.text()
            for path in (
                "/web/report?term=autumn-2026",
                "/web/report/months.svg",
                "/web/report/report.pdf",
                "/web/report/report.csv",
            ):
                async with http.get(workspace.url(path)) as response:
                    assert response.status == 404, (user, path)
    async with aiohttp.ClientSession() as http, http.get(workspace.url("/web/report")) as r:
        assert r.status == 401


async def test_governors_report_page_passes_axe_in_chromium_at_phone_width(workspace, browser):
    SHOTS.mkdir(parents=True, exist_ok=True)
    seed_term(workspace.service)
    context, page = await phone_page(browser)
    await page.goto(workspace.link("slt1", "Ms Jones"))
    await page.get_by_role("link", name="The termly report for governors").click()
    await page.get_by_role("link", name="Summer term 2026").wait_for()
    await page.goto(workspace.url("/web/report?term=autumn-2026"))
    assert await page.title() == "Autumn term 2026 report for governors · schoolbot"
    for chart in ("months", "kinds", "acknowledgement"):
        image = page.locator(f'img[src^="/web/report/{chart}.svg"]')
        assert await image.evaluate("img => img.complete && img.naturalWidth") > 0, chart
    assert await axe_violations(page) == []
    await page.screenshot(path=str(SHOTS / "governors-report.png"), full_page=True)
    await context.close()
