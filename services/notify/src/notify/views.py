"""What staff read of notify: a dossier's notifications and the period's totals. Queries only, no writes.

Scope: counter officers and centre admins see their own centre (their token's scope), auditors every
centre. Statuses are read as stored, whatever they are: the status machine may grow.

SecantusDB (the local stand-in) uses only an index's first field, so each query has one clause an
index can serve at most; the rest is filtered here.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo

from pymongo.asynchronous.database import AsyncDatabase

from motcua_kit.auth import Principal, Role
from motcua_kit.errors import Forbidden, Invalid, NotFound
from motcua_kit.mongo import Document
from notify import store

MAX_PERIOD_DAYS = 366
NO_PROVIDER = "none"
"""The provider key of notifications no provider has been tried for yet."""

CENTRE_ROLES = (Role.COUNTER_OFFICER, Role.CENTRE_ADMIN)
REPORT_FIELDS = {"_id": 0, "channel": 1, "status": 1, "provider": 1, "created_at": 1, "centre_code": 1}


def can_see(viewer: Principal, doc: Document) -> bool:
    if viewer.role is Role.AUDITOR:
        return True
    return viewer.role in CENTRE_ROLES and doc.get("centre_code") == viewer.scope


async def dossier_notifications(db: AsyncDatabase[Document], code: str, viewer: Principal) -> list[Document]:
    """Every notification of a dossier the viewer may see, oldest first (the ``by_dossier`` index).

    NotFound when there is none: another centre's dossier looks the same as an unknown one.
    """
    visible = [doc for doc in await store.for_dossier(db, code) if can_see(viewer, doc)]
    if not visible:
        raise NotFound(f"no notifications for dossier {code}", code="no_notifications")
    return visible


def delivered_at(doc: Document) -> datetime | None:
    """When the provider confirmed delivery: the stored time, else the first ``delivered`` history entry."""
    if doc.get("delivered_at") is not None:
        at: datetime = doc["delivered_at"]
        return at
    return next((h["at"] for h in doc.get("history", []) if h.get("status") == "delivered"), None)


# --- report --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportPeriod:
    first: date
    last: date
    zone: tzinfo

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(), self.zone)

    @property
    def end(self) -> datetime:
        """The first instant after the period (local midnight after its last day)."""
        return datetime.combine(self.last + timedelta(days=1), time(), self.zone)


def check_period(date_from: date, date_to: date) -> None:
    if date_from > date_to:
        raise Invalid(f"the period starts ({date_from}) after it ends ({date_to})", code="period_reversed")
    days = (date_to - date_from).days + 1
    if days > MAX_PERIOD_DAYS:
        raise Invalid(
            f"the period covers {days} days; a report covers at most {MAX_PERIOD_DAYS}", code="period_too_long"
        )


def scoped_centre(viewer: Principal, centre_code: str | None) -> str | None:
    """The centre the report covers: centre staff their own, auditors the one asked for or all (None)."""
    if viewer.role is Role.AUDITOR:
        return centre_code
    if viewer.role not in CENTRE_ROLES:
        raise Forbidden(f"role {viewer.role.value} may not see the notification reports")
    if centre_code is not None and centre_code != viewer.scope:
        raise Forbidden(f"you may see the reports of your centre {viewer.scope} only, not of {centre_code}")
    return viewer.scope


@dataclass
class NotificationTotals:
    """Counts of notifications created in a period, by each dimension and by all four at once."""

    period: ReportPeriod
    centre_code: str | None
    rows: Counter[tuple[str, str, str, str]] = field(default_factory=Counter)
    """(local day ISO, channel, status, provider) -> count."""

    def add(self, doc: Document) -> None:
        day = doc["created_at"].astimezone(self.period.zone).date().isoformat()
        self.rows[(day, doc["channel"], str(doc["status"]), doc.get("provider") or NO_PROVIDER)] += 1

    @property
    def total(self) -> int:
        return sum(self.rows.values())

    def by(self, position: int) -> dict[str, int]:
        """Totals by one dimension (0 day, 1 channel, 2 status, 3 provider), keys sorted."""
        counts: Counter[str] = Counter()
        for key, n in self.rows.items():
            counts[key[position]] += n
        return dict(sorted(counts.items()))

    def sorted_rows(self) -> list[tuple[str, str, str, str, int]]:
        return [(*key, n) for key, n in sorted(self.rows.items())]


async def notification_totals(
    db: AsyncDatabase[Document],
    *,
    viewer: Principal,
    date_from: date,
    date_to: date,
    zone: tzinfo,
    centre_code: str | None = None,
) -> NotificationTotals:
    """Notifications created in [date_from, date_to] (local days, inclusive), counted as they stand now.

    One range on ``created_at`` (the ``by_day`` index), projected to the counted fields; the centre is
    filtered here.
    """
    check_period(date_from, date_to)
    centre = scoped_centre(viewer, centre_code)
    totals = NotificationTotals(period=ReportPeriod(date_from, date_to, zone), centre_code=centre)
    query = {"created_at": {"$gte": totals.period.start, "$lt": totals.period.end}}
    async for doc in db[store.NOTIFICATIONS].find(query, REPORT_FIELDS):
        if centre is None or doc.get("centre_code") == centre:
            totals.add(doc)
    return totals


CSV_HEADERS = ("Ngày", "Kênh", "Trạng thái", "Nhà cung cấp", "Số thông báo")


def totals_csv(totals: NotificationTotals) -> str:
    """One row per (day, channel, status, provider), the total last; UTF-8 with a BOM, as spreadsheets open it."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADERS)
    writer.writerows(totals.sorted_rows())
    writer.writerow(["Tổng cộng", "", "", "", totals.total])
    return "\ufeff" + out.getvalue()
