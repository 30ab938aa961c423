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
from datetime import date, datetime
from typing import Any

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase

from motcua_kit.auth import Principal, Role
from motcua_kit.errors import Forbidden, Invalid
from motcua_kit.mongo import Document, Indexes
from motcua_worktime import DEFAULT_TIMEZONE, WorkCalendar
from reception import store
from reception.domain.statistics import (
    DossierFacts,
    InvalidReportRequest,
    PeriodReport,
    ReportBuilder,
    ReportRow,
    check_request,
)

REPORT_INDEXES = (
    Indexes(
        store.DOSSIERS,
        (
            IndexModel([("received_at", ASCENDING)], name="received"),
            IndexModel(
                [("resolved_at", ASCENDING), ("centre_code", ASCENDING), ("received_at", ASCENDING)],
                name="resolved_centre_received",
            ),
            IndexModel([("rating.rated_at", ASCENDING)], name="rated", sparse=True),
        ),
    ),
)
"""What the report's queries need besides ``centre_received`` and ``procedure_received``."""

PROJECTION = {
    "_id": 0,
    "status": 1,
    "centre_code": 1,
    "centre_name": 1,
    "competent_agency": 1,
    "procedure.code": 1,
    "procedure.name": 1,
    "procedure.field": 1,
    "intake_channel": 1,
    "received_at": 1,
    "appointment_at": 1,
    "resolved_at": 1,
    "returned_at": 1,
    "withdrawn_at": 1,
    "stopped_at": 1,
    "refused_at": 1,
    "rating.overall": 1,
    "rating.rated_at": 1,
}

SCOPE_FIELDS = {
    "centre": "centre_code",
    "agency": "competent_agency",
    "field": "procedure.field",
    "procedure": "procedure.code",
}

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
    db: AsyncDatabase[Document],
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
        tz=await _timezone(db),
        names=await _agency_names(db) if by == "agency" else None,
    )
    scope = {SCOPE_FIELDS[name]: value for name, value in filters.items()}
    for query in report_queries(scope, builder.period.start, builder.period.end):
        async for doc in db[store.DOSSIERS].find(query, PROJECTION):
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


def report_queries(scope: dict[str, str], start: datetime, end: datetime) -> list[Document]:
    """Four disjoint queries (by ``received_at`` and ``resolved_at``) that find every dossier that
    can count in a period [start, end). The clause an index serves comes first: SecantusDB (the
    local stand-in) uses the first indexed clause of a filter; MongoDB's planner does not care."""
    return [
        {**scope, "received_at": {"$gte": start, "$lt": end}},
        {
            "resolved_at": None,
            **scope,
            "received_at": {"$lt": start},
            "withdrawn_at": {"$not": {"$lt": start}},
            "stopped_at": {"$not": {"$lt": start}},
        },
        {"resolved_at": {"$gte": start}, **scope, "received_at": {"$lt": start}},
        {
            "rating.rated_at": {"$gte": start, "$lt": end},
            **scope,
            "received_at": {"$lt": start},
            "resolved_at": {"$lt": start},
        },
    ]


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


async def _timezone(db: AsyncDatabase[Document]) -> str:
    config = await store.get_calendar_config(db)
    return WorkCalendar.from_config(config).timezone if config else DEFAULT_TIMEZONE


async def _agency_names(db: AsyncDatabase[Document]) -> dict[str, str]:
    return {a["_id"]: a["name"] async for a in db[store.AGENCIES].find({}, {"name": 1}) if a.get("name")}


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
