"""Adding working time/days/hours, appointments, and counting working time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from motcua_worktime import CalendarOverride, WorkCalendar

VN = ZoneInfo("Asia/Ho_Chi_Minh")
H = timedelta(hours=1)
M = timedelta(minutes=1)


def test_handbook_worked_example_five_days(cal: WorkCalendar, at) -> None:
    # Received Fri 27/10/2023 09:32 with 5 working days -> Fri 03/11/2023 09:32.
    received = at(2023, 10, 27, 9, 32)
    assert cal.appointment(received, days=5) == at(2023, 11, 3, 9, 32)
    assert cal.add_working_days(received, 5) == at(2023, 11, 3, 9, 32)
    assert cal.working_time_between(received, at(2023, 11, 3, 9, 32)) == 40 * H


def test_worked_example_given_in_utc(cal: WorkCalendar) -> None:
    received = datetime(2023, 10, 27, 2, 32, tzinfo=UTC)  # 09:32 in Hà Nội
    result = cal.appointment(received, days=5)
    assert result == datetime(2023, 11, 3, 9, 32, tzinfo=VN)
    assert result.tzinfo == VN


@pytest.mark.parametrize(
    ("received", "days", "expected"),
    [
        ((2023, 10, 30, 16, 55), 1, (2023, 10, 31, 16, 55)),  # 5 min today + 7h55 tomorrow
        ((2023, 10, 30, 17, 20), 1, (2023, 10, 31, 17, 0)),  # after hours: a full Tuesday
        ((2023, 10, 30, 12, 15), 1, (2023, 10, 31, 11, 30)),  # lunch: 3h30 + 4h30, ends 11:30
        ((2023, 10, 29, 10, 0), 2, (2023, 10, 31, 17, 0)),  # Sunday: Mon+Tue
        ((2023, 9, 1, 9, 0), 1, (2023, 9, 5, 17, 0)),  # National Day 2023
        ((2026, 2, 12, 9, 0), 3, (2026, 2, 24, 9, 0)),  # Thu before Tết 2026: Fri, Mon, Tue
        ((2027, 2, 3, 16, 0), 1, (2027, 2, 11, 16, 0)),  # Tết 2027 (library days)
    ],
)
def test_appointment_in_days(cal: WorkCalendar, at, received, days, expected) -> None:
    assert cal.appointment(at(*received), days=days) == at(*expected)


def test_addition_landing_on_period_end_returns_that_instant(cal: WorkCalendar, at) -> None:
    assert cal.add_working_time(at(2023, 10, 30, 10, 0), 90 * M) == at(2023, 10, 30, 11, 30)
    assert cal.add_working_time(at(2023, 10, 30, 13, 30), 210 * M) == at(2023, 10, 30, 17, 0)
    assert cal.add_working_days(at(2023, 10, 30, 7, 0), 1) == at(2023, 10, 30, 17, 0)
    # One more microsecond moves into the next period.
    after = cal.add_working_time(at(2023, 10, 30, 10, 0), 90 * M + timedelta(microseconds=1))
    assert after == at(2023, 10, 30, 13, 30) + timedelta(microseconds=1)


def test_zero_delta_returns_start_unchanged(cal: WorkCalendar, at) -> None:
    assert cal.add_working_time(at(2023, 10, 29, 10, 0), timedelta(0)) == at(2023, 10, 29, 10)
    assert cal.add_working_days(at(2023, 10, 30, 12, 0), 0) == at(2023, 10, 30, 12, 0)


@pytest.mark.parametrize(
    ("hours", "expected"),
    [
        (4, (2023, 10, 30, 16, 0)),  # 1h30 morning + 2h30 afternoon
        (1.5, (2023, 10, 30, 11, 30)),  # exactly the end of the morning period
        (2.5, (2023, 10, 30, 14, 30)),
        (Decimal("0.25"), (2023, 10, 30, 10, 15)),
        (8, (2023, 10, 31, 10, 0)),
        (24, (2023, 11, 2, 10, 0)),  # 3 working days
        (0, (2023, 10, 30, 10, 0)),
    ],
)
def test_appointment_in_hours(cal: WorkCalendar, at, hours, expected) -> None:
    assert cal.appointment(at(2023, 10, 30, 10, 0), hours=hours) == at(*expected)
    assert cal.add_working_hours(at(2023, 10, 30, 10, 0), hours) == at(*expected)


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        (0.5, (2023, 10, 30, 16, 0)),
        (Decimal("1.5"), (2023, 10, 31, 16, 0)),
        (Decimal("0.0625"), (2023, 10, 30, 10, 30)),  # 1/16 day = 30 min
        (0.1, (2023, 10, 30, 10, 48)),  # 48 min, decimal 0.1 not binary 0.1
    ],
)
def test_fractional_days(cal: WorkCalendar, at, days, expected) -> None:
    assert cal.add_working_days(at(2023, 10, 30, 10, 0), days) == at(*expected)


def test_sixty_working_days_steps_by_day_not_by_minute(at) -> None:
    class CountingCalendar(WorkCalendar):
        lookups = 0

        def is_working_day(self, day):  # type: ignore[override]
            CountingCalendar.lookups += 1
            return super().is_working_day(day)

    cal = CountingCalendar()
    # From Mon 5 Jan 2026: 20 days in Jan, 15 in Feb (Tết 16-20 off), 22 in Mar, 3 in Apr.
    assert cal.add_working_days(at(2026, 1, 5, 7, 0), 60) == at(2026, 4, 3, 17, 0)
    # One day-lookup per calendar day walked (89 days from 5 Jan to 3 Apr), not per minute.
    assert CountingCalendar.lookups <= (datetime(2026, 4, 3) - datetime(2026, 1, 5)).days + 1


def test_long_limits_across_years_are_consistent(cal: WorkCalendar, at) -> None:
    start = at(2025, 12, 1, 9, 0)
    end = cal.add_working_days(start, 250)
    assert cal.working_time_between(start, end) == 250 * 8 * H
    assert end.time().isoformat() == "09:00:00"
    assert cal.is_working_day(end.date())


def test_swapped_working_saturday_is_used(at) -> None:
    plain = WorkCalendar()
    swapped = WorkCalendar(
        overrides=[CalendarOverride(at(2023, 11, 4).date(), working=True, reason="làm bù")]
    )
    assert plain.appointment(at(2023, 11, 3, 16, 0), hours=2) == at(2023, 11, 6, 8, 0)
    assert swapped.appointment(at(2023, 11, 3, 16, 0), hours=2) == at(2023, 11, 4, 8, 0)
    # The library's own swap: Sat 22 Aug 2026 is worked, Mon 31 Aug is off.
    assert plain.appointment(at(2026, 8, 21, 16, 0), hours=2) == at(2026, 8, 22, 8, 0)
    assert plain.appointment(at(2026, 8, 28, 9, 0), days=1) == at(2026, 9, 3, 9, 0)


def test_override_day_off_delays_worked_example(at) -> None:
    cal = WorkCalendar(
        overrides=[CalendarOverride(at(2023, 11, 3).date(), working=False, reason="tỉnh nghỉ")]
    )
    assert cal.appointment(at(2023, 10, 27, 9, 32), days=5) == at(2023, 11, 6, 9, 32)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ((2023, 10, 30, 10, 0), (2023, 10, 30, 10, 0), timedelta(0)),
        ((2023, 10, 30, 11, 0), (2023, 10, 30, 14, 0), 1 * H),  # across lunch
        ((2023, 10, 30, 11, 30), (2023, 10, 30, 13, 30), timedelta(0)),  # lunch only
        ((2023, 10, 30, 0, 0), (2023, 10, 31, 0, 0), 8 * H),  # a whole working day
        ((2023, 10, 27, 16, 0), (2023, 10, 30, 8, 0), 2 * H),  # over a weekend
        ((2023, 10, 28, 8, 0), (2023, 10, 29, 16, 0), timedelta(0)),  # weekend only
        ((2026, 2, 13, 7, 0), (2026, 2, 23, 7, 0), 8 * H),  # over Tết 2026
        ((2023, 10, 30, 16, 55), (2023, 10, 30, 18, 0), 5 * M),
    ],
)
def test_working_time_between(cal: WorkCalendar, at, a, b, expected) -> None:
    assert cal.working_time_between(at(*a), at(*b)) == expected
    # Reversed order counts nothing.
    assert cal.working_time_between(at(*b), at(*a)) == timedelta(0)


def test_working_time_between_is_additive(cal: WorkCalendar, at) -> None:
    a, b, c = at(2026, 2, 11, 10, 0), at(2026, 2, 18, 12, 0), at(2026, 2, 24, 15, 45)
    # Wed 11: 1h30 + 3h30; Thu 12, Fri 13: 8h each; b falls inside Tết (14-22 off).
    assert cal.working_time_between(a, b) == (5 + 8 + 8) * H
    # Mon 23: 8h; Tue 24: 4h30 + 13:30-15:45 (2h15).
    assert cal.working_time_between(b, c) == 8 * H + 4 * H + 30 * M + 2 * H + 15 * M
    assert cal.working_time_between(a, c) == (
        cal.working_time_between(a, b) + cal.working_time_between(b, c)
    )


@pytest.mark.parametrize(
    "start",
    [(2023, 10, 27, 9, 32), (2023, 10, 29, 3, 0), (2026, 2, 13, 16, 0), (2023, 10, 30, 12, 0)],
)
@pytest.mark.parametrize("delta", [1 * M, 90 * M, 8 * H, 37 * H + 13 * M, 400 * H])
def test_add_then_count_round_trips(cal: WorkCalendar, at, start, delta) -> None:
    begin = at(*start)
    end = cal.add_working_time(begin, delta)
    assert cal.working_time_between(begin, end) == delta
    # Earliest such instant: one microsecond earlier is short of the delta.
    earlier = end - timedelta(microseconds=1)
    assert cal.working_time_between(begin, earlier) == delta - timedelta(microseconds=1)


def test_appointment_needs_exactly_one_limit(cal: WorkCalendar, at) -> None:
    with pytest.raises(ValueError, match="exactly one"):
        cal.appointment(at(2023, 10, 30, 9))
    with pytest.raises(ValueError, match="exactly one"):
        cal.appointment(at(2023, 10, 30, 9), days=1, hours=2)


@pytest.mark.parametrize("bad", [-1, -0.5, Decimal("-2"), float("nan"), float("inf")])
def test_bad_limits_rejected(cal: WorkCalendar, at, bad) -> None:
    with pytest.raises(ValueError, match="days"):
        cal.add_working_days(at(2023, 10, 30, 9), bad)


@pytest.mark.parametrize("bad", [True, "5", None])
def test_non_numeric_limits_rejected(cal: WorkCalendar, at, bad) -> None:
    with pytest.raises(TypeError, match="hours"):
        cal.add_working_hours(at(2023, 10, 30, 9), bad)


def test_negative_delta_rejected(cal: WorkCalendar, at) -> None:
    with pytest.raises(ValueError, match="negative"):
        cal.add_working_time(at(2023, 10, 30, 9), -M)


def test_custom_province_periods_and_day_length(at) -> None:
    cal = WorkCalendar.from_config(
        {"periods": [["07:30", "11:30"], ["13:00", "16:30"]], "workdays": [0, 1, 2, 3, 4, 5]}
    )
    assert cal.working_day_length == timedelta(hours=7, minutes=30)
    # Fri 16:00 + 1 day (7h30): 30 min Fri, Sat 07:30-11:30 (4h), 13:00 + 3h -> Sat 16:00.
    assert cal.appointment(at(2023, 10, 27, 16, 0), days=1) == at(2023, 10, 28, 16, 0)


def test_periods_are_local_wall_clock_across_dst() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    cal = WorkCalendar(timezone="Europe/Berlin", use_public_holidays=False)
    # Fri 29 Mar 2024 16:00 CET + 2h -> Mon 1 Apr 08:00 CEST (clocks went forward Sunday).
    result = cal.add_working_hours(datetime(2024, 3, 29, 16, 0, tzinfo=berlin), 2)
    assert result == datetime(2024, 4, 1, 8, 0, tzinfo=berlin)
    assert result.utcoffset() == timedelta(hours=2)
    assert result == datetime(2024, 4, 1, 6, 0, tzinfo=UTC)
