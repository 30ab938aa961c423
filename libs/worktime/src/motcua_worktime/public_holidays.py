"""Vietnamese public holidays from the ``holidays`` package, cached per year."""

from __future__ import annotations

import datetime as _dt
from typing import NamedTuple

import holidays

__all__ = ["PublicHolidays"]

COUNTRY = "VN"


class _Year(NamedTuple):
    days_off: frozenset[_dt.date]
    swapped_workdays: frozenset[_dt.date]


class PublicHolidays:
    """Lookups into ``holidays`` (Vietnam), computed once per year and kept in this object.

    ``holidays`` knows the statutory days (New Year, lunar Tết, Hùng Kings' day,
    30/4, 1/5, 2/9 + adjacent day, and since 2026 Vietnam Culture Day 24/11), their
    compensating days off, and the swaps the government has published (a weekend day
    that becomes a working day in exchange for a day off, e.g. Sat 22/08/2026).
    """

    def __init__(self) -> None:
        self._years: dict[int, _Year] = {}

    def is_day_off(self, day: _dt.date) -> bool:
        """True if the library makes ``day`` a public holiday or compensating day off."""
        return day in self._year(day.year).days_off

    def is_swapped_workday(self, day: _dt.date) -> bool:
        """True if the library makes the rest day ``day`` a working day (published swap)."""
        return day in self._year(day.year).swapped_workdays

    def _year(self, year: int) -> _Year:
        cached = self._years.get(year)
        if cached is None:
            cached = self._years[year] = _load_year(year)
        return cached


def _load_year(year: int) -> _Year:
    calendar = holidays.country_holidays(COUNTRY, years=year)
    days_off = frozenset(day for day in calendar if day.year == year)
    workdays = getattr(calendar, "weekend_workdays", ())
    swapped = frozenset(day for day in workdays if day.year == year)
    return _Year(days_off=days_off, swapped_workdays=swapped)
