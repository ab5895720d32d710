"""MO-24H reply deadlines from `bot.domain.deadlines.WorkingCalendar`.

The rule, from the module docstring:
- received on a working day: due `reply_within_hours` later on the wall clock in the
  school's timezone; if that lands on a shut day, the same time on the next working day;
- received on a shut day: due at `day_ends` on the next working day;
- wall-clock times, so a deadline across a clock change keeps its hour;
- `weekend_to_next_working_day = false`: simply the elapsed hours.

Expectations are written as Europe/London wall-clock times. `assert_due` checks both the
instant and the local wall time with its UTC offset (GMT +00:00, BST +01:00), so a result
an hour out across a clock change fails with a readable message.

Bank holidays are as the `holidays` package (0.109) gives them for GB, checked for 2025-26:
England: 25/26 Dec 2025, 1 Jan, 3 Apr (Good Friday), 6 Apr (Easter Monday), 4 May,
25/26 Dec 2026 and 28 Dec 2026 (Boxing Day observed); 2 Jan and 17 Mar are working days.
Scotland adds 2 Jan 2026 ("New Year Holiday"); Northern Ireland adds 17 Mar (St Patrick's).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.deadlines import WorkingCalendar
from bot.domain.policy import Closure, bundled_pack_names, load_pack

LONDON = ZoneInfo("Europe/London")
GMT = timedelta(0)
BST = timedelta(hours=1)


def london(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=LONDON)


def make_calendar(
    pack_name: str = "default", *, comments: dict | None = None, **calendar: object
) -> WorkingCalendar:
    """A WorkingCalendar for a bundled pack, with calendar/comments settings overridden."""
    pack = load_pack(pack_name)
    update: dict[str, object] = {}
    if calendar:
        update["calendar"] = pack.calendar.model_copy(update=calendar)
    if comments:
        update["comments"] = pack.comments.model_copy(update=comments)
    return WorkingCalendar(pack.model_copy(update=update))


def assert_due(cal: WorkingCalendar, received: datetime, expected: datetime) -> datetime:
    """reply_deadline(received) is `expected`: same instant, same London wall time and offset."""
    due = cal.reply_deadline(received)
    local = due.astimezone(LONDON)
    assert local.isoformat() == expected.isoformat(), (
        f"received {received.astimezone(LONDON):%a %d %b %Y %H:%M %Z}: "
        f"due {local:%a %d %b %Y %H:%M %Z}, expected {expected:%a %d %b %Y %H:%M %Z}"
    )
    assert due == expected
    return due


def elapsed_hours(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 3600


@pytest.fixture
def default_calendar() -> WorkingCalendar:
    return make_calendar()


# --- the bundled packs agree with the tests' assumptions -----------------------------------


def test_default_pack_settings_used_by_these_tests(default_calendar: WorkingCalendar) -> None:
    assert default_calendar.calendar.timezone == "Europe/London"
    assert default_calendar.calendar.nation == "england-and-wales"
    assert default_calendar.calendar.day_ends == time(17, 0)
    assert default_calendar.comments.reply_within_hours == 24
    assert default_calendar.comments.nudge_before_hours == 4
    assert default_calendar.comments.weekend_to_next_working_day is True


# --- working-day receipts ------------------------------------------------------------------


@pytest.mark.parametrize("pack_name", bundled_pack_names())
def test_weekday_receipt_is_due_24_hours_later(pack_name: str) -> None:
    cal = make_calendar(pack_name)
    received = london(2026, 6, 9, 10, 0)  # Tuesday
    due = assert_due(cal, received, london(2026, 6, 10, 10, 0))  # Wednesday 10:00
    assert elapsed_hours(received, due) == 24


def test_thursday_receipt_is_due_friday_same_time(default_calendar: WorkingCalendar) -> None:
    assert_due(default_calendar, london(2026, 6, 11, 16, 45), london(2026, 6, 12, 16, 45))


# --- weekend receipts ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "received",
    [
        pytest.param(london(2026, 6, 13, 9, 0), id="saturday-morning"),
        pytest.param(london(2026, 6, 13, 23, 59), id="saturday-night"),
        pytest.param(london(2026, 6, 14, 0, 1), id="sunday-just-after-midnight"),
        pytest.param(london(2026, 6, 14, 18, 0), id="sunday-evening"),
    ],
)
def test_weekend_receipt_is_due_monday_at_day_ends(
    default_calendar: WorkingCalendar, received: datetime
) -> None:
    assert_due(default_calendar, received, london(2026, 6, 15, 17, 0))  # Monday 17:00


def test_weekend_receipt_uses_the_packs_own_day_ends() -> None:
    cal = make_calendar(day_ends=time(15, 30))
    assert_due(cal, london(2026, 6, 13, 11, 0), london(2026, 6, 15, 15, 30))  # Sat -> Mon 15:30


# --- bank holidays -------------------------------------------------------------------------


def test_receipt_on_easter_monday_is_due_tuesday_at_day_ends(
    default_calendar: WorkingCalendar,
) -> None:
    assert default_calendar.closed_because(date(2026, 4, 6)) == "Easter Monday"
    assert_due(default_calendar, london(2026, 4, 6, 10, 0), london(2026, 4, 7, 17, 0))


def test_receipt_on_boxing_day_is_due_next_monday_at_day_ends(
    default_calendar: WorkingCalendar,
) -> None:
    # Boxing Day 2025 is a Friday; the weekend follows, so Monday 29 December.
    assert default_calendar.closed_because(date(2025, 12, 26)) == "Boxing Day"
    assert_due(default_calendar, london(2025, 12, 26, 11, 0), london(2025, 12, 29, 17, 0))


def test_christmas_eve_receipt_skips_christmas_boxing_day_and_weekend(
    default_calendar: WorkingCalendar,
) -> None:
    # Wed 24 Dec 2025 10:00 -> Thu 25 (Christmas) -> Fri 26 (Boxing Day) -> weekend -> Mon 29.
    assert_due(default_calendar, london(2025, 12, 24, 10, 0), london(2025, 12, 29, 10, 0))


def test_boxing_day_observed_on_monday_is_not_a_working_day(
    default_calendar: WorkingCalendar,
) -> None:
    # Boxing Day 2026 is a Saturday, so Monday 28 December is the substitute bank holiday.
    assert default_calendar.closed_because(date(2026, 12, 28)) == "Boxing Day (observed)"
    # Thu 24 Dec 2026 10:00 -> Fri 25 (Christmas) -> weekend -> Mon 28 (observed) -> Tue 29.
    assert_due(default_calendar, london(2026, 12, 24, 10, 0), london(2026, 12, 29, 10, 0))


def test_2_january_is_a_bank_holiday_in_scotland_only() -> None:
    scotland = make_calendar(nation="scotland")
    england = make_calendar(nation="england-and-wales")
    assert scotland.closed_because(date(2026, 1, 2)) == "New Year Holiday"
    assert england.is_working_day(date(2026, 1, 2))

    # Received on Friday 2 January 2026.
    assert_due(scotland, london(2026, 1, 2, 10, 0), london(2026, 1, 5, 17, 0))  # Mon day_ends
    assert_due(england, london(2026, 1, 2, 10, 0), london(2026, 1, 5, 10, 0))  # Mon 10:00


def test_new_years_eve_receipt_in_scotland_skips_both_new_year_holidays() -> None:
    received = london(2025, 12, 31, 10, 0)  # Wednesday
    assert_due(make_calendar(nation="scotland"), received, london(2026, 1, 5, 10, 0))  # Monday
    assert_due(make_calendar(), received, london(2026, 1, 2, 10, 0))  # England: Friday


def test_easter_monday_is_a_working_day_in_scotland() -> None:
    scotland = make_calendar(nation="scotland")
    assert scotland.is_working_day(date(2026, 4, 6))
    assert_due(scotland, london(2026, 4, 6, 10, 0), london(2026, 4, 7, 10, 0))


def test_st_patricks_day_is_a_bank_holiday_in_northern_ireland_only() -> None:
    northern_ireland = make_calendar(nation="northern-ireland")
    england = make_calendar()
    assert northern_ireland.closed_because(date(2026, 3, 17)) == "Saint Patrick's Day"
    assert england.is_working_day(date(2026, 3, 17))

    # Received on St Patrick's Day itself (a Tuesday).
    assert_due(northern_ireland, london(2026, 3, 17, 10, 0), london(2026, 3, 18, 17, 0))
    assert_due(england, london(2026, 3, 17, 10, 0), london(2026, 3, 18, 10, 0))
    # Received the Monday before: the 24 hours end on the holiday.
    assert_due(northern_ireland, london(2026, 3, 16, 10, 0), london(2026, 3, 18, 10, 0))
    assert_due(england, london(2026, 3, 16, 10, 0), london(2026, 3, 17, 10, 0))


# --- Friday receipts -----------------------------------------------------------------------


def test_friday_receipt_ending_on_saturday_is_due_monday_same_time(
    default_calendar: WorkingCalendar,
) -> None:
    assert_due(default_calendar, london(2026, 6, 12, 15, 0), london(2026, 6, 15, 15, 0))


def test_friday_receipt_before_bank_holiday_monday_is_due_tuesday(
    default_calendar: WorkingCalendar,
) -> None:
    # Fri 1 May 2026 15:00; Monday 4 May is the Early May bank holiday.
    assert_due(default_calendar, london(2026, 5, 1, 15, 0), london(2026, 5, 5, 15, 0))


def test_thursday_before_easter_is_due_the_tuesday_after(
    default_calendar: WorkingCalendar,
) -> None:
    # Thu 2 Apr 2026 15:00 -> Good Friday, weekend, Easter Monday -> Tue 7 Apr 15:00 BST.
    assert_due(default_calendar, london(2026, 4, 2, 15, 0), london(2026, 4, 7, 15, 0))


# --- school closures from the pack ---------------------------------------------------------


def test_receipt_the_day_before_an_inset_day_is_due_after_it() -> None:
    inset = Closure(start=date(2026, 6, 10), end=date(2026, 6, 10), name="INSET day")  # Wed
    cal = make_calendar(closures=[inset])
    assert cal.closed_because(date(2026, 6, 10)) == "INSET day"
    assert_due(cal, london(2026, 6, 9, 10, 0), london(2026, 6, 11, 10, 0))  # Tue -> Thu


def test_receipt_the_friday_before_half_term_is_due_after_half_term() -> None:
    half_term = Closure(start=date(2026, 2, 16), end=date(2026, 2, 20), name="February half term")
    cal = make_calendar(closures=[half_term])
    # Fri 13 Feb 10:00 -> weekend, then half term Mon 16 - Fri 20, weekend -> Mon 23 Feb.
    assert_due(cal, london(2026, 2, 13, 10, 0), london(2026, 2, 23, 10, 0))


def test_receipt_during_a_closure_is_due_at_day_ends_after_it() -> None:
    half_term = Closure(start=date(2026, 2, 16), end=date(2026, 2, 20), name="February half term")
    cal = make_calendar(closures=[half_term])
    assert_due(cal, london(2026, 2, 18, 10, 0), london(2026, 2, 23, 17, 0))  # Wed -> Mon 17:00


def test_closures_from_another_pack_do_not_leak(default_calendar: WorkingCalendar) -> None:
    # The same receipt without the INSET day is simply due the next day.
    assert_due(default_calendar, london(2026, 6, 9, 10, 0), london(2026, 6, 10, 10, 0))


# --- clock-change weekends (UK 2026: forward Sun 29 Mar, back Sun 25 Oct) -------------------


def test_friday_before_clocks_go_forward_is_due_monday_same_wall_time(
    default_calendar: WorkingCalendar,
) -> None:
    received = london(2026, 3, 27, 15, 0)  # Friday 15:00 GMT
    assert received.utcoffset() == GMT
    due = assert_due(default_calendar, received, london(2026, 3, 30, 15, 0))  # Mon 15:00 BST
    assert due.astimezone(LONDON).utcoffset() == BST
    assert elapsed_hours(received, due) == 71


def test_friday_before_clocks_go_back_is_due_monday_same_wall_time(
    default_calendar: WorkingCalendar,
) -> None:
    received = london(2026, 10, 23, 15, 0)  # Friday 15:00 BST
    assert received.utcoffset() == BST
    due = assert_due(default_calendar, received, london(2026, 10, 26, 15, 0))  # Mon 15:00 GMT
    assert due.astimezone(LONDON).utcoffset() == GMT
    assert elapsed_hours(received, due) == 73


@pytest.mark.parametrize(
    "received",
    [
        pytest.param(london(2026, 3, 28, 12, 0), id="saturday-gmt"),
        pytest.param(datetime(2026, 3, 29, 0, 30, tzinfo=UTC), id="sunday-before-change"),
        pytest.param(datetime(2026, 3, 29, 1, 30, tzinfo=UTC), id="sunday-after-change"),
        pytest.param(london(2026, 3, 29, 20, 0), id="sunday-bst"),
    ],
)
def test_receipt_on_clocks_forward_weekend_is_due_monday_day_ends_bst(
    default_calendar: WorkingCalendar, received: datetime
) -> None:
    due = assert_due(default_calendar, received, london(2026, 3, 30, 17, 0))
    assert due == datetime(2026, 3, 30, 16, 0, tzinfo=UTC)  # 17:00 BST


@pytest.mark.parametrize(
    "received",
    [
        pytest.param(london(2026, 10, 24, 12, 0), id="saturday-bst"),
        pytest.param(datetime(2026, 10, 25, 0, 30, tzinfo=UTC), id="sunday-first-0130"),
        pytest.param(datetime(2026, 10, 25, 1, 30, tzinfo=UTC), id="sunday-second-0130"),
        pytest.param(london(2026, 10, 25, 20, 0), id="sunday-gmt"),
    ],
)
def test_receipt_on_clocks_back_weekend_is_due_monday_day_ends_gmt(
    default_calendar: WorkingCalendar, received: datetime
) -> None:
    due = assert_due(default_calendar, received, london(2026, 10, 26, 17, 0))
    assert due == datetime(2026, 10, 26, 17, 0, tzinfo=UTC)  # 17:00 GMT


def test_saturday_night_utc_receipt_that_is_sunday_in_london(
    default_calendar: WorkingCalendar,
) -> None:
    received = datetime(2026, 10, 24, 23, 30, tzinfo=UTC)  # Saturday in UTC
    assert received.astimezone(LONDON).date() == date(2026, 10, 25)  # Sunday 00:30 BST
    due = assert_due(default_calendar, received, london(2026, 10, 26, 17, 0))  # Mon 17:00 GMT
    assert due == datetime(2026, 10, 26, 17, 0, tzinfo=UTC)


def test_saturday_night_utc_receipt_uses_the_london_date_in_a_six_day_week() -> None:
    # Saturday is a working day here, so the date matters: 23:30 UTC Saturday is already
    # Sunday 00:30 BST in London, a shut day, so the rule is Monday's day_ends (17:00 GMT),
    # not "24 hours later" as it would be if the UTC date (Saturday) were used.
    cal = make_calendar(working_days=["mon", "tue", "wed", "thu", "fri", "sat"])
    assert_due(cal, datetime(2026, 10, 24, 23, 30, tzinfo=UTC), london(2026, 10, 26, 17, 0))


def test_sunday_night_utc_receipt_that_is_monday_in_london(
    default_calendar: WorkingCalendar,
) -> None:
    received = datetime(2026, 6, 14, 23, 30, tzinfo=UTC)  # Sunday in UTC, Mon 00:30 BST
    assert received.astimezone(LONDON).date() == date(2026, 6, 15)
    assert_due(default_calendar, received, london(2026, 6, 16, 0, 30))  # Tue 00:30 BST


def test_48_hour_window_ending_on_clocks_forward_sunday_keeps_wall_time() -> None:
    # Counting wall-clock hours: Fri 10:00 GMT + 48 h is Sun 10:00 (shut) -> Mon 10:00 BST.
    # Counting elapsed hours would give Sun 11:00 BST -> Mon 11:00 BST instead.
    cal = make_calendar(comments={"reply_within_hours": 48})
    received = london(2026, 3, 27, 10, 0)
    due = assert_due(cal, received, london(2026, 3, 30, 10, 0))
    assert elapsed_hours(received, due) == 71


SEVEN_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def test_seven_day_week_clocks_forward_sunday_keeps_wall_time() -> None:
    cal = make_calendar(working_days=SEVEN_DAYS)
    received = london(2026, 3, 28, 10, 0)  # Saturday 10:00 GMT
    due = assert_due(cal, received, london(2026, 3, 29, 10, 0))  # Sunday 10:00 BST
    assert elapsed_hours(received, due) == 23


def test_seven_day_week_clocks_back_sunday_keeps_wall_time() -> None:
    cal = make_calendar(working_days=SEVEN_DAYS)
    received = london(2026, 10, 24, 10, 0)  # Saturday 10:00 BST
    due = assert_due(cal, received, london(2026, 10, 25, 10, 0))  # Sunday 10:00 GMT
    assert elapsed_hours(received, due) == 25


def test_wall_time_skipped_by_clocks_forward_is_read_as_after_the_change() -> None:
    # Sat 01:30 GMT + 24 wall-clock hours is Sun 01:30, which does not exist in London;
    # the module reads it as after the change: 02:30 BST (01:30 UTC).
    cal = make_calendar(working_days=SEVEN_DAYS)
    due = cal.reply_deadline(london(2026, 3, 28, 1, 30))
    assert due.astimezone(LONDON).isoformat() == "2026-03-29T02:30:00+01:00"
    assert due == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


# --- weekend_to_next_working_day = false ---------------------------------------------------


def test_without_weekend_rule_a_friday_receipt_is_due_saturday() -> None:
    cal = make_calendar(comments={"weekend_to_next_working_day": False})
    assert_due(cal, london(2026, 6, 12, 15, 0), london(2026, 6, 13, 15, 0))


def test_without_weekend_rule_a_weekend_or_holiday_receipt_is_due_24_hours_later() -> None:
    cal = make_calendar(comments={"weekend_to_next_working_day": False})
    assert_due(cal, london(2026, 6, 13, 11, 0), london(2026, 6, 14, 11, 0))  # Sat -> Sun
    assert_due(cal, london(2026, 4, 6, 10, 0), london(2026, 4, 7, 10, 0))  # Easter Monday


def test_without_weekend_rule_clocks_forward_is_24_elapsed_hours() -> None:
    cal = make_calendar(comments={"weekend_to_next_working_day": False})
    received = london(2026, 3, 28, 12, 0)  # Saturday 12:00 GMT
    due = assert_due(cal, received, london(2026, 3, 29, 13, 0))  # Sunday 13:00 BST
    assert elapsed_hours(received, due) == 24


def test_without_weekend_rule_clocks_back_is_24_elapsed_hours() -> None:
    cal = make_calendar(comments={"weekend_to_next_working_day": False})
    received = london(2026, 10, 24, 12, 0)  # Saturday 12:00 BST
    due = assert_due(cal, received, london(2026, 10, 25, 11, 0))  # Sunday 11:00 GMT
    assert elapsed_hours(received, due) == 24


def test_without_weekend_rule_uses_reply_within_hours() -> None:
    cal = make_calendar(comments={"weekend_to_next_working_day": False, "reply_within_hours": 48})
    assert_due(cal, london(2026, 6, 12, 15, 0), london(2026, 6, 14, 15, 0))  # Fri -> Sun


def test_reply_within_hours_is_read_from_the_pack() -> None:
    cal = make_calendar(comments={"reply_within_hours": 48})
    assert_due(cal, london(2026, 6, 9, 10, 0), london(2026, 6, 11, 10, 0))  # Tue -> Thu
    assert_due(cal, london(2026, 6, 11, 10, 0), london(2026, 6, 15, 10, 0))  # Thu -> Sat -> Mon


# --- nudge_time ----------------------------------------------------------------------------


def test_nudge_is_four_hours_before_the_deadline_by_default(
    default_calendar: WorkingCalendar,
) -> None:
    deadline = assert_due(default_calendar, london(2026, 6, 9, 10, 0), london(2026, 6, 10, 10, 0))
    nudge = default_calendar.nudge_time(deadline)
    assert nudge.astimezone(LONDON).isoformat() == london(2026, 6, 10, 6, 0).isoformat()
    assert deadline - nudge == timedelta(hours=4)


def test_nudge_uses_the_packs_nudge_before_hours() -> None:
    cal = make_calendar(comments={"nudge_before_hours": 10})
    deadline = assert_due(cal, london(2026, 6, 13, 11, 0), london(2026, 6, 15, 17, 0))  # Sat
    nudge = cal.nudge_time(deadline)
    assert nudge.astimezone(LONDON).isoformat() == london(2026, 6, 15, 7, 0).isoformat()


def test_nudge_of_zero_hours_is_the_deadline() -> None:
    cal = make_calendar(comments={"nudge_before_hours": 0})
    deadline = cal.reply_deadline(london(2026, 6, 9, 10, 0))
    assert cal.nudge_time(deadline) == deadline


# --- working days --------------------------------------------------------------------------


def test_saturday_in_working_days_makes_saturday_a_working_day() -> None:
    cal = make_calendar(working_days=["mon", "tue", "wed", "thu", "fri", "sat"])
    saturday = date(2026, 6, 13)
    assert cal.is_working_day(saturday)
    assert cal.closed_because(saturday) is None
    assert cal.next_working_day(date(2026, 6, 12)) == saturday
    assert cal.closed_because(date(2026, 6, 14)) == "the weekend"
    assert cal.next_working_day(saturday) == date(2026, 6, 15)
    # Friday 15:00 is due on the Saturday; a Saturday receipt's 24 h end on Sunday -> Monday.
    assert_due(cal, london(2026, 6, 12, 15, 0), london(2026, 6, 13, 15, 0))
    assert_due(cal, london(2026, 6, 13, 15, 0), london(2026, 6, 15, 15, 0))


def test_default_week_has_no_saturday(default_calendar: WorkingCalendar) -> None:
    assert not default_calendar.is_working_day(date(2026, 6, 13))
    assert default_calendar.closed_because(date(2026, 6, 13)) == "the weekend"
    assert default_calendar.next_working_day(date(2026, 6, 12)) == date(2026, 6, 15)


def test_weekday_left_out_of_working_days_is_a_non_working_day() -> None:
    cal = make_calendar(working_days=["mon", "tue", "wed", "thu"])
    assert cal.closed_because(date(2026, 6, 12)) == "a non-working day"  # Friday
    assert_due(cal, london(2026, 6, 11, 10, 0), london(2026, 6, 15, 10, 0))  # Thu -> Mon


def test_next_working_day_is_strictly_after(default_calendar: WorkingCalendar) -> None:
    assert default_calendar.next_working_day(date(2026, 6, 9)) == date(2026, 6, 10)
    assert default_calendar.next_working_day(date(2026, 4, 2)) == date(2026, 4, 7)


# --- the returned value --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("received", "weekend_rule"),
    [
        pytest.param(london(2026, 6, 9, 10, 0), True, id="weekday"),
        pytest.param(london(2026, 6, 13, 10, 0), True, id="weekend"),
        pytest.param(london(2026, 3, 27, 15, 0), True, id="clocks-forward"),
        pytest.param(london(2026, 6, 9, 10, 0), False, id="elapsed-hours"),
        pytest.param(datetime(2026, 6, 9, 10, 0, tzinfo=ZoneInfo("America/New_York")), True),
    ],
)
def test_deadline_is_timezone_aware_utc(received: datetime, weekend_rule: bool) -> None:
    cal = make_calendar(comments={"weekend_to_next_working_day": weekend_rule})
    due = cal.reply_deadline(received)
    assert due.tzinfo is not None
    assert due.utcoffset() == timedelta(0)
    assert due.tzinfo == UTC


def test_receipt_in_another_timezone_is_judged_on_london_time(
    default_calendar: WorkingCalendar,
) -> None:
    # Friday 20:00 in New York is Saturday 01:00 in London: a weekend receipt.
    received = datetime(2026, 6, 12, 20, 0, tzinfo=ZoneInfo("America/New_York"))
    assert_due(default_calendar, received, london(2026, 6, 15, 17, 0))
