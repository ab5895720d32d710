"""Issue 25 point 1: `schoolbot schools add/list/show/edit`, run as the real command: each
school's pack, timezone and calendar checked as `policy check` checks them, clear words
for bad input with nothing saved, and every change in the school's audit trail."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.domain.policy import load_pack
from tests.helpers import run_cli

CALENDAR = """
[calendar]
timezone = "Europe/London"
working_days = ["mon", "tue", "wed", "thu", "fri"]
closures = [{ start = 2026-12-19, end = 2027-01-04, name = "Christmas" }]
"""


def _audit(tmp_path: Path) -> list[tuple[int, str, str]]:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'data' / 'schoolbot.db'}")
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT school_id, action, subject FROM audit_event ORDER BY id")
        ).all()
    engine.dispose()
    return [tuple(row) for row in rows]  # type: ignore[misc]


@pytest.mark.issue(25, 1)
def test_1_a_trust_registers_and_edits_its_schools(tmp_path):
    listed = run_cli(tmp_path, "schools", "list")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.strip() == "1  school  Our School  (pack: SCHOOLBOT_POLICY)"

    (tmp_path / "kings-calendar.toml").write_text(CALENDAR)
    added = run_cli(
        tmp_path, "schools", "add", "kings", "--pack", "king-jamess-school",
        "--calendar", "kings-calendar.toml",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert "Added school 2  kings  King James's School" in added.stdout

    shown = run_cli(tmp_path, "schools", "show", "kings")
    assert "Pack: king-jamess-school" in shown.stdout
    assert "Closures: 1\n" in shown.stdout

    edited = run_cli(tmp_path, "schools", "edit", "2", "--timezone", "Europe/Dublin")
    assert edited.returncode == 0, edited.stderr
    assert "Timezone: Europe/Dublin\n" in run_cli(tmp_path, "schools", "show", "2").stdout
    assert _audit(tmp_path) == [
        (2, "school.added", "school:kings"),
        (2, "school.edited", "school:kings"),
    ]


@pytest.mark.issue(25, 1)
def test_1_bad_input_says_what_is_wrong_and_saves_nothing(tmp_path):
    (tmp_path / "broken.toml").write_text('[school]\nname = "X"\n[calendar]\nday_ends = "nope"\n')
    (tmp_path / "closed.toml").write_text(
        "[calendar]\nclosures = [{ start = 2027-01-04, end = 2026-12-19 }]\n"
    )
    cases = {
        ("add", "Kings School", "--pack", "default"): "can't be a school's key",
        ("add", "kings", "--pack", "no-such-pack"): "no-such-pack is not a valid policy pack",
        ("add", "kings", "--pack", "broken.toml"): "is not a valid policy pack",
        ("add", "kings", "--pack", "default", "--timezone", "Mars/Olympus"): "not a timezone",
        ("add", "kings", "--pack", "default", "--calendar", "closed.toml"): "ends (2026-12-19)",
        ("add", "school", "--pack", "default"): "There is already a school 'school'",
        ("edit", "nowhere", "--name", "X"): "There is no school 'nowhere'. Schools: school.",
        ("edit", "school"): "Nothing to change",
    }
    for args, expected in cases.items():
        result = run_cli(tmp_path, "schools", *args)
        assert result.returncode == 1, args
        assert expected in result.stderr, (args, result.stderr)
    listed = run_cli(tmp_path, "schools", "list").stdout
    assert listed.count("\n") == 1  # still only the first school


@pytest.mark.issue(25, 1)
def test_1_the_bot_runs_on_what_schools_edit_set_for_the_first_school(tmp_path, monkeypatch):
    edited = run_cli(
        tmp_path, "schools", "edit", "school", "--name", "Trust Primary",
        "--pack", "dukeries-academy", "--timezone", "Europe/Dublin",
    )  # fmt: skip
    assert edited.returncode == 0, edited.stderr
    assert "Restart schoolbot" in edited.stdout
    from bot.config import Settings
    from bot.runtime import build_service

    monkeypatch.setenv("SCHOOLBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    service = build_service(Settings())
    assert service.kernel.school_id == 1
    assert service.kernel.pack.school.name == "Trust Primary"
    assert service.kernel.pack.calendar.timezone == "Europe/Dublin"
    assert service.kernel.pack.clauses == load_pack("dukeries-academy").clauses
    service.engine.dispose()
