"""The province's catalogue: centres, agencies, procedures and the working-time calendar."""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Any, Literal

import holidays
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from motcua_worktime import WorkCalendar

AGENCY_CODE = r"^\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}$"
PROCEDURE_CODE = r"^[0-9A-Za-z][0-9A-Za-z._-]{2,63}$"


class Centre(BaseModel):
    code: str = Field(pattern=AGENCY_CODE)
    name: str = Field(min_length=1)
    level: Literal["province", "commune"]
    address: str | None = None
    phone: str | None = None
    email: str | None = None


class Agency(BaseModel):
    code: str = Field(pattern=AGENCY_CODE)
    name: str = Field(min_length=1)
    level: Literal["province", "commune"]
    centre_code: str = Field(pattern=AGENCY_CODE)


class RequiredDocument(BaseModel):
    name: str = Field(min_length=1)
    originals: int = Field(ge=0)
    copies: int = Field(ge=0)
    mandatory: bool = True


class TimeLimit(BaseModel):
    unit: Literal["working_days", "working_hours"]
    value: float = Field(gt=0)
    online_value: float | None = Field(default=None, gt=0)

    def working_hours(self, *, online: bool, hours_per_day: float = 8.0) -> float:
        value = self.online_value if online and self.online_value else self.value
        return value * hours_per_day if self.unit == "working_days" else value


class Fee(BaseModel):
    name: str
    amount_vnd: int = Field(ge=0)


class Procedure(BaseModel):
    model_config = ConfigDict(extra="ignore")

    code: str = Field(pattern=PROCEDURE_CODE, description="Like 1.010708, or 1.010708.000.00.00.H56.")
    name: str = Field(min_length=1)
    field: str = Field(min_length=1)
    level: Literal["province", "commune"]
    legal_basis: list[str] = []
    documents: list[RequiredDocument] = []
    limit: TimeLimit
    cutoff_after_15h: bool = False
    fees: list[Fee] = []
    competent_agency: str
    agency_chain: list[str] = Field(min_length=1)
    chain_shares: list[float] | None = None
    online_level: Literal["partial", "full"] = "partial"
    postal_intake: bool = False
    postal_return: bool = False
    active: bool = True

    @model_validator(mode="after")
    def _chain(self) -> Procedure:
        if self.competent_agency not in self.agency_chain:
            raise ValueError(f"competent agency {self.competent_agency} is not in the agency chain")
        if self.chain_shares is not None:
            if len(self.chain_shares) != len(self.agency_chain):
                raise ValueError("chain_shares must have one share per agency of the chain")
            if abs(sum(self.chain_shares) - 1.0) > 1e-6 or any(s <= 0 for s in self.chain_shares):
                raise ValueError("chain_shares must be positive and sum to 1")
        return self

    def shares(self) -> list[float]:
        return self.chain_shares or [1.0 / len(self.agency_chain)] * len(self.agency_chain)


class WorkingHours(BaseModel):
    timezone: str = "Asia/Ho_Chi_Minh"
    periods: list[tuple[str, str]] = [("07:00", "11:30"), ("13:30", "17:00")]
    workdays: list[int] = [0, 1, 2, 3, 4]


class CalendarOverride(BaseModel):
    date: str
    working: bool
    reason: str = ""


class Province(BaseModel):
    code: str
    name: str


class CatalogueImport(BaseModel):
    """A whole catalogue file, shaped like the national catalogue plus the province's calendar."""

    province: Province
    working_hours: WorkingHours = WorkingHours()
    calendar_overrides: list[CalendarOverride] = []
    centres: list[Centre] = []
    agencies: list[Agency] = []
    procedures: list[Procedure] = []

    @model_validator(mode="after")
    def _references(self) -> CatalogueImport:
        twice = sorted(c for c, n in Counter(p.code for p in self.procedures).items() if n > 1)
        if twice:
            raise ValueError(f"procedures listed more than once: {', '.join(twice)}")
        agencies = {a.code for a in self.agencies}
        for p in self.procedures:
            unknown = [c for c in p.agency_chain if c not in agencies]
            if unknown:
                raise ValueError(f"procedure {p.code} names unknown agencies: {', '.join(unknown)}")
        return self

    def calendar_config(self) -> dict[str, object]:
        return {
            "timezone": self.working_hours.timezone,
            "periods": [list(p) for p in self.working_hours.periods],
            "workdays": self.working_hours.workdays,
            "overrides": [o.model_dump() for o in self.calendar_overrides],
        }


# --- versions ---------------------------------------------------------------------------------------

ChangeKind = Literal["created", "updated", "retired"]


@dataclass(frozen=True)
class ProcedureChange:
    """What saving a procedure does: the kind of change and the version it gets."""

    kind: ChangeKind
    version: int
    changed_fields: tuple[str, ...]


def unaccent(text: str) -> str:
    """Vietnamese without diacritics, case kept: ``Đặng`` -> ``Dang``."""
    stripped = "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")
    return stripped.replace("đ", "d").replace("Đ", "D")


def fold(text: str) -> str:
    """Lower case without diacritics and with single spaces: ``Đăng ký`` -> ``dang ky``."""
    return " ".join(unaccent(text).lower().split())


def search_text(procedure: Procedure) -> str:
    """What ``q`` is matched against: the code and the name, folded."""
    return fold(f"{procedure.code} {procedure.name}")


def changed_fields(current: Mapping[str, Any], new: Procedure) -> tuple[str, ...]:
    """The procedure fields that differ between a stored document and ``new`` (stored extras ignored)."""
    after = new.model_dump()
    try:
        before = Procedure.model_validate(current).model_dump()
    except ValidationError:  # a stored document no longer valid: everything is new
        return tuple(after)
    return tuple(name for name in after if before.get(name) != after[name])


def plan_change(current: Mapping[str, Any] | None, new: Procedure) -> ProcedureChange | None:
    """The new version ``new`` makes, or None when its content equals the current one."""
    if current is None:
        return ProcedureChange("created", 1, tuple(new.model_dump()))
    fields = changed_fields(current, new)
    if not fields:
        return None
    kind: ChangeKind = "retired" if current.get("active", True) and not new.active else "updated"
    return ProcedureChange(kind, int(current.get("version", 0)) + 1, fields)


# --- calendar ---------------------------------------------------------------------------------------

MAX_CALENDAR_DAYS = 400
WEEKEND_REASON = "Nghỉ cuối tuần"
SWAPPED_WORKDAY_REASON = "Ngày làm việc bù theo lịch nghỉ lễ"
DayKind = Literal["workday", "weekend", "holiday", "swapped_workday", "override"]


@dataclass(frozen=True)
class CalendarDay:
    """One date of the calendar: whether it is worked, and why (``reason`` is None on ordinary workdays)."""

    date: date
    working: bool
    kind: DayKind
    reason: str | None


def normalised_calendar(config: Mapping[str, Any]) -> dict[str, Any]:
    """The stored shape of a calendar config, checked by ``WorkCalendar``; ValueError when it is wrong."""
    return dict(WorkCalendar.from_config(config).to_config())


def with_override(config: Mapping[str, Any], day: date, *, working: bool, reason: str) -> dict[str, Any]:
    """``config`` with the override of ``day`` set (replacing any earlier one for that date)."""
    overrides = [o for o in config.get("overrides", []) if o["date"] != day.isoformat()]
    overrides.append({"date": day.isoformat(), "working": working, "reason": reason})
    return normalised_calendar({**config, "overrides": overrides})


def without_override(config: Mapping[str, Any], day: date) -> dict[str, Any] | None:
    """``config`` without the override of ``day``, or None when it has none."""
    overrides = [o for o in config.get("overrides", []) if o["date"] != day.isoformat()]
    if len(overrides) == len(config.get("overrides", [])):
        return None
    return normalised_calendar({**config, "overrides": overrides})


def with_hours(
    config: Mapping[str, Any], *, periods: list[list[str]], workdays: list[int], timezone: str | None
) -> dict[str, Any]:
    """``config`` with new working periods and workdays (and time zone when given)."""
    changed: dict[str, Any] = {"periods": periods, "workdays": workdays}
    if timezone is not None:
        changed["timezone"] = timezone
    return normalised_calendar({**config, **changed})


def calendar_days(calendar: WorkCalendar, start: date, end: date) -> list[CalendarDay]:
    """Every date of ``[start, end]`` with its reason, in ``WorkCalendar``'s order of precedence:
    the province's overrides, then Vietnam's public holidays and swapped workdays, then the weekdays."""
    if end < start:
        raise ValueError(f"the range ends ({end}) before it starts ({start})")
    count = (end - start).days + 1
    if count > MAX_CALENDAR_DAYS:
        raise ValueError(f"at most {MAX_CALENDAR_DAYS} days at once, asked for {count}")
    overrides = {o.date: o for o in calendar.overrides}
    return [_day(calendar, overrides, start + timedelta(days=i)) for i in range(count)]


def _day(calendar: WorkCalendar, overrides: Mapping[date, Any], day: date) -> CalendarDay:
    working = calendar.is_working_day(day)
    if day in overrides:
        return CalendarDay(day, working, "override", overrides[day].reason or None)
    if calendar.use_public_holidays:
        names = _holidays(day.year)
        if day in names:
            return CalendarDay(day, working, "holiday", "; ".join(names.get_list(day)))
        if day in _swapped_workdays(day.year):
            return CalendarDay(day, working, "swapped_workday", SWAPPED_WORKDAY_REASON)
    if not working:
        return CalendarDay(day, working, "weekend", WEEKEND_REASON)
    return CalendarDay(day, working, "workday", None)


@lru_cache(maxsize=32)
def _holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("VN", years=year, language="vi")


@lru_cache(maxsize=32)
def _swapped_workdays(year: int) -> frozenset[date]:
    return frozenset(getattr(_holidays(year), "weekend_workdays", ()))
