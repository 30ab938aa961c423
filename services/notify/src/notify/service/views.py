"""What staff read of notify: a dossier's notifications and the period's totals. Queries only, no writes.

Scope: counter officers and centre admins see their own centre (their token's scope), auditors every
centre. Statuses are read as stored, whatever they are: the status machine may grow.

SecantusDB (the local stand-in) uses only an index's first field, so each query (in :mod:`notify.store`) has
one clause an index can serve at most; the rest is filtered here. The period is checked by
:meth:`motcua_kit.values.ReportPeriod.checked` (at most 366 days, ``period_reversed`` / ``period_too_long``).
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo

from motcua_kit.auth import Principal, Role
from motcua_kit.errors import Forbidden, NotFound
from motcua_kit.mongo import Document
from motcua_kit.uow import UnitOfWork
from motcua_kit.values import ReportPeriod
from notify.store import Repositories

NO_PROVIDER = "none"
"""The provider key of notifications no provider has been tried for yet."""

CENTRE_ROLES = (Role.COUNTER_OFFICER, Role.CENTRE_ADMIN)


def can_see(viewer: Principal, doc: Document) -> bool:
    if viewer.role is Role.AUDITOR:
        return True
    return viewer.role in CENTRE_ROLES and doc.get("centre_code") == viewer.scope


async def dossier_notifications(code: str, viewer: Principal, uow: UnitOfWork[Repositories]) -> list[Document]:
    """Every notification of a dossier the viewer may see, oldest first (the ``by_dossier`` index).

    NotFound when there is none: another centre's dossier looks the same as an unknown one.
    """
    visible = [doc for doc in await uow.repos.notifications.documents_for_dossier(code) if can_see(viewer, doc)]
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
class TotalsPeriod:
    """A report's whole local days (:class:`motcua_kit.values.ReportPeriod`) in the province's time zone."""

    days: ReportPeriod
    zone: tzinfo

    @property
    def first(self) -> date:
        return self.days.first

    @property
    def last(self) -> date:
        return self.days.last

    @property
    def start(self) -> datetime:
        return self.days.start(self.zone)

    @property
    def end(self) -> datetime:
        """The first instant after the period (local midnight after its last day)."""
        return self.days.end(self.zone)


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

    period: TotalsPeriod
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


@dataclass(frozen=True)
class TotalsQuery:
    viewer: Principal
    date_from: date
    date_to: date
    zone: tzinfo
    centre_code: str | None = None


async def notification_totals(query: TotalsQuery, uow: UnitOfWork[Repositories]) -> NotificationTotals:
    """Notifications created in [date_from, date_to] (local days, inclusive), counted as they stand now.

    One range on ``created_at`` (the ``by_day`` index), projected to the counted fields; the centre is
    filtered here.
    """
    period = TotalsPeriod(ReportPeriod.checked(query.date_from, query.date_to), query.zone)
    centre = scoped_centre(query.viewer, query.centre_code)
    totals = NotificationTotals(period=period, centre_code=centre)
    async for doc in uow.repos.notifications.created_between(period.start, period.end):
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
