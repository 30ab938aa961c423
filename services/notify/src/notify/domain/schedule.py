"""When a message may go out: quiet hours for SMS, and the retry window."""

from __future__ import annotations

from datetime import datetime, time, timedelta, tzinfo


def quiet_until(at: datetime, tz: tzinfo, start: time, end: time) -> datetime | None:
    """The end of the quiet hours ``at`` falls in (local time, ``start`` to ``end``, possibly over
    midnight), or None when messages may go now. ``start == end`` means no quiet hours."""
    if start == end:
        return None
    local = at.astimezone(tz)
    now = local.time()
    inside = start <= now < end if start < end else (now >= start or now < end)
    if not inside:
        return None
    day = local.date() if now < end else local.date() + timedelta(days=1)
    return datetime.combine(day, end, tz)


def retry_at(
    attempts: int,
    *,
    now: datetime,
    owed_at: datetime,
    initial_seconds: float,
    max_seconds: float,
    window_seconds: float,
    retry_after_seconds: float | None = None,
) -> datetime | None:
    """The next attempt after ``attempts`` failed ones: growing delays, never sooner than the provider
    asked, or None once it would fall outside the window the message may still be useful in."""
    seconds = min(max_seconds, initial_seconds * 2 ** max(0, attempts - 1))
    if retry_after_seconds is not None:
        seconds = max(seconds, min(retry_after_seconds, max_seconds))
    at = now + timedelta(seconds=seconds)
    return at if at <= owed_at + timedelta(seconds=window_seconds) else None
