"""The governors' report a DPO can sign off (issue 24, point 7): no hidden count can be
worked out from the totals or from two runs; it says "as at", whether the term is over,
and OFFICIAL-SENSITIVE on every numbered page; no row of a table prints over the next;
and it has what governors ask for (trends, open cases, outcomes, referrals, policy-read
confirmations), counted, never named."""

from __future__ import annotations

import re
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from bot.records import governors
from bot.records.governors_counts import figures
from bot.records.governors_render import report_pdf
from bot.storage import repository as repo
from bot.storage.tables import Case, PolicyRead
from tests.helpers import make_service
from tests.records.test_governors_report import _pdftotext, _values, seed_term

AUTUMN = governors.parse_term("autumn-2026")
AFTER_TERM = datetime(2027, 1, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
def service(database_url, clock, tmp_path):
    made = make_service(database_url, "default", clock, tmp_path / "evidence")
    seed_term(made)
    return made


def _published(service) -> str:
    """Everything a reader gets (the CSV holds every figure), bar the day it was made."""
    text = figures(service.kernel, AUTUMN).csv()
    return "\n".join(line for line in text.splitlines() if ",Made on," not in line)


def _case(service, ref: str, opened: datetime, **fields) -> None:
    with service.kernel.session() as session:
        session.add(
            Case(
                ref=ref,
                kind=fields.pop("kind", "CB"),
                status=fields.pop("status", "new"),
                team="dsl",
                platform="console",
                reporter_id="staff99",
                reporter_name="MARKER-REPORTER",
                created_at=opened,
                updated_at=opened,
                **fields,
            )
        )
        session.commit()


@pytest.mark.issue(24, 7)
def test_governors_report_a_hidden_count_cannot_be_worked_out_from_the_totals(service, clock):
    """The seeded term has 1 report in November. Had there been none, every published
    figure would be the same, so 'total minus the months shown' tells a reader nothing."""
    clock.current = AFTER_TERM
    with_it = _published(service)
    with service.kernel.session() as session:
        november = session.exec(select(Case).where(Case.ref == "CB-9010")).one()
        session.delete(november)
        session.commit()
    assert _published(service) == with_it
    values = _values(figures(service.kernel, AUTUMN))
    assert values["All reports"] == "about 10" and values["November 2026"] == "fewer than 3"


@pytest.mark.issue(24, 7)
def test_governors_report_two_runs_in_a_term_cannot_reveal_a_new_case(service, clock):
    clock.current = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)
    first = figures(service.kernel, AUTUMN)
    before = _published(service)
    _case(service, "CB-9050", datetime(2026, 11, 20, 10, 0, tzinfo=UTC), urgent=True)
    clock.current = datetime(2026, 11, 28, 16, 0, tzinfo=UTC)
    assert _published(service) == before  # counted to 31 October both times
    assert (first.state, first.as_at.isoformat()) == ("in progress", "2026-10-31")
    assert first.months == ["September 2026", "October 2026"]
    # A month later November is in, as a figure of its own, protected like the rest.
    clock.current = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    later = _values(figures(service.kernel, AUTUMN))
    assert later["November 2026"] == "about 5"  # 3


@pytest.mark.issue(24, 7)
def test_governors_report_pdf_says_as_at_in_progress_and_marks_and_numbers_every_page(
    service, clock, tmp_path
):
    clock.current = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(report_pdf(figures(service.kernel, AUTUMN)))
    pages = _pdftotext(pdf).split("\f")[:-1]
    assert len(pages) >= 2
    first = " ".join(pages[0].split())
    assert "Figures as at 31 October 2026" in first
    assert "Made on 21 November 2026" in first
    assert "In progress: figures as at 31 October 2026, not final." in first
    assert "The term is not over: these figures stop at the end of the last whole month" in first
    for number, page in enumerate(pages, start=1):
        assert page.count("OFFICIAL-SENSITIVE") >= 2, number  # at the top and the foot
        assert f"Page {number} of {len(pages)}" in page, number
    clock.current = AFTER_TERM
    pdf.write_bytes(report_pdf(figures(service.kernel, AUTUMN)))
    first = " ".join(_pdftotext(pdf).split("\f")[0].split())
    assert "Figures as at 31 December 2026" in first and "in progress" not in first


def _overlaps(pdf: Path) -> list[tuple[str, str]]:
    """Pairs of text lines on one page whose boxes cross (pdftotext -bbox-layout)."""
    _pdftotext(pdf)  # skips, or fails on CI, without poppler
    xhtml = subprocess.run(
        ["pdftotext", "-bbox-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    found = []
    for page in xhtml.split("<page ")[1:]:
        lines = []
        for box, words in re.findall(r"<line (.*?)>(.*?)</line>", page, re.S):
            x0, y0, x1, y1 = (float(v) for v in re.findall(r'"([\d.]+)"', box))
            lines.append((x0, y0, x1, y1, " ".join(re.findall(r">([^<]+)</word>", words))))
        for i, (ax0, ay0, ax1, ay1, a) in enumerate(lines):
            for bx0, by0, bx1, by1, b in lines[i + 1 :]:
                if min(ax1, bx1) - max(ax0, bx0) > 0.5 and min(ay1, by1) - max(ay0, by0) > 0.5:
                    found.append((a, b))
    return found


@pytest.mark.issue(24, 7)
def test_governors_report_pdf_no_row_prints_over_the_next(service, clock, tmp_path):
    clock.current = AFTER_TERM
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(report_pdf(figures(service.kernel, AUTUMN)))
    text = " ".join(_pdftotext(pdf).split())
    assert "Cyberbullying or online abuse" in text  # the label that wraps beside its chart
    assert _overlaps(pdf) == []


@pytest.mark.issue(24, 7)
def test_governors_report_has_trends_open_cases_outcomes_referrals_and_confirmations(
    service, clock
):
    with service.kernel.session() as session:
        cases = session.exec(select(Case).where(Case.ref.in_(["CB-9002", "CB-9003", "CB-9004"])))
        for case in cases:  # three closed in October, each with the police to be told
            case.closed_at = datetime(2026, 10, 20, 12, 0, tzinfo=UTC)
            case.status = "closed"
            case.flags = ["police"]
            session.add(case)
        for number in range(3):
            session.add(
                PolicyRead(
                    platform="console",
                    user_id=f"staff{number}",
                    year=2026,
                    confirmed_at=datetime(2026, 9, 2 + number, 8, 0, tzinfo=UTC),
                )
            )
            at = datetime(2026, 10, 21, 9, 0, tzinfo=UTC) + timedelta(minutes=number)
            repo.audit(session, at, "console:dsl1", "bundle.downloaded", f"CB-900{number + 2}")
        session.commit()
    for month in (5, 6, 7):  # last term: three reports in the summer
        _case(service, f"FR-970{month}", datetime(2026, month, 3, 9, 0, tzinfo=UTC), kind="FR")
    clock.current = AFTER_TERM
    data = figures(service.kernel, AUTUMN)
    rows = {(section, measure): value for section, measure, value in data.rows()}
    trend = "Compared with last term (Summer term 2026)"
    assert rows[(trend, "All reports")] == "about 10 this term; about 5 last term"
    assert rows[(trend, "Friend or follow request")] == "about 5 this term; about 5 last term"
    assert rows[(trend, "Cases closed")] == "about 5 this term; fewer than 3 last term"
    open_now = "Reported this term, still open at the as-at date"
    assert rows[("Open cases", open_now)] == "about 5"  # 7 of the 10
    assert rows[("Open cases", "From any term, still open at the as-at date")] == "about 10"
    assert rows[("Outcomes", "Cases closed this term")] == "about 5"
    assert rows[("Outcomes", "Closed by the team")] == "about 5"
    assert rows[("Referrals", "Police to be told (staff consent given)")] == "about 5"
    bundles = "Case bundles made to hand on (children's social care, the LADO or the police)"
    assert rows[("Referrals", bundles)] == "about 5"
    confirmed = "Staff who confirmed they have read the policy (“I've read it”)"
    assert rows[("Yearly policy reminder", confirmed)] == "about 5"
    everything = data.text() + data.csv()
    assert "MARKER" not in everything and "staff0" not in everything and "dsl1" not in everything
