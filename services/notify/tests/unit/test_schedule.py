"""When a message may go out: quiet hours, retry delays and the retry window."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from notify.domain.schedule import quiet_until, retry_at

VN = ZoneInfo("Asia/Ho_Chi_Minh")
NIGHT = (time(21, 0), time(7, 0))


def at(hour: int, minute: int = 0, day: int = 2) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=VN)


def test_an_sms_in_the_evening_waits_until_the_next_morning() -> None:
    assert quiet_until(at(23, 0), VN, *NIGHT) == at(7, 0, day=3)
    assert quiet_until(at(21, 0), VN, *NIGHT) == at(7, 0, day=3)


def test_an_sms_after_midnight_waits_until_that_morning() -> None:
    assert quiet_until(at(2, 30), VN, *NIGHT) == at(7, 0)
    # The same instant written in UTC (19:30 the day before) is judged in local time.
    assert quiet_until(at(2, 30).astimezone(UTC), VN, *NIGHT) == at(7, 0)


def test_an_sms_in_the_day_goes_now() -> None:
    assert quiet_until(at(7, 0), VN, *NIGHT) is None
    assert quiet_until(at(12, 0), VN, *NIGHT) is None
    assert quiet_until(at(20, 59), VN, *NIGHT) is None


def test_quiet_hours_within_one_day_and_none_at_all() -> None:
    assert quiet_until(at(12, 30), VN, time(12, 0), time(13, 0)) == at(13, 0)
    assert quiet_until(at(13, 0), VN, time(12, 0), time(13, 0)) is None
    assert quiet_until(at(23, 0), VN, time(0, 0), time(0, 0)) is None


def test_retries_wait_longer_each_time_up_to_the_cap() -> None:
    now = at(10, 0)
    delays = [
        (
            retry_at(n, now=now, owed_at=now, initial_seconds=2, max_seconds=10, window_seconds=3600) - now
        ).total_seconds()  # type: ignore[operator]
        for n in (1, 2, 3, 4, 5)
    ]
    assert delays == [2, 4, 8, 10, 10]


def test_a_provider_asking_to_wait_is_obeyed_within_the_cap() -> None:
    now = at(10, 0)
    assert retry_at(
        1, now=now, owed_at=now, initial_seconds=2, max_seconds=10, window_seconds=3600, retry_after_seconds=5
    ) == now + timedelta(seconds=5)
    assert retry_at(
        1, now=now, owed_at=now, initial_seconds=2, max_seconds=10, window_seconds=3600, retry_after_seconds=60
    ) == now + timedelta(seconds=10)


def test_no_retry_outside_the_window() -> None:
    owed = at(10, 0)
    assert (
        retry_at(
            3, now=owed + timedelta(seconds=55), owed_at=owed, initial_seconds=2, max_seconds=10, window_seconds=60
        )
        is None
    )
    assert (
        retry_at(
            3, now=owed + timedelta(seconds=50), owed_at=owed, initial_seconds=2, max_seconds=10, window_seconds=60
        )
        is not None
    )
