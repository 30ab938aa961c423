"""Routes: reports."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from reception.api.deps import CentreStaff, UoW
from reception.domain.statistics import Grouping, PeriodReport
from reception.service import reports

router = APIRouter(tags=["reports"])


@router.get(
    "/reports/period",
    response_model=PeriodReport,
    responses={200: {"content": {"text/csv": {}}, "description": "The report, as JSON or as CSV"}},
)
async def period_report(
    uow: UoW,
    viewer: CentreStaff,
    date_from: Annotated[date, Query(description="First day of the period (local date, included).")],
    date_to: Annotated[date, Query(description="Last day of the period (local date, included).")],
    by: Annotated[Grouping, Query(description="One row per centre, competent agency, field or procedure.")] = "field",
    centre: Annotated[str | None, Query(description="Only this centre (centre staff: their own).")] = None,
    agency: Annotated[str | None, Query(description="Only this competent agency.")] = None,
    field: Annotated[str | None, Query(description="Only this field (lĩnh vực).")] = None,
    procedure: Annotated[str | None, Query(description="Only this procedure code.")] = None,
    output: Annotated[Literal["json", "csv"], Query(alias="format")] = "json",
) -> PeriodReport | Response:
    """The periodic statistics report (II.06a): received, resolved and in progress, per group."""
    report = await reports.period_report(
        uow,
        viewer=viewer,
        period_from=date_from,
        period_to=date_to,
        by=by,
        centre=centre,
        agency=agency,
        field=field,
        procedure=procedure,
    )
    if output == "json":
        return report
    filename = f"bao-cao-{report.by}-{report.period_from:%Y%m%d}-{report.period_to:%Y%m%d}.csv"
    return Response(
        reports.report_csv(report),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
