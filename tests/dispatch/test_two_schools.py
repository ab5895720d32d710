"""Issue 25 points 1 and 2: two schools with different packs in one database, side by side.
The same person reports in both; each school's DSL sees only its school's alert, each
school numbers its own cases, an unfinished report is chased only by its own school's
sweep, and a case reference typed in one school finds nothing of the other."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.domain.schools import School
from bot.storage import repository as repo
from bot.storage.schools import add_school
from tests.helpers import grant, make_service, say


@pytest.fixture
def schools(database_url, clock, tmp_path):
    first = make_service(database_url, "dukeries-academy", clock, tmp_path / "evidence")
    with first.kernel.session() as session:
        kings = add_school(session, School(0, "kings"), datetime.now(UTC))
        session.commit()
    second = make_service(
        database_url, "harmonize-academy", clock, tmp_path / "evidence", school_id=kings.id
    )
    return first, second


@pytest.mark.issue(25, 2)
def test_2_two_schools_in_one_database_see_nothing_of_each_other(schools, clock):
    first, second = schools
    grant(first, "dsl1", "dsl")
    grant(second, "dsl2", "dsl")
    for service, app in ((first, "instagram"), (second, "facebook")):
        say(service, "alice", "friend request", "1", "no", app, "no", "no")
    assert [m.text for m in first.intake.inbox("console", "dsl2")] == []
    assert [m.text for m in second.intake.inbox("console", "dsl1")] == []
    [alert_one] = first.intake.inbox("console", "dsl1")
    [alert_two] = second.intake.inbox("console", "dsl2")
    assert alert_one.title == alert_two.title  # each school's own first case
    assert "FR-0001" in (alert_one.title or "")
    with first.kernel.session() as session:
        assert repo.roles_of(session, "console", "dsl2") == frozenset()
        [mine] = repo.cases_reported_by(session, "console", "alice")
        assert mine.school_id == 1
    [own] = say(second, "dsl2", "case FR-0001")
    assert "Facebook" in own and "Instagram" not in own
    assert say(second, "dsl1", "case FR-0001") == ["I can't find a case FR-0001 that you can see."]

    # An unfinished report in the second school only: the first school's sweep leaves it.
    say(second, "bob", "friend request", "1")
    clock.advance(hours=3)
    first.sweep()
    assert first.intake.inbox("console", "bob") == []
    second.sweep()
    assert second.intake.inbox("console", "bob") != []
