"""The periodic statistics report (the II.06a shape): received, resolved and in progress, per group.

Pure: dossier facts in, a report out. A period is a range of local calendar dates, both ends
included: an instant belongs to it when it falls in [first day 00:00, the day after the last 00:00)
in the province's timezone.

A dossier *ends* at the earliest of its resolution (``resolved_at``, or ``returned_at`` when only
that is known), withdrawal, stop or refusal. Per group:

- received: ``carried_over`` (received before the period, not ended before it), ``online``
  (channel 2) and ``direct_and_postal`` (channels 1 and 3) received within it;
- resolved within the period, when the resolution is what ended the dossier: ``early``,
  ``on_time``, ``late`` by local calendar date against the appointment (``classify_finish``);
- in progress at the period's end (received by then, not ended by then): ``in_time`` when the
  appointment's date is the period's last day or later, else ``late``;
- ratings given within the period, per level.

A received dossier always has an appointment; one without (never written by reception) cannot be
late: it counts as resolved on time, or in progress in time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import cached_property
from typing import Literal, cast, get_args
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator

from motcua_kit.errors import Invalid
from motcua_kit.values import MAX_PERIOD_DAYS as KIT_MAX_PERIOD_DAYS
from motcua_kit.values import ReportPeriod
from motcua_worktime import DEFAULT_TIMEZONE, classify_finish
from reception.domain.dossier import Status

Grouping = Literal["centre", "agency", "field", "procedure"]
GROUPINGS: tuple[str, ...] = get_args(Grouping)
Rating = Literal["very_satisfied", "satisfied", "not_satisfied"]
RATINGS: tuple[str, ...] = get_args(Rating)
MAX_PERIOD_DAYS = KIT_MAX_PERIOD_DAYS
ONLINE_CHANNEL = 2
TOTAL_KEY = ""
TOTAL_NAME = "Tổng cộng"


class InvalidReportRequest(ValueError):
    """The period or the grouping asked for makes no report."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


class DossierFacts(BaseModel):
    """The few facts of one dossier that the report needs."""

    model_config = ConfigDict(frozen=True)

    centre_code: str
    centre_name: str
    competent_agency: str
    field: str
    procedure_code: str
    procedure_name: str
    status: int
    intake_channel: int
    received_at: datetime | None = None
    appointment_at: datetime | None = None
    resolved_at: datetime | None = None
    returned_at: datetime | None = None
    withdrawn_at: datetime | None = None
    stopped_at: datetime | None = None
    refused_at: datetime | None = None
    rating: Rating | None = None
    rated_at: datetime | None = None

    @field_validator(
        "received_at",
        "appointment_at",
        "resolved_at",
        "returned_at",
        "withdrawn_at",
        "stopped_at",
        "refused_at",
        "rated_at",
    )
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        """The database keeps UTC: a naive instant read from it is UTC."""
        return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value

    @property
    def received(self) -> datetime | None:
        """When the dossier was received; None when it never was (submitted only, refused at intake)."""
        return None if self.status == Status.REFUSED else self.received_at

    @property
    def resolution_at(self) -> datetime | None:
        return self.resolved_at or self.returned_at

    @property
    def ended_at(self) -> datetime | None:
        ends = [t for t in (self.resolution_at, self.withdrawn_at, self.stopped_at, self.refused_at) if t is not None]
        return min(ends, default=None)


# --- the report ------------------------------------------------------------------------------------


class Received(BaseModel):
    model_config = ConfigDict(extra="forbid")

    carried_over: int = 0
    online: int = 0
    direct_and_postal: int = 0
    total: int = 0


class Resolved(BaseModel):
    model_config = ConfigDict(extra="forbid")

    early: int = 0
    on_time: int = 0
    late: int = 0
    total: int = 0


class InProgress(BaseModel):
    model_config = ConfigDict(extra="forbid")

    in_time: int = 0
    late: int = 0
    total: int = 0


class Ratings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    very_satisfied: int = 0
    satisfied: int = 0
    not_satisfied: int = 0
    rated: int = 0


class ReportRow(BaseModel):
    """One group's figures (or the total: ``key`` is empty)."""

    key: str
    name: str
    received: Received
    resolved: Resolved
    in_progress: InProgress
    on_time_rate: float | None
    satisfaction: Ratings
    satisfaction_rate: float | None


class PeriodReport(BaseModel):
    period_from: date
    period_to: date
    by: Grouping
    timezone: str
    filters: dict[str, str] = Field(default_factory=dict)
    rows: list[ReportRow]
    total: ReportRow


# --- periods and buckets ---------------------------------------------------------------------------


def check_request(period_from: date, period_to: date, by: str) -> None:
    """Refuses a period that runs backwards or exceeds a year, and an unknown grouping."""
    if by not in GROUPINGS:
        raise InvalidReportRequest(
            f"unknown grouping {by!r}; group by one of: {', '.join(GROUPINGS)}", "unknown_grouping"
        )
    try:
        ReportPeriod.checked(period_from, period_to, max_days=MAX_PERIOD_DAYS)
    except Invalid as exc:  # the kit's one rule; the report keeps its own error type
        raise InvalidReportRequest(exc.message, exc.code) from exc


@dataclass(frozen=True)
class Period:
    first: date
    last: date
    zone: tzinfo

    @cached_property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(), self.zone)

    @cached_property
    def end(self) -> datetime:
        """The first instant after the period (exclusive)."""
        return datetime.combine(self.last + timedelta(days=1), time(), self.zone)

    def contains(self, at: datetime) -> bool:
        return self.start <= at < self.end


def buckets(facts: DossierFacts, period: Period) -> list[str]:
    """The counters one dossier adds to, named ``<section>.<counter>``; empty when it does not count."""
    found: list[str] = []
    received = facts.received
    if received is not None and received < period.end:
        found += _receipt(facts, received, period) + _resolution(facts, period) + _progress_at_end(facts, period)
    if facts.rating is not None and facts.rated_at is not None and period.contains(facts.rated_at):
        found.append(f"satisfaction.{facts.rating}")
    return found


def _receipt(facts: DossierFacts, received: datetime, period: Period) -> list[str]:
    if received >= period.start:
        return ["received.online" if facts.intake_channel == ONLINE_CHANNEL else "received.direct_and_postal"]
    ended = facts.ended_at
    return ["received.carried_over"] if ended is None or ended >= period.start else []


def _resolution(facts: DossierFacts, period: Period) -> list[str]:
    at = facts.resolution_at
    if at is None or at != facts.ended_at or not period.contains(at):
        return []  # unresolved, ended otherwise first (withdrawn, stopped), or resolved outside the period
    return [f"resolved.{classify_finish(at, facts.appointment_at or at, period.zone)}"]


def _progress_at_end(facts: DossierFacts, period: Period) -> list[str]:
    ended = facts.ended_at
    if ended is not None and ended < period.end:
        return []
    due = facts.appointment_at.astimezone(period.zone).date() if facts.appointment_at else period.last
    return ["in_progress.in_time" if due >= period.last else "in_progress.late"]


# --- building --------------------------------------------------------------------------------------


@dataclass
class _Tally:
    key: str
    name: str
    counts: dict[str, int] = dataclass_field(default_factory=dict)

    def add(self, bucket: str, n: int = 1) -> None:
        self.counts[bucket] = self.counts.get(bucket, 0) + n

    def row(self) -> ReportRow:
        def section(name: str) -> dict[str, int]:
            prefix = name + "."
            return {k.removeprefix(prefix): v for k, v in self.counts.items() if k.startswith(prefix)}

        received = Received(**section("received"))
        resolved = Resolved(**section("resolved"))
        in_progress = InProgress(**section("in_progress"))
        ratings = Ratings(**section("satisfaction"))
        resolved.total = resolved.early + resolved.on_time + resolved.late
        received.total = received.carried_over + received.online + received.direct_and_postal
        in_progress.total = in_progress.in_time + in_progress.late
        ratings.rated = ratings.very_satisfied + ratings.satisfied + ratings.not_satisfied
        return ReportRow(
            key=self.key,
            name=self.name,
            received=received,
            resolved=resolved,
            in_progress=in_progress,
            on_time_rate=_rate(resolved.early + resolved.on_time, resolved.total),
            satisfaction=ratings,
            satisfaction_rate=_rate(ratings.very_satisfied + ratings.satisfied, ratings.rated),
        )


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def group_of(facts: DossierFacts, by: str) -> tuple[str, str]:
    """The group's key and its name as the dossier carries it."""
    if by == "centre":
        return facts.centre_code, facts.centre_name
    if by == "agency":
        return facts.competent_agency, facts.competent_agency
    if by == "field":
        return facts.field, facts.field
    return facts.procedure_code, facts.procedure_name


class ReportBuilder:
    """Counts dossiers one at a time, so a database cursor can stream into it."""

    def __init__(
        self,
        *,
        period_from: date,
        period_to: date,
        by: str,
        tz: tzinfo | str = DEFAULT_TIMEZONE,
        names: Mapping[str, str] | None = None,
    ) -> None:
        check_request(period_from, period_to, by)
        zone = ZoneInfo(tz) if isinstance(tz, str) else tz
        self.period = Period(period_from, period_to, zone)
        self.by = cast(Grouping, by)  # checked above
        self._names = names or {}
        self._tallies: dict[str, _Tally] = {}

    def add(self, facts: DossierFacts) -> None:
        found = buckets(facts, self.period)
        if not found:
            return
        key, name = group_of(facts, self.by)
        tally = self._tallies.get(key)
        if tally is None:
            tally = self._tallies[key] = _Tally(key, self._names.get(key, name))
        for bucket in found:
            tally.add(bucket)

    def report(self) -> PeriodReport:
        total = _Tally(TOTAL_KEY, TOTAL_NAME)
        for tally in self._tallies.values():
            for bucket, n in tally.counts.items():
                total.add(bucket, n)
        return PeriodReport(
            period_from=self.period.first,
            period_to=self.period.last,
            by=self.by,
            timezone=str(getattr(self.period.zone, "key", self.period.zone)),
            rows=[self._tallies[key].row() for key in sorted(self._tallies)],
            total=total.row(),
        )


def build_report(
    facts: Iterable[DossierFacts],
    *,
    period_from: date,
    period_to: date,
    by: str,
    tz: tzinfo | str = DEFAULT_TIMEZONE,
    names: Mapping[str, str] | None = None,
) -> PeriodReport:
    """The report of ``facts`` over [period_from, period_to] grouped ``by`` centre, agency, field or
    procedure; ``names`` gives groups a name their dossiers do not carry (agencies)."""
    builder = ReportBuilder(period_from=period_from, period_to=period_to, by=by, tz=tz, names=names)
    for one in facts:
        builder.add(one)
    return builder.report()
