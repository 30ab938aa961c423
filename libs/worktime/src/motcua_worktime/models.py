"""Plain value objects describing a working calendar."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

__all__ = ["CalendarOverride", "WorkingPeriod"]


@dataclass(frozen=True, slots=True)
class WorkingPeriod:
    """One daily working period in local wall-clock time, half-open: ``[start, end)``.

    An instant equal to ``end`` is already outside the period.
    """

    start: _dt.time
    end: _dt.time

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            value = getattr(self, name)
            if not isinstance(value, _dt.time):
                raise TypeError(f"WorkingPeriod.{name} must be a datetime.time, got {value!r}")
            if value.tzinfo is not None:
                raise ValueError(f"WorkingPeriod.{name} must be a naive local time, got {value!r}")
            if value.microsecond:
                raise ValueError(f"WorkingPeriod.{name} must be whole seconds, got {value!r}")
        if self.start >= self.end:
            raise ValueError(
                f"working period start must be before its end: {self.label()} "
                "(periods cannot cross midnight)"
            )

    @property
    def duration(self) -> _dt.timedelta:
        """Nominal wall-clock length of the period."""
        anchor = _dt.date(2000, 1, 1)
        return _dt.datetime.combine(anchor, self.end) - _dt.datetime.combine(anchor, self.start)

    def label(self) -> str:
        """Human readable ``HH:MM-HH:MM`` form, used in error messages."""
        return f"{self.start.isoformat('minutes')}-{self.end.isoformat('minutes')}"


@dataclass(frozen=True, slots=True)
class CalendarOverride:
    """An official decision that makes ``date`` a day off or a working day.

    Overrides win over the weekday rule and over the public-holiday library.
    """

    date: _dt.date
    working: bool
    reason: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.date, _dt.datetime) or not isinstance(self.date, _dt.date):
            raise TypeError(f"CalendarOverride.date must be a datetime.date, got {self.date!r}")
        if not isinstance(self.working, bool):
            raise TypeError(f"CalendarOverride.working must be a bool, got {self.working!r}")
        if not isinstance(self.reason, str):
            raise TypeError(f"CalendarOverride.reason must be a str, got {self.reason!r}")
