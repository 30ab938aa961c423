"""The periodic statistics report over the dossier register, as JSON or CSV.

Only the dossiers that can count are read, in four disjoint queries that each ride an index:
received within the period; received before it, unresolved, and neither withdrawn nor stopped
before it; received before it and resolved since its start; and resolved before it but rated
within it (satisfaction counts ratings given in the period, whenever the dossier ended). Each
reads a projection of a few fields and streams into the report builder, so memory stays flat
whatever the period.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

from motcua_kit.auth import Principal, Role
from motcua_kit.errors import Forbidden, Invalid
from motcua_kit.mongo import Document
from reception import store
from reception.domain.statistics import (
    DossierFacts,
    InvalidReportRequest,
    PeriodReport,
    ReportBuilder,
    ReportRow,
    check_request,
)
from reception.service import UoW

REPORT_INDEXES = store.REPORT_INDEXES
"""What the report's queries need besides ``centre_received`` and ``procedure_received`` (kept in store)."""

CSV_HEADERS = (
    "Nhóm",
    "Kỳ trước chuyển qua",
    "Trực tuyến",
    "Trực tiếp và bưu chính",
    "Tổng số tiếp nhận",
    "Giải quyết trước hạn",
    "Đúng hạn",
    "Quá hạn",
    "Đang giải quyết trong hạn",
    "Đang giải quyết quá hạn",
    "Tỷ lệ đúng hạn",
    "Tỷ lệ hài lòng",
)


async def period_report(
    uow: UoW,
    *,
    viewer: Principal,
    period_from: date,
    period_to: date,
    by: str,
    centre: str | None = None,
    agency: str | None = None,
    field: str | None = None,
    procedure: str | None = None,
) -> PeriodReport:
    """The II.06a report over [period_from, period_to] (local dates, inclusive) grouped ``by``.

    Counter officers and centre admins see their own centre only; auditors see the province.
    """
    try:
        check_request(period_from, period_to, by)
    except InvalidReportRequest as exc:
        raise Invalid(str(exc), code=exc.code) from exc
    filters = {
        name: value
        for name, value in (
            ("centre", scoped_centre(viewer, centre)),
            ("agency", agency),
            ("field", field),
            ("procedure", procedure),
        )
        if value
    }
    builder = ReportBuilder(
        period_from=period_from,
        period_to=period_to,
        by=by,
        tz=await _timezone(uow),
        names=await uow.repos.agencies.names() if by == "agency" else None,
    )
    async for doc in uow.repos.dossiers.report_documents(filters, builder.period.start, builder.period.end):
        builder.add(facts_from_document(doc))
    return builder.report().model_copy(update={"filters": filters})


def scoped_centre(viewer: Principal, centre: str | None) -> str | None:
    """The centre the viewer's report covers: their own for centre staff, any (or all) for auditors."""
    if viewer.role is Role.AUDITOR:
        return centre
    if viewer.role not in (Role.COUNTER_OFFICER, Role.CENTRE_ADMIN):
        raise Forbidden(f"role {viewer.role.value} may not see the centres' reports")
    if centre is not None and centre != viewer.scope:
        raise Forbidden(f"you may see the reports of your centre {viewer.scope} only, not of {centre}")
    return viewer.scope


def facts_from_document(doc: Document) -> DossierFacts:
    """The report's facts from a register document (see ``reception.store``)."""
    procedure: dict[str, Any] = doc.get("procedure") or {}
    rating: dict[str, Any] = doc.get("rating") or {}
    return DossierFacts(
        centre_code=doc["centre_code"],
        centre_name=doc.get("centre_name") or doc["centre_code"],
        competent_agency=doc.get("competent_agency") or "",
        field=procedure.get("field") or "",
        procedure_code=procedure.get("code") or "",
        procedure_name=procedure.get("name") or "",
        status=doc["status"],
        intake_channel=doc.get("intake_channel") or 1,
        received_at=doc.get("received_at"),
        appointment_at=doc.get("appointment_at"),
        resolved_at=doc.get("resolved_at"),
        returned_at=doc.get("returned_at"),
        withdrawn_at=doc.get("withdrawn_at"),
        stopped_at=doc.get("stopped_at"),
        refused_at=doc.get("refused_at"),
        rating=rating.get("overall"),
        rated_at=rating.get("rated_at"),
    )


async def _timezone(uow: UoW) -> str:
    """The calendar's time zone (the statutory calendar's before any import)."""
    return (await uow.repos.calendar.work_calendar()).timezone


# --- CSV -------------------------------------------------------------------------------------------


def report_csv(report: PeriodReport) -> str:
    """The report as a spreadsheet opens it: UTF-8 with a BOM, Vietnamese headers, the total last."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADERS)
    for row in [*report.rows, report.total]:
        writer.writerow(_csv_cells(row))
    return "\ufeff" + out.getvalue()


def _csv_cells(row: ReportRow) -> list[str | int]:
    label = row.name if row.name == row.key or not row.key else f"{row.name} ({row.key})"
    return [
        label,
        row.received.carried_over,
        row.received.online,
        row.received.direct_and_postal,
        row.received.total,
        row.resolved.early,
        row.resolved.on_time,
        row.resolved.late,
        row.in_progress.in_time,
        row.in_progress.late,
        _percent(row.on_time_rate),
        _percent(row.satisfaction_rate),
    ]


def _percent(rate: float | None) -> str:
    return "" if rate is None else f"{rate * 100:.2f}%"
