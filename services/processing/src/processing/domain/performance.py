"""Per-agency performance: steps handled in a period by result, average working time per step, and the
current backlog. Pure: it counts the facts it is given."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

GROUPINGS = ("agency", "field", "procedure")


@dataclass(frozen=True)
class StepFact:
    agency: str
    field: str
    procedure: str
    completed_at: datetime | None
    result: str | None  # early | on_time | late, once completed
    working_hours: float | None
    open_now: bool
    overdue_now: bool


@dataclass
class Row:
    key: str
    handled: int = 0
    early: int = 0
    on_time: int = 0
    late: int = 0
    working_hours_total: float = 0.0
    backlog: int = 0
    overdue: int = 0
    hours_counted: int = field(default=0, repr=False)

    @property
    def average_working_hours(self) -> float | None:
        return round(self.working_hours_total / self.hours_counted, 2) if self.hours_counted else None

    @property
    def on_time_rate(self) -> float | None:
        return round((self.early + self.on_time) / self.handled, 4) if self.handled else None

    def as_dict(self) -> dict[str, object]:
        return {
            "key": self.key,
            "handled": self.handled,
            "early": self.early,
            "on_time": self.on_time,
            "late": self.late,
            "on_time_rate": self.on_time_rate,
            "average_working_hours": self.average_working_hours,
            "backlog": self.backlog,
            "overdue": self.overdue,
        }


def build(facts: Iterable[StepFact], *, by: str, start: datetime, end: datetime) -> list[Row]:
    """Rows per group, sorted by key, then a total row (key ``total``)."""
    if by not in GROUPINGS:
        raise ValueError(f"by must be one of {', '.join(GROUPINGS)}")
    rows: dict[str, Row] = {}
    total = Row("total")
    for fact in facts:
        row = rows.setdefault(getattr(fact, by), Row(getattr(fact, by)))
        for target in (row, total):
            if fact.completed_at is not None and start <= fact.completed_at <= end and fact.result:
                target.handled += 1
                setattr(target, fact.result, getattr(target, fact.result) + 1)
                if fact.working_hours is not None:
                    target.working_hours_total += fact.working_hours
                    target.hours_counted += 1
            target.backlog += fact.open_now
            target.overdue += fact.overdue_now
    return [rows[k] for k in sorted(rows)] + [total]


HEADERS = [
    "Nhóm",
    "Số bước đã xử lý",
    "Trước hạn",
    "Đúng hạn",
    "Quá hạn",
    "Tỷ lệ đúng hạn",
    "Thời gian xử lý trung bình (giờ làm việc)",
    "Đang xử lý",
    "Đang quá hạn",
]


def to_csv(rows: list[Row]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADERS)
    for r in rows:
        rate = f"{r.on_time_rate:.2%}" if r.on_time_rate is not None else ""
        avg = f"{r.average_working_hours:.2f}" if r.average_working_hours is not None else ""
        writer.writerow([r.key, r.handled, r.early, r.on_time, r.late, rate, avg, r.backlog, r.overdue])
    return "\ufeff" + out.getvalue()
