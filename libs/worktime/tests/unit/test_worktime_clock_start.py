"""When does counting start: next working instant and clock start with a cut-off."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from motcua_worktime import WorkCalendar

VN = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.mark.parametrize(
    ("received", "expected"),
    [
        ((2023, 10, 30, 9, 15), (2023, 10, 30, 9, 15)),  # inside the morning period
        ((2023, 10, 30, 7, 0), (2023, 10, 30, 7, 0)),  # exactly at a start
        ((2023, 10, 30, 6, 59), (2023, 10, 30, 7, 0)),  # before work
        ((2023, 10, 30, 11, 30), (2023, 10, 30, 13, 30)),  # period end is outside it
        ((2023, 10, 30, 12, 15), (2023, 10, 30, 13, 30)),  # lunch break
        ((2023, 10, 30, 16, 55), (2023, 10, 30, 16, 55)),  # five minutes before closing
        ((2023, 10, 30, 17, 0), (2023, 10, 31, 7, 0)),  # at closing
        ((2023, 10, 30, 17, 20), (2023, 10, 31, 7, 0)),  # after closing
        ((2023, 10, 27, 18, 0), (2023, 10, 30, 7, 0)),  # Friday evening -> Monday
        ((2023, 10, 29, 10, 0), (2023, 10, 30, 7, 0)),  # Sunday
        ((2023, 9, 1, 9, 0), (2023, 9, 5, 7, 0)),  # Fri 1/9 + Sat 2/9 + observed Mon 4/9
        ((2026, 4, 30, 10, 0), (2026, 5, 4, 7, 0)),  # 30/4 Thu, 1/5 Fri, weekend
        ((2026, 2, 18, 10, 0), (2026, 2, 23, 7, 0)),  # in Tết 2026
        ((2026, 2, 13, 17, 5), (2026, 2, 23, 7, 0)),  # after closing on the eve of Tết
    ],
)
def test_clock_start_without_cutoff(cal: WorkCalendar, at, received, expected) -> None:
    assert cal.clock_start(at(*received)) == at(*expected)
    assert cal.next_working_instant(at(*received)) == at(*expected)


@pytest.mark.parametrize(
    ("received", "expected"),
    [
        ((2023, 10, 31, 14, 59), (2023, 10, 31, 14, 59)),  # before cut-off: counts now
        ((2023, 10, 31, 15, 0), (2023, 10, 31, 15, 0)),  # at cut-off: not "after"
        ((2023, 10, 31, 15, 1), (2023, 11, 1, 7, 0)),  # after cut-off: next working day
        ((2023, 10, 27, 15, 1), (2023, 10, 30, 7, 0)),  # Friday after cut-off -> Monday
        ((2026, 4, 29, 15, 1), (2026, 5, 4, 7, 0)),  # before 30/4-1/5 + weekend
        ((2023, 10, 31, 12, 0), (2023, 10, 31, 13, 30)),  # lunch, before cut-off
        ((2023, 10, 29, 16, 0), (2023, 10, 30, 7, 0)),  # Sunday: cut-off irrelevant
    ],
)
def test_clock_start_with_1500_cutoff(cal: WorkCalendar, at, received, expected) -> None:
    assert cal.clock_start(at(*received), cutoff=time(15, 0)) == at(*expected)


def test_appointment_with_cutoff_1459_vs_1501(cal: WorkCalendar, at) -> None:
    # 14:59: 2h01 today, then 5h59 tomorrow -> Wed 14:59.
    assert cal.appointment(at(2023, 10, 31, 14, 59), days=1, cutoff=time(15)) == at(
        2023, 11, 1, 14, 59
    )
    # 15:01: counts from Wed 07:00 -> a full day -> Wed 17:00.
    assert cal.appointment(at(2023, 10, 31, 15, 1), days=1, cutoff=time(15)) == at(
        2023, 11, 1, 17, 0
    )
    # Without a cut-off 15:01 counts immediately -> Wed 15:01.
    assert cal.appointment(at(2023, 10, 31, 15, 1), days=1) == at(2023, 11, 1, 15, 1)


def test_results_are_in_calendar_timezone_whatever_the_input_zone(cal: WorkCalendar) -> None:
    received_utc = datetime(2023, 10, 29, 23, 0, tzinfo=UTC)  # Mon 06:00 in Hà Nội
    start = cal.clock_start(received_utc)
    assert start == datetime(2023, 10, 30, 7, 0, tzinfo=VN)
    assert start.tzinfo == VN
    inside = datetime(2023, 10, 30, 3, 0, tzinfo=UTC)  # Mon 10:00 local, inside a period
    result = cal.next_working_instant(inside)
    assert result == inside
    assert result.utcoffset().total_seconds() == 7 * 3600
    assert (result.hour, result.minute) == (10, 0)


def test_cutoff_must_be_naive_time(cal: WorkCalendar, at) -> None:
    with pytest.raises(ValueError, match="naive"):
        cal.clock_start(at(2023, 10, 31, 9), cutoff=time(15, tzinfo=UTC))
    with pytest.raises(TypeError, match="cutoff"):
        cal.clock_start(at(2023, 10, 31, 9), cutoff="15:00")  # type: ignore[arg-type]
