"""Every public function refuses naive datetimes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from motcua_worktime import CalendarOverride, WorkCalendar

VN = ZoneInfo("Asia/Ho_Chi_Minh")
NAIVE = datetime(2023, 10, 27, 9, 32)
AWARE = datetime(2023, 10, 27, 9, 32, tzinfo=VN)

CALLS: dict[str, Callable[[WorkCalendar], object]] = {
    "next_working_instant": lambda c: c.next_working_instant(NAIVE),
    "clock_start": lambda c: c.clock_start(NAIVE),
    "add_working_time": lambda c: c.add_working_time(NAIVE, timedelta(hours=1)),
    "add_working_days": lambda c: c.add_working_days(NAIVE, 1),
    "add_working_hours": lambda c: c.add_working_hours(NAIVE, 1),
    "working_time_between a": lambda c: c.working_time_between(NAIVE, AWARE),
    "working_time_between b": lambda c: c.working_time_between(AWARE, NAIVE),
    "appointment": lambda c: c.appointment(NAIVE, days=5),
    "extend_for_pause deadline": lambda c: c.extend_for_pause(NAIVE, AWARE, AWARE),
    "extend_for_pause paused_at": lambda c: c.extend_for_pause(AWARE, NAIVE, AWARE),
    "extend_for_pause resumed_at": lambda c: c.extend_for_pause(AWARE, AWARE, NAIVE),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_naive_datetime_rejected(cal: WorkCalendar, name: str) -> None:
    with pytest.raises(ValueError, match="must be timezone-aware, got naive datetime"):
        CALLS[name](cal)


def test_non_datetime_rejected(cal: WorkCalendar) -> None:
    with pytest.raises(TypeError, match="must be a datetime"):
        cal.next_working_instant(AWARE.date())  # type: ignore[arg-type]


def test_unknown_timezone_rejected() -> None:
    with pytest.raises(ValueError, match="unknown timezone"):
        WorkCalendar(timezone="Asia/Saigon_Typo")


def test_calendar_without_reachable_working_day_raises() -> None:
    mondays_off = [
        CalendarOverride(date(2023, 10, 30) + timedelta(weeks=n), working=False) for n in range(60)
    ]
    cal = WorkCalendar(workdays={0}, use_public_holidays=False, overrides=mondays_off)
    with pytest.raises(ValueError, match="no working day in the 366 days after 2023-10-27"):
        cal.next_working_instant(AWARE)
    # The first Monday after the overrides is found when the gap is shorter.
    short = WorkCalendar(workdays={0}, use_public_holidays=False, overrides=mondays_off[:3])
    assert short.next_working_instant(AWARE) == datetime(2023, 11, 20, 7, 0, tzinfo=VN)
