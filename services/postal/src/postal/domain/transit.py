"""Transit targets (chỉ tiêu thời gian toàn trình), J = the day of collection or hand-over.

Same commune J+1, same province J+2, another province J+3, one day more when an appointment slip must
also travel (a home collection: the centre's appointment goes back to the citizen). The days are
settings. Post offices work on Saturdays: a postal day is any day but Sunday and public holidays.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from motcua_worktime.public_holidays import PublicHolidays
from postal.domain.addresses import PostalAddress, place_key

Relation = Literal["same_commune", "same_province", "other_province"]

_HOLIDAYS = PublicHolidays()


@dataclass(frozen=True)
class TransitRules:
    same_commune_days: int = 1
    same_province_days: int = 2
    other_province_days: int = 3
    appointment_slip_extra_days: int = 1

    def days(self, relation: Relation, *, with_appointment_slip: bool = False) -> int:
        base = {
            "same_commune": self.same_commune_days,
            "same_province": self.same_province_days,
            "other_province": self.other_province_days,
        }[relation]
        return base + (self.appointment_slip_extra_days if with_appointment_slip else 0)


def relation(origin: PostalAddress, destination: PostalAddress) -> Relation:
    if place_key(origin.province) != place_key(destination.province):
        return "other_province"
    if place_key(origin.commune) != place_key(destination.commune):
        return "same_province"
    return "same_commune"


def is_postal_day(day: date) -> bool:
    return day.weekday() != 6 and not _HOLIDAYS.is_day_off(day)


def add_postal_days(start: date, days: int) -> date:
    """``start`` plus ``days`` postal days (J+n)."""
    day = start
    remaining = days
    while remaining > 0:
        day += timedelta(days=1)
        if is_postal_day(day):
            remaining -= 1
    return day


def target_date(
    j: date,
    origin: PostalAddress,
    destination: PostalAddress,
    rules: TransitRules,
    *,
    with_appointment_slip: bool = False,
) -> date:
    return add_postal_days(j, rules.days(relation(origin, destination), with_appointment_slip=with_appointment_slip))
