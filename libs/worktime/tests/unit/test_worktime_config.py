"""Config round trip and validation of calendar data."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest

from motcua_worktime import CalendarOverride, WorkCalendar, WorkingPeriod

PROVINCE = {
    "timezone": "Asia/Ho_Chi_Minh",
    "periods": [["07:30", "11:30"], ["13:00", "16:30:30"]],
    "workdays": [5, 0, 1, 2, 3, 4],
    "overrides": [
        {"date": "2026-02-23", "working": False, "reason": "Tỉnh nghỉ thêm"},
        {"date": "2026-01-10", "working": True, "reason": "Làm bù"},
    ],
    "use_public_holidays": True,
}


def test_default_config_is_national_calendar() -> None:
    assert WorkCalendar().to_config() == {
        "timezone": "Asia/Ho_Chi_Minh",
        "periods": [["07:00", "11:30"], ["13:30", "17:00"]],
        "workdays": [0, 1, 2, 3, 4],
        "overrides": [],
        "use_public_holidays": True,
    }
    assert WorkCalendar().working_day_length == timedelta(hours=8)
    assert WorkCalendar.from_config({}) == WorkCalendar()


def test_a_stored_calendar_or_the_statutory_one() -> None:
    assert WorkCalendar.from_stored(None) == WorkCalendar()
    assert (
        WorkCalendar.from_stored(PROVINCE) == WorkCalendar.from_config(PROVINCE) != WorkCalendar()
    )


def test_config_round_trip_through_json() -> None:
    cal = WorkCalendar.from_config(PROVINCE)
    config = cal.to_config()
    assert config["workdays"] == [0, 1, 2, 3, 4, 5]
    assert [o["date"] for o in config["overrides"]] == ["2026-01-10", "2026-02-23"]
    assert config["periods"] == [["07:30", "11:30"], ["13:00", "16:30:30"]]
    again = WorkCalendar.from_config(json.loads(json.dumps(config)))
    assert again == cal
    assert again.to_config() == config
    assert again != WorkCalendar()


def test_config_builds_the_right_objects() -> None:
    cal = WorkCalendar.from_config(PROVINCE)
    assert cal.periods == (
        WorkingPeriod(time(7, 30), time(11, 30)),
        WorkingPeriod(time(13, 0), time(16, 30, 30)),
    )
    assert cal.workdays == frozenset(range(6))
    assert cal.overrides == (
        CalendarOverride(date(2026, 1, 10), working=True, reason="Làm bù"),
        CalendarOverride(date(2026, 2, 23), working=False, reason="Tỉnh nghỉ thêm"),
    )
    assert cal.working_day_length == timedelta(hours=7, minutes=30, seconds=30)
    assert not cal.is_working_day(date(2026, 2, 23))  # override beats a plain Monday
    assert cal.is_working_day(date(2026, 2, 28))  # Saturday is a workday in this province


def test_override_reason_is_optional() -> None:
    cal = WorkCalendar.from_config({"overrides": [{"date": "2026-03-07", "working": True}]})
    assert cal.overrides == (CalendarOverride(date(2026, 3, 7), working=True, reason=""),)
    assert cal.is_working_day(date(2026, 3, 7))


def _with(**changes: Any) -> dict[str, Any]:
    return {**PROVINCE, **changes}


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ([1, 2], "must be a mapping"),
        (_with(holidays=True), "unknown calendar config keys: \\['holidays'\\]"),
        (_with(timezone="Asia/Hanoi_Typo"), "unknown timezone 'Asia/Hanoi_Typo'"),
        (_with(timezone=7), "timezone: expected a string"),
        (_with(periods=[]), "at least one working period"),
        (_with(periods="07:00-11:30"), "periods: expected a list"),
        (_with(periods=[["07:00"]]), "periods\\[0\\]: expected a pair"),
        (_with(periods=[["7:00", "11:30"]]), "periods\\[0\\] start: expected a time as 'HH:MM'"),
        (_with(periods=[["07:00", "24:00"]]), "periods\\[0\\] end: expected a time"),
        (_with(periods=[["11:30", "07:00"]]), "periods\\[0\\]: working period start must be"),
        (_with(periods=[["07:00", "07:00"]]), "start must be before its end: 07:00-07:00"),
        (
            _with(periods=[["13:30", "17:00"], ["07:00", "11:30"]]),
            "must be sorted by start time: 07:00-11:30 comes after 13:30-17:00",
        ),
        (
            _with(periods=[["07:00", "12:00"], ["11:30", "17:00"]]),
            "must not overlap: 07:00-12:00 and 11:30-17:00",
        ),
        (_with(workdays=[0, 7]), "workdays must be weekday numbers 0 \\(Monday\\) to 6, got 7"),
        (_with(workdays=[True]), "workdays\\[0\\]: expected a weekday number"),
        (_with(workdays=[]), "at least one weekday"),
        (_with(workdays="01234"), "workdays: expected a list"),
        (_with(overrides={"date": "2026-01-01"}), "overrides: expected a list"),
        (_with(overrides=["2026-01-01"]), "overrides\\[0\\]: expected an object"),
        (
            _with(overrides=[{"date": "2026-2-14", "working": False}]),
            "overrides\\[0\\].date: expected a date as 'YYYY-MM-DD'",
        ),
        (
            _with(overrides=[{"date": "2026-02-30", "working": False}]),
            "overrides\\[0\\].date: invalid date '2026-02-30'",
        ),
        (
            _with(overrides=[{"date": "2026-02-14", "working": "no"}]),
            "overrides\\[0\\].working: expected true or false",
        ),
        (_with(overrides=[{"date": "2026-02-14"}]), "overrides\\[0\\]: missing required key"),
        (
            _with(overrides=[{"date": "2026-02-14", "working": False, "why": "x"}]),
            "overrides\\[0\\]: unknown keys \\['why'\\]",
        ),
        (
            _with(overrides=[{"date": "2026-02-14", "working": False, "reason": 3}]),
            "overrides\\[0\\].reason: expected a string",
        ),
        (
            _with(
                overrides=[
                    {"date": "2026-02-14", "working": False},
                    {"date": "2026-02-14", "working": True},
                ]
            ),
            "more than one override for 2026-02-14",
        ),
        (_with(use_public_holidays="yes"), "use_public_holidays: expected true or false"),
    ],
)
def test_bad_config_is_rejected_with_a_clear_message(config: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        WorkCalendar.from_config(config)


def test_constructor_validates_objects() -> None:
    with pytest.raises(ValueError, match="must not overlap"):
        WorkCalendar(
            periods=[
                WorkingPeriod(time(7), time(12)),
                WorkingPeriod(time(11), time(17)),
            ]
        )
    with pytest.raises(TypeError, match="WorkingPeriod"):
        WorkCalendar(periods=[(time(7), time(11))])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="CalendarOverride"):
        WorkCalendar(overrides=[date(2026, 1, 2)])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="use_public_holidays"):
        WorkCalendar(use_public_holidays=1)  # type: ignore[arg-type]


def test_value_objects_validate_themselves() -> None:
    with pytest.raises(ValueError, match="before its end"):
        WorkingPeriod(time(17), time(13, 30))
    with pytest.raises(ValueError, match="naive local time"):
        WorkingPeriod(time(7, tzinfo=UTC), time(11))
    with pytest.raises(ValueError, match="whole seconds"):
        WorkingPeriod(time(7, 0, 0, 5), time(11))
    with pytest.raises(TypeError, match=r"datetime\.date"):
        CalendarOverride(datetime(2026, 2, 14), working=False)
    with pytest.raises(TypeError, match="bool"):
        CalendarOverride(date(2026, 2, 14), working=0)  # type: ignore[arg-type]
    assert WorkingPeriod(time(7), time(11, 30)).duration == timedelta(hours=4, minutes=30)
