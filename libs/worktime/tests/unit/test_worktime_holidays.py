"""Working days: weekends, Vietnamese public holidays from `holidays`, overrides."""

from __future__ import annotations

from datetime import date, timedelta

import holidays
import pytest

import motcua_worktime.public_holidays as public_holidays_module
from motcua_worktime import CalendarOverride, WorkCalendar


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


# --- what the `holidays` package (0.109 at the time of writing) gives for Vietnam ---


def test_holidays_library_tet_2026_is_mon_16_to_fri_20_feb() -> None:
    vn = holidays.country_holidays("VN", years=2026, language="en_US")
    feb = sorted(d for d in vn if d.month == 2)
    assert feb == _days(date(2026, 2, 16), date(2026, 2, 20))
    assert vn[date(2026, 2, 16)] == "Lunar New Year's Eve"
    assert vn[date(2026, 2, 17)] == "Lunar New Year"  # Tue 17 Feb 2026 = 1/1 Bính Ngọ


def test_holidays_library_tet_2027_is_thu_4_to_wed_10_feb() -> None:
    vn = holidays.country_holidays("VN", years=2027, language="en_US")
    feb = sorted(d for d in vn if d.month == 2)
    assert feb == _days(date(2027, 2, 4), date(2027, 2, 10))
    # Lunar new year's day 2027 (1/1 Đinh Mùi) is Saturday 6 Feb 2027; the library
    # adds 29 Tết (Thu 4) as a day off and moves Sat/Sun Tết days to Tue 9, Wed 10.
    assert date(2027, 2, 6).weekday() == 5
    assert vn[date(2027, 2, 6)] == "Lunar New Year"
    assert vn[date(2027, 2, 4)] == "29 of Lunar New Year"
    assert vn[date(2027, 2, 5)] == "Lunar New Year's Eve"
    # Cross-check with the Chinese calendar in the same package: same new year's day.
    cn = holidays.country_holidays("CN", years=2027, language="en_US")
    assert cn[date(2027, 2, 6)] == "Chinese New Year (Spring Festival)"


def test_holidays_library_hung_kings_day_follows_lunar_calendar() -> None:
    vn = holidays.country_holidays("VN", years=[2026, 2027], language="en_US")
    # 10/3 lunar: Sun 26 Apr 2026 (compensated Mon 27 Apr), Fri 16 Apr 2027.
    assert vn[date(2026, 4, 26)] == "Hung Kings' Commemoration Day"
    assert vn[date(2026, 4, 27)] == "Hung Kings' Commemoration Day (observed)"
    assert vn[date(2027, 4, 16)] == "Hung Kings' Commemoration Day"


# --- the calendar built on it ---


def test_weekdays_work_and_weekends_rest(cal: WorkCalendar) -> None:
    week = _days(date(2023, 10, 23), date(2023, 10, 29))  # Mon..Sun, no holiday
    assert [cal.is_working_day(d) for d in week] == [True] * 5 + [False] * 2


def test_tet_2026_official_break_sat_14_to_sun_22_feb_from_library_alone(
    cal: WorkCalendar,
) -> None:
    assert cal.overrides == ()
    assert all(not cal.is_working_day(d) for d in _days(date(2026, 2, 14), date(2026, 2, 22)))
    assert cal.is_working_day(date(2026, 2, 13))  # Fri before the break
    assert cal.is_working_day(date(2026, 2, 23))  # Mon after the break


def test_tet_2026_with_published_overrides_gives_the_same_break() -> None:
    published = [
        CalendarOverride(d, working=False, reason="Tết Bính Ngọ 2026")
        for d in _days(date(2026, 2, 14), date(2026, 2, 22))
    ]
    cal = WorkCalendar(overrides=published)
    off = [d for d in _days(date(2026, 2, 9), date(2026, 2, 27)) if not cal.is_working_day(d)]
    assert off == _days(date(2026, 2, 14), date(2026, 2, 22))


def test_tet_2027_days_off_per_library(cal: WorkCalendar) -> None:
    off = [d for d in _days(date(2027, 1, 30), date(2027, 2, 14)) if not cal.is_working_day(d)]
    assert off == [
        date(2027, 1, 30),  # Sat
        date(2027, 1, 31),  # Sun
        *_days(date(2027, 2, 4), date(2027, 2, 10)),  # Thu 29 Tết .. Wed
        date(2027, 2, 13),  # Sat
        date(2027, 2, 14),  # Sun
    ]


@pytest.mark.parametrize(
    "day",
    [
        date(2026, 1, 1),  # New Year
        date(2026, 4, 27),  # Hùng Kings' day compensating Monday (26 Apr is a Sunday)
        date(2026, 4, 30),
        date(2026, 5, 1),
        date(2026, 8, 31),  # day off swapped with Sat 22 Aug 2026
        date(2026, 9, 1),  # adjacent day of National Day
        date(2026, 9, 2),
        date(2026, 11, 24),  # Vietnam Culture Day, a day off since 2026
        date(2023, 5, 2),  # 2023: Hùng Kings' day (Sat 29 Apr) compensated on Tue 2 May
        date(2023, 5, 3),  # 2023: 30/4 (Sun) compensated on Wed 3 May
        date(2023, 9, 4),  # 2023: 2/9 (Sat) compensated on Mon 4 Sep
    ],
)
def test_public_holidays_and_compensating_days_are_off(cal: WorkCalendar, day: date) -> None:
    assert day.weekday() < 5
    assert not cal.is_working_day(day)


@pytest.mark.parametrize(
    "saturday",
    [date(2026, 8, 22), date(2025, 4, 26), date(2024, 5, 4)],
)
def test_saturdays_swapped_by_the_library_are_working_days(
    cal: WorkCalendar, saturday: date
) -> None:
    assert saturday.weekday() == 5
    assert cal.is_working_day(saturday)
    assert not cal.is_working_day(saturday + timedelta(days=7))  # an ordinary Saturday


def test_override_working_saturday_counts() -> None:
    sat = date(2023, 11, 4)
    cal = WorkCalendar(overrides=[CalendarOverride(sat, working=True, reason="làm bù")])
    assert cal.is_working_day(sat)
    assert not WorkCalendar().is_working_day(sat)


def test_overrides_win_over_library_and_weekday_rule() -> None:
    cal = WorkCalendar(
        overrides=[
            CalendarOverride(date(2026, 2, 20), working=True, reason="hypothetical"),
            CalendarOverride(date(2026, 8, 22), working=False, reason="swap cancelled"),
            CalendarOverride(date(2023, 11, 3), working=False, reason="provincial day off"),
        ]
    )
    assert cal.is_working_day(date(2026, 2, 20))  # library: Tết
    assert not cal.is_working_day(date(2026, 8, 22))  # library: swapped working Saturday
    assert not cal.is_working_day(date(2023, 11, 3))  # plain Friday


def test_without_public_holidays_only_weekdays_and_overrides_count() -> None:
    cal = WorkCalendar(use_public_holidays=False)
    assert cal.is_working_day(date(2026, 2, 17))  # Tết, but library disabled
    assert not cal.is_working_day(date(2026, 8, 22))  # no library swap either


def test_custom_workdays_include_saturday() -> None:
    cal = WorkCalendar(workdays=frozenset({0, 1, 2, 3, 4, 5}))
    assert cal.is_working_day(date(2023, 10, 28))  # Sat
    assert not cal.is_working_day(date(2023, 10, 29))  # Sun
    # The library's Tết 2026 is Mon 16-Fri 20 Feb only, so a Saturday-working province
    # works Sat 21 Feb unless it publishes an override; Sat 6 Feb 2027 (lunar new
    # year's day itself) is a library holiday and stays off.
    assert cal.is_working_day(date(2026, 2, 21))
    assert not cal.is_working_day(date(2027, 2, 6))
    rested = WorkCalendar(
        workdays=frozenset(range(6)),
        overrides=[CalendarOverride(date(2026, 2, 21), working=False, reason="Tết")],
    )
    assert not rested.is_working_day(date(2026, 2, 21))


def test_holiday_lookups_are_cached_per_year_and_instance(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[int] = []
    original = holidays.country_holidays

    def counting(country: str, **kwargs: object) -> holidays.HolidayBase:
        calls.append(int(kwargs["years"]))  # type: ignore[call-overload]
        return original(country, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(public_holidays_module.holidays, "country_holidays", counting)
    cal = WorkCalendar()
    for day in _days(date(2026, 1, 1), date(2027, 12, 31)):
        cal.is_working_day(day)
    assert calls == [2026, 2027]
    WorkCalendar().is_working_day(date(2026, 5, 5))
    assert calls == [2026, 2027, 2026]  # a new instance has its own cache


def test_is_working_day_rejects_datetime(cal: WorkCalendar, at) -> None:
    with pytest.raises(TypeError, match=r"datetime\.date"):
        cal.is_working_day(at(2023, 10, 27, 9, 0))
