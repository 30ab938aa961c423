"""``WorkCalendar``: working-day and working-time arithmetic for one province."""

from __future__ import annotations

import datetime as _dt
import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from ._checks import Number, load_zone, require_aware, require_naive_time, scale
from .config import CalendarConfig, dump_config, parse_config
from .models import CalendarOverride, WorkingPeriod
from .public_holidays import PublicHolidays

__all__ = [
    "DEFAULT_PERIODS",
    "DEFAULT_TIMEZONE",
    "DEFAULT_WORKDAYS",
    "WorkCalendar",
]

DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
DEFAULT_PERIODS: tuple[WorkingPeriod, ...] = (
    WorkingPeriod(_dt.time(7, 0), _dt.time(11, 30)),
    WorkingPeriod(_dt.time(13, 30), _dt.time(17, 0)),
)
DEFAULT_WORKDAYS: frozenset[int] = frozenset({0, 1, 2, 3, 4})  # Monday..Friday

#: A search for the next working instant gives up after this many days without one.
MAX_DAYS_WITHOUT_WORK = 366

_UTC = _dt.UTC
_ONE_DAY = _dt.timedelta(days=1)
_ONE_HOUR = _dt.timedelta(hours=1)
_ZERO = _dt.timedelta(0)

Interval = tuple[_dt.datetime, _dt.datetime]  # UTC instants, half-open [start, end)


class WorkCalendar:
    """Working days, working periods and the arithmetic on them.

    A date is a working day when, in this order of precedence:

    1. an override for that date says so (``working=True``/``False``);
    2. ``holidays`` (Vietnam) marks it a day off (holiday, compensating day off)
       or a swapped working day (only when ``use_public_holidays``);
    3. its weekday is in ``workdays`` (Monday = 0).

    On a working day the working periods apply, in local wall-clock time of
    ``timezone``. All instants taken must be timezone-aware; all instants
    returned are in ``timezone``.
    """

    def __init__(
        self,
        timezone: str = DEFAULT_TIMEZONE,
        periods: Sequence[WorkingPeriod] | None = None,
        workdays: Iterable[int] = DEFAULT_WORKDAYS,
        overrides: Iterable[CalendarOverride] = (),
        use_public_holidays: bool = True,
    ) -> None:
        self._timezone = timezone
        self._zone = load_zone(timezone)
        self._periods = _check_periods(DEFAULT_PERIODS if periods is None else periods)
        self._workdays = _check_workdays(workdays)
        self._overrides = _index_overrides(overrides)
        if not isinstance(use_public_holidays, bool):
            raise TypeError(f"use_public_holidays must be a bool, got {use_public_holidays!r}")
        self._public_holidays = PublicHolidays() if use_public_holidays else None
        self._day_length = sum((p.duration for p in self._periods), _ZERO)

    # ----------------------------------------------------------------- config

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> WorkCalendar:
        """Build a calendar from a plain JSON-able dict (see ``motcua_worktime.config``)."""
        return cls(**parse_config(config))

    @classmethod
    def from_stored(cls, config: Mapping[str, Any] | None) -> WorkCalendar:
        """A service's stored calendar (or copy of it); the statutory one until there is one."""
        return cls.from_config(config) if config else cls()

    def to_config(self) -> CalendarConfig:
        """The JSON-able dict that ``from_config`` turns back into an equal calendar."""
        return dump_config(
            timezone=self._timezone,
            periods=self._periods,
            workdays=self._workdays,
            overrides=self._overrides.values(),
            use_public_holidays=self.use_public_holidays,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, WorkCalendar):
            return NotImplemented
        return self.to_config() == other.to_config()

    __hash__ = None  # type: ignore[assignment]  # mutable cache inside, compare by config

    def __repr__(self) -> str:
        periods = ", ".join(p.label() for p in self._periods)
        return (
            f"WorkCalendar(timezone={self._timezone!r}, periods=[{periods}], "
            f"workdays={sorted(self._workdays)}, overrides={len(self._overrides)}, "
            f"use_public_holidays={self.use_public_holidays})"
        )

    # ------------------------------------------------------------- properties

    @property
    def timezone(self) -> str:
        return self._timezone

    @property
    def zone(self) -> ZoneInfo:
        return self._zone

    @property
    def periods(self) -> tuple[WorkingPeriod, ...]:
        return self._periods

    @property
    def workdays(self) -> frozenset[int]:
        return self._workdays

    @property
    def overrides(self) -> tuple[CalendarOverride, ...]:
        return tuple(sorted(self._overrides.values(), key=lambda o: o.date))

    @property
    def use_public_holidays(self) -> bool:
        return self._public_holidays is not None

    @property
    def working_day_length(self) -> _dt.timedelta:
        """Working time in one working day: the sum of the periods (8 hours by default)."""
        return self._day_length

    # ------------------------------------------------------------------- days

    def is_working_day(self, day: _dt.date) -> bool:
        """Whether ``day`` (a local calendar date) is a working day."""
        if isinstance(day, _dt.datetime) or not isinstance(day, _dt.date):
            raise TypeError(f"day must be a datetime.date, got {day!r}")
        override = self._overrides.get(day)
        if override is not None:
            return override.working
        if self._public_holidays is not None:
            if self._public_holidays.is_day_off(day):
                return False
            if self._public_holidays.is_swapped_workday(day):
                return True
        return day.weekday() in self._workdays

    # --------------------------------------------------------------- instants

    def next_working_instant(self, at: _dt.datetime) -> _dt.datetime:
        """``at`` itself if it is inside a working period, else the next period start.

        Periods are half-open, so the end of a period (e.g. 11:30) is not inside it.
        """
        instant = self._utc(at, "at")
        for start, end in self._intervals_from(self._local_date(instant)):
            if instant < end:
                return self._local(max(start, instant))
        raise AssertionError("unreachable: _intervals_from never ends")  # pragma: no cover

    def clock_start(
        self, received_at: _dt.datetime, cutoff: _dt.time | None = None
    ) -> _dt.datetime:
        """The instant from which a dossier's processing time counts.

        Outside working hours that is the next working start. With a ``cutoff``
        (local time, e.g. 15:00), a dossier received on a working day strictly
        after the cut-off counts from the start of the next working day.
        """
        instant = self._utc(received_at, "received_at")
        if cutoff is not None:
            require_naive_time(cutoff, "cutoff")
            local = instant.astimezone(self._zone)
            if self.is_working_day(local.date()) and local.time() > cutoff:
                return self._first_instant_after_day(local.date())
        return self.next_working_instant(instant)

    def add_working_time(self, start: _dt.datetime, delta: _dt.timedelta) -> _dt.datetime:
        """The earliest instant at which ``delta`` of working time has elapsed since ``start``.

        A sum landing exactly on the end of a period returns that end (e.g. 11:30),
        not the start of the next period. ``delta == 0`` returns ``start``.
        """
        cursor = self._utc(start, "start")
        remaining = _check_delta(delta, "delta")
        if remaining == _ZERO:
            return self._local(cursor)
        for period_start, period_end in self._intervals_from(self._local_date(cursor)):
            if period_end <= cursor:
                continue
            begin = max(period_start, cursor)
            available = period_end - begin
            if remaining <= available:
                return self._local(begin + remaining)
            remaining -= available
        raise AssertionError("unreachable: _intervals_from never ends")  # pragma: no cover

    def add_working_days(self, start: _dt.datetime, days: Number) -> _dt.datetime:
        """``start`` plus ``days`` working days of ``working_day_length`` each (fractions ok)."""
        return self.add_working_time(start, scale(self._day_length, days, "days"))

    def add_working_hours(self, start: _dt.datetime, hours: Number) -> _dt.datetime:
        """``start`` plus ``hours`` working hours (fractions ok)."""
        return self.add_working_time(start, scale(_ONE_HOUR, hours, "hours"))

    def working_time_between(self, a: _dt.datetime, b: _dt.datetime) -> _dt.timedelta:
        """Working time inside ``[a, b)``; zero when ``b <= a``."""
        start, end = self._utc(a, "a"), self._utc(b, "b")
        if end <= start:
            return _ZERO
        total = _ZERO
        day, last_day = self._local_date(start), self._local_date(end)
        while day <= last_day:
            for period_start, period_end in self._intervals_on(day):
                overlap = min(period_end, end) - max(period_start, start)
                total += max(overlap, _ZERO)
            day += _ONE_DAY
        return total

    # ------------------------------------------------------------- deadlines

    def appointment(
        self,
        received_at: _dt.datetime,
        *,
        days: Number | None = None,
        hours: Number | None = None,
        cutoff: _dt.time | None = None,
    ) -> _dt.datetime:
        """Appointment (deadline) = clock start + a limit in working days or working hours.

        Exactly one of ``days`` and ``hours`` must be given.
        """
        if (days is None) == (hours is None):
            raise ValueError("appointment() needs exactly one of days= or hours=")
        start = self.clock_start(received_at, cutoff)
        if days is not None:
            return self.add_working_days(start, days)
        assert hours is not None
        return self.add_working_hours(start, hours)

    def extend_for_pause(
        self,
        deadline: _dt.datetime,
        paused_at: _dt.datetime,
        resumed_at: _dt.datetime,
    ) -> _dt.datetime:
        """Move ``deadline`` later by the working time elapsed between pause and resume."""
        paused, resumed = self._utc(paused_at, "paused_at"), self._utc(resumed_at, "resumed_at")
        if resumed < paused:
            raise ValueError(
                f"resumed_at ({resumed_at.isoformat()}) is before paused_at "
                f"({paused_at.isoformat()})"
            )
        return self.add_working_time(deadline, self.working_time_between(paused, resumed))

    # --------------------------------------------------------------- internal

    def _utc(self, value: _dt.datetime, name: str) -> _dt.datetime:
        return require_aware(value, name).astimezone(_UTC)

    def _local(self, instant: _dt.datetime) -> _dt.datetime:
        return instant.astimezone(self._zone)

    def _local_date(self, instant: _dt.datetime) -> _dt.date:
        return instant.astimezone(self._zone).date()

    def _intervals_on(self, day: _dt.date) -> list[Interval]:
        """The working periods of ``day`` as UTC intervals (none on a day off)."""
        if not self.is_working_day(day):
            return []
        return [(self._instant(day, p.start), self._instant(day, p.end)) for p in self._periods]

    def _instant(self, day: _dt.date, wall: _dt.time) -> _dt.datetime:
        return _dt.datetime.combine(day, wall, tzinfo=self._zone).astimezone(_UTC)

    def _intervals_from(self, first_day: _dt.date) -> Iterator[Interval]:
        """Working intervals from ``first_day`` on, day by day, without end."""
        idle_days = 0
        for offset in itertools.count():
            intervals = self._intervals_on(first_day + offset * _ONE_DAY)
            idle_days = 0 if intervals else idle_days + 1
            if idle_days > MAX_DAYS_WITHOUT_WORK:
                raise ValueError(
                    f"no working day in the {MAX_DAYS_WITHOUT_WORK} days after "
                    f"{first_day.isoformat()}; check workdays and overrides"
                )
            yield from intervals

    def _first_instant_after_day(self, day: _dt.date) -> _dt.datetime:
        start, _ = next(self._intervals_from(day + _ONE_DAY))
        return self._local(start)


def _check_delta(delta: _dt.timedelta, name: str) -> _dt.timedelta:
    if not isinstance(delta, _dt.timedelta):
        raise TypeError(f"{name} must be a timedelta, got {delta!r}")
    if delta < _ZERO:
        raise ValueError(f"{name} must not be negative, got {delta}")
    return delta


def _check_periods(periods: Sequence[WorkingPeriod]) -> tuple[WorkingPeriod, ...]:
    checked = tuple(periods)
    if not checked:
        raise ValueError("at least one working period is required")
    for period in checked:
        if not isinstance(period, WorkingPeriod):
            raise TypeError(f"periods must contain WorkingPeriod objects, got {period!r}")
    for previous, current in itertools.pairwise(checked):
        if current.start < previous.start:
            raise ValueError(
                "working periods must be sorted by start time: "
                f"{current.label()} comes after {previous.label()}"
            )
        if current.start < previous.end:
            raise ValueError(
                f"working periods must not overlap: {previous.label()} and {current.label()}"
            )
    return checked


def _check_workdays(workdays: Iterable[int]) -> frozenset[int]:
    checked = frozenset(workdays)
    for day in checked:
        if isinstance(day, bool) or not isinstance(day, int) or not 0 <= day <= 6:
            raise ValueError(f"workdays must be weekday numbers 0 (Monday) to 6, got {day!r}")
    if not checked:
        raise ValueError("at least one weekday must be a workday")
    return checked


def _index_overrides(overrides: Iterable[CalendarOverride]) -> dict[_dt.date, CalendarOverride]:
    index: dict[_dt.date, CalendarOverride] = {}
    for override in overrides:
        if not isinstance(override, CalendarOverride):
            raise TypeError(f"overrides must contain CalendarOverride objects, got {override!r}")
        if override.date in index:
            raise ValueError(f"more than one override for {override.date.isoformat()}")
        index[override.date] = override
    return index
