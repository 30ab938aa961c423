"""Conversion between a calendar's constructor data and a plain JSON-able dict.

Config shape (every key optional, defaults are the national ones)::

    {
        "timezone": "Asia/Ho_Chi_Minh",
        "periods": [["07:00", "11:30"], ["13:30", "17:00"]],
        "workdays": [0, 1, 2, 3, 4],            # Monday = 0 ... Sunday = 6
        "overrides": [{"date": "2026-02-14", "working": false, "reason": "Tết"}],
        "use_public_holidays": true
    }
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Iterable, Mapping
from typing import Any, TypedDict

from .models import CalendarOverride, WorkingPeriod

__all__ = [
    "CalendarConfig",
    "OverrideConfig",
    "dump_config",
    "parse_config",
]

CONFIG_KEYS = frozenset({"timezone", "periods", "workdays", "overrides", "use_public_holidays"})
_TIME_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class OverrideConfig(TypedDict):
    date: str
    working: bool
    reason: str


class CalendarConfig(TypedDict):
    timezone: str
    periods: list[list[str]]
    workdays: list[int]
    overrides: list[OverrideConfig]
    use_public_holidays: bool


def parse_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """Turn a config dict into ``WorkCalendar`` keyword arguments (only keys present)."""
    if not isinstance(config, Mapping):
        raise ValueError(f"calendar config must be a mapping, got {type(config).__name__}")
    unknown = sorted(set(config) - CONFIG_KEYS)
    if unknown:
        raise ValueError(f"unknown calendar config keys: {unknown}; allowed: {sorted(CONFIG_KEYS)}")
    kwargs: dict[str, Any] = {}
    if "timezone" in config:
        kwargs["timezone"] = _parse_str(config["timezone"], "timezone")
    if "periods" in config:
        kwargs["periods"] = _parse_periods(config["periods"])
    if "workdays" in config:
        kwargs["workdays"] = _parse_workdays(config["workdays"])
    if "overrides" in config:
        kwargs["overrides"] = _parse_overrides(config["overrides"])
    if "use_public_holidays" in config:
        kwargs["use_public_holidays"] = _parse_bool(
            config["use_public_holidays"], "use_public_holidays"
        )
    return kwargs


def dump_config(
    *,
    timezone: str,
    periods: Iterable[WorkingPeriod],
    workdays: Iterable[int],
    overrides: Iterable[CalendarOverride],
    use_public_holidays: bool,
) -> CalendarConfig:
    """Build the JSON-able config dict of a calendar."""
    return {
        "timezone": timezone,
        "periods": [[format_time(p.start), format_time(p.end)] for p in periods],
        "workdays": sorted(workdays),
        "overrides": [
            {"date": o.date.isoformat(), "working": o.working, "reason": o.reason}
            for o in sorted(overrides, key=lambda o: o.date)
        ],
        "use_public_holidays": use_public_holidays,
    }


def format_time(value: _dt.time) -> str:
    """``HH:MM``, or ``HH:MM:SS`` when seconds are set (microseconds are not kept)."""
    return value.isoformat("seconds" if value.second else "minutes")


def parse_time(value: Any, where: str) -> _dt.time:
    """Parse ``HH:MM`` or ``HH:MM:SS`` (24-hour clock)."""
    match = _TIME_RE.match(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"{where}: expected a time as 'HH:MM', got {value!r}")
    hour, minute, second = match.groups()
    return _dt.time(int(hour), int(minute), int(second or 0))


def _parse_str(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{where}: expected a string, got {value!r}")
    return value


def _parse_bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{where}: expected true or false, got {value!r}")
    return value


def _parse_list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list | tuple):
        raise ValueError(f"{where}: expected a list, got {value!r}")
    return list(value)


def _parse_periods(value: Any) -> list[WorkingPeriod]:
    periods = []
    for index, item in enumerate(_parse_list(value, "periods")):
        where = f"periods[{index}]"
        if not isinstance(item, list | tuple) or len(item) != 2:
            raise ValueError(f"{where}: expected a pair ['HH:MM', 'HH:MM'], got {item!r}")
        start = parse_time(item[0], f"{where} start")
        end = parse_time(item[1], f"{where} end")
        try:
            periods.append(WorkingPeriod(start, end))
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from exc
    return periods


def _parse_workdays(value: Any) -> list[int]:
    days = _parse_list(value, "workdays")
    for index, day in enumerate(days):
        if isinstance(day, bool) or not isinstance(day, int):
            raise ValueError(f"workdays[{index}]: expected a weekday number 0-6, got {day!r}")
    return days


def _parse_overrides(value: Any) -> list[CalendarOverride]:
    return [
        _parse_override(item, f"overrides[{index}]")
        for index, item in enumerate(_parse_list(value, "overrides"))
    ]


def _parse_override(item: Any, where: str) -> CalendarOverride:
    if not isinstance(item, Mapping):
        raise ValueError(f"{where}: expected an object with date/working/reason, got {item!r}")
    unknown = sorted(set(item) - {"date", "working", "reason"})
    if unknown:
        raise ValueError(f"{where}: unknown keys {unknown}")
    for key in ("date", "working"):
        if key not in item:
            raise ValueError(f"{where}: missing required key {key!r}")
    return CalendarOverride(
        date=_parse_date(item["date"], f"{where}.date"),
        working=_parse_bool(item["working"], f"{where}.working"),
        reason=_parse_str(item.get("reason", ""), f"{where}.reason"),
    )


def _parse_date(value: Any, where: str) -> _dt.date:
    if not isinstance(value, str) or not _DATE_RE.match(value):
        raise ValueError(f"{where}: expected a date as 'YYYY-MM-DD', got {value!r}")
    try:
        return _dt.date.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"{where}: invalid date {value!r}") from exc
