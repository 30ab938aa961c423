"""Pauses (supplement requested -> received) and early/on-time/late classification."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from motcua_worktime import WorkCalendar, classify_finish

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def test_pause_spanning_a_weekend_adds_only_working_time(cal: WorkCalendar, at) -> None:
    # Fri 16:00 -> Mon 09:00 is 1h (Fri) + 2h (Mon) of working time.
    deadline = at(2023, 11, 8, 10, 0)
    extended = cal.extend_for_pause(deadline, at(2023, 11, 3, 16, 0), at(2023, 11, 6, 9, 0))
    # Wed 10:00 + 3h = 1h30 before lunch + 1h30 after -> Wed 15:00.
    assert extended == at(2023, 11, 8, 15, 0)


def test_pause_spanning_tet_2026(cal: WorkCalendar, at) -> None:
    # Paused Fri 13 Feb 15:00, resumed Tue 24 Feb 08:00: 2h + 8h (Mon 23) + 1h = 11h.
    paused, resumed = at(2026, 2, 13, 15, 0), at(2026, 2, 24, 8, 0)
    assert cal.working_time_between(paused, resumed) == timedelta(hours=11)
    # Thu 26 Feb 16:00 + 11h: 1h Thu, 8h Fri 27, 2h Mon 2 Mar -> 09:00.
    assert cal.extend_for_pause(at(2026, 2, 26, 16, 0), paused, resumed) == at(2026, 3, 2, 9, 0)


def test_pause_outside_working_time_changes_nothing(cal: WorkCalendar, at) -> None:
    deadline = at(2023, 11, 8, 10, 0)
    assert cal.extend_for_pause(deadline, at(2023, 11, 4, 8), at(2023, 11, 5, 20)) == deadline
    assert cal.extend_for_pause(deadline, at(2023, 11, 6, 12), at(2023, 11, 6, 13)) == deadline


def test_pause_from_deadline_at_period_end_continues_next_period(cal: WorkCalendar, at) -> None:
    # 30 min pause pushes an 11:30 deadline into the afternoon: 14:00.
    extended = cal.extend_for_pause(
        at(2023, 11, 8, 11, 30), at(2023, 11, 6, 9, 0), at(2023, 11, 6, 9, 30)
    )
    assert extended == at(2023, 11, 8, 14, 0)


def test_pause_resumed_before_paused_is_an_error(cal: WorkCalendar, at) -> None:
    with pytest.raises(ValueError, match="before paused_at"):
        cal.extend_for_pause(at(2023, 11, 8, 10), at(2023, 11, 6, 9), at(2023, 11, 3, 9))


APPOINTMENT = datetime(2023, 11, 3, 9, 32, tzinfo=VN)


@pytest.mark.parametrize(
    ("finished", "expected"),
    [
        (datetime(2023, 10, 30, 8, 0, tzinfo=VN), "early"),
        (datetime(2023, 11, 2, 23, 59, tzinfo=VN), "early"),
        (datetime(2023, 11, 3, 0, 0, tzinfo=VN), "on_time"),
        (datetime(2023, 11, 3, 9, 32, tzinfo=VN), "on_time"),
        (datetime(2023, 11, 3, 16, 45, tzinfo=VN), "on_time"),  # later hour, same date
        (datetime(2023, 11, 4, 0, 0, tzinfo=VN), "late"),
        (datetime(2023, 11, 6, 8, 0, tzinfo=VN), "late"),
        # 17:30 UTC on the 3rd is 00:30 on the 4th in Hà Nội.
        (datetime(2023, 11, 3, 17, 30, tzinfo=UTC), "late"),
        # 16:59 UTC on the 2nd is 23:59 on the 2nd in Hà Nội.
        (datetime(2023, 11, 2, 16, 59, tzinfo=UTC), "early"),
    ],
)
def test_classify_finish(finished: datetime, expected: str) -> None:
    assert classify_finish(finished, APPOINTMENT, "Asia/Ho_Chi_Minh") == expected
    assert classify_finish(finished, APPOINTMENT, VN) == expected


def test_classify_finish_depends_on_the_timezone() -> None:
    finished = datetime(2023, 11, 3, 17, 30, tzinfo=UTC)  # 4 Nov locally, 3 Nov in UTC
    assert classify_finish(finished, APPOINTMENT, "Asia/Ho_Chi_Minh") == "late"
    assert classify_finish(finished, APPOINTMENT, "UTC") == "on_time"
    assert classify_finish(finished, APPOINTMENT) == "late"  # default: Asia/Ho_Chi_Minh


def test_classify_finish_rejects_naive_and_bad_tz() -> None:
    with pytest.raises(ValueError, match="finished_at must be timezone-aware"):
        classify_finish(datetime(2023, 11, 3, 9), APPOINTMENT, VN)
    with pytest.raises(ValueError, match="appointment must be timezone-aware"):
        classify_finish(APPOINTMENT, datetime(2023, 11, 3, 9), VN)
    with pytest.raises(ValueError, match="unknown timezone"):
        classify_finish(APPOINTMENT, APPOINTMENT, "Mars/Olympus")
