"""The case bundle's PDF, fit to hand on: names in any script the fonts cover print as
given (read back with pdftotext), every page is marked and numbered, and the title and
language are in the document's metadata."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.records.printing import printable_text
from bot.storage import repository as repo
from bot.storage.tables import Case
from bot.web.bundle import MARKING, build_bundle
from bot.web.casefile import build_case_file
from tests.helpers import make_service

# A reporter and the people who acted on the case, in the scripts a UK school's staff
# list holds: Polish, Welsh, Ukrainian, Greek, Arabic, Chinese, Japanese, Korean.
NAMES = {
    "reporter": "Mikołaj Ńowak-Żółć",
    "dsl": "Siân Ŷwen ap Dafydd",
    "cyrillic": "Олена Петренко",
    "greek": "Γιώργος Παπαδόπουλος",
    "arabic": "محمد علي",
    "chinese": "王小明",
    "japanese": "さくら 山田",
    "korean": "김민준",
}


def _pdftool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} must be installed on CI (make test installs poppler-utils)")
        pytest.skip(f"{name} is not installed (make test installs poppler-utils as root)")
    return path


def _bundle_pdf(database_url: str, clock, tmp_path: Path, notes: int = 1) -> Path:
    service = make_service(database_url, "default", clock, tmp_path / "evidence")
    opened = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    with service.kernel.session() as session:
        case = Case(
            ref="CB-0042",
            kind="CB",
            status="acknowledged",
            team="dsl",
            platform="console",
            reporter_id="staff1",
            reporter_name=NAMES["reporter"],
            created_at=opened,
            updated_at=opened,
        )
        session.add(case)
        repo.audit(
            session, opened, "console:staff1", "case.opened", "CB-0042", by=NAMES["reporter"]
        )
        for number, (key, name) in enumerate(list(NAMES.items())[1:], start=1):
            repo.audit(session, opened, f"console:{key}", "case.acknowledged", "CB-0042", by=name)
            for extra in range(notes):
                repo.audit(
                    session,
                    opened,
                    f"console:{key}",
                    "case.note",
                    "CB-0042",
                    by=name,
                    note=f"Note {number}.{extra}: spoke to {name}. " + "Followed up. " * 20,
                )
        session.commit()
        record = build_case_file(session, service.kernel, case)
    data = build_bundle(service.kernel, record)
    pdf = tmp_path / "CB-0042.pdf"
    pdf.write_bytes(zipfile.ZipFile(io.BytesIO(data)).read("CB-0042.pdf"))
    return pdf


@pytest.mark.issue(24, 8)
def test_bundle_pdf_prints_names_in_every_script_the_fonts_cover(database_url, clock, tmp_path):
    pdf = _bundle_pdf(database_url, clock, tmp_path)
    text = subprocess.run(
        [_pdftool("pdftotext"), str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "?" not in text.replace("?\n", "")  # nothing replaced by a question mark
    for script, name in NAMES.items():
        if script == "arabic":
            # Shaped and laid right to left; pdftotext gives the letters back in reading
            # order, sometimes with direction marks around them.
            assert all(word in text for word in name.split()), (script, text)
        else:
            assert name in text, script


@pytest.mark.issue(24, 8)
def test_bundle_pdf_marks_and_numbers_every_page_and_says_its_title_and_language(
    database_url, clock, tmp_path
):
    pdf = _bundle_pdf(database_url, clock, tmp_path, notes=4)
    info = subprocess.run(
        [_pdftool("pdfinfo"), str(pdf)], capture_output=True, text=True, check=True
    ).stdout
    pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    assert pages >= 3
    assert "Title:           CB-0042 case record" in info
    assert b"/Lang (en-GB)" in pdf.read_bytes()
    for page in range(1, pages + 1):
        text = subprocess.run(
            [_pdftool("pdftotext"), "-f", str(page), "-l", str(page), str(pdf), "-"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert " ".join(text.split()).count(MARKING) == 2, page  # at the top and the foot
        assert f"Page {page} of {pages}" in text, page


@pytest.mark.issue(24, 8)
def test_a_character_no_font_has_prints_as_its_code_point():
    assert printable_text("Ńowak 王 अ") == "Ńowak 王 [U+0905]"
