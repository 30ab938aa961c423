"""Staff routes: what notify told the citizen about a dossier, the period's totals, and the message templates."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Response

from motcua_kit.auth import Principal, Role, require_roles
from motcua_kit.web import Runtime
from notify.api.deps import UoW
from notify.api.schemas import (
    NotificationReport,
    NotificationView,
    PreviewIn,
    PreviewView,
    TemplateDetail,
    TemplateIn,
    TemplateVersionView,
)
from notify.service import templates, views
from notify.service.templates import EditTemplate, PreviewTemplate
from notify.settings import NotifySettings

router = APIRouter(tags=["notifications"])

STAFF_VIEWERS = require_roles(Role.COUNTER_OFFICER, Role.CENTRE_ADMIN, Role.AUDITOR)
Viewer = Annotated[Principal, STAFF_VIEWERS]
CentreAdmin = Annotated[Principal, require_roles(Role.CENTRE_ADMIN)]
DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"


@router.get("/dossiers/{code}/notifications", response_model=list[NotificationView])
async def dossier_notifications(code: str, uow: UoW, viewer: Viewer) -> list[NotificationView]:
    """The messages owed to and sent to the citizen for a dossier, oldest first, each with its status history;
    recipients masked, bodies left out. Centre staff see their centre's dossiers, auditors all; 404 otherwise."""
    return [NotificationView.from_doc(doc) for doc in await views.dossier_notifications(code, viewer, uow)]


@router.get(
    "/reports/notifications",
    response_model=NotificationReport,
    responses={200: {"content": {"text/csv": {}}, "description": "The totals, as JSON or as CSV"}},
    tags=["reports"],
)
async def notification_report(
    rt: Runtime,
    uow: UoW,
    viewer: Viewer,
    date_from: Annotated[date, Query(description="First day of the period (local date, included).")],
    date_to: Annotated[date, Query(description="Last day of the period (local date, included); 366 days at most.")],
    centre_code: Annotated[str | None, Query(description="Only this centre (centre staff: their own).")] = None,
    output: Annotated[Literal["json", "csv"], Query(alias="format")] = "json",
) -> NotificationReport | Response:
    """Notifications created in the period, by channel, status (as it stands now), provider and local day."""
    settings = rt.settings
    zone = settings.tz if isinstance(settings, NotifySettings) else ZoneInfo(DEFAULT_TIMEZONE)
    query = views.TotalsQuery(viewer=viewer, date_from=date_from, date_to=date_to, zone=zone, centre_code=centre_code)
    totals = await views.notification_totals(query, uow)
    if output == "json":
        return NotificationReport.of(totals)
    filename = f"thong-bao-{date_from:%Y%m%d}-{date_to:%Y%m%d}.csv"
    return Response(
        views.totals_csv(totals),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/templates", response_model=list[TemplateVersionView], tags=["templates"])
async def list_templates(uow: UoW, _: CentreAdmin) -> list[TemplateVersionView]:
    """The version in use of every (template key, channel)."""
    return [TemplateVersionView.of(v) for v in await templates.list_templates(uow)]


@router.get("/templates/{key}/{channel}", response_model=TemplateDetail, tags=["templates"])
async def template_detail(key: str, channel: str, uow: UoW, _: CentreAdmin) -> TemplateDetail:
    """The version in use, its placeholders, and every version (1 is the built-in)."""
    return TemplateDetail.of(await templates.template_history(key, channel, uow))


@router.put("/templates/{key}/{channel}", response_model=TemplateVersionView, tags=["templates"])
async def edit_template(key: str, channel: str, body: TemplateIn, uow: UoW, admin: CentreAdmin) -> TemplateVersionView:
    """Stores a new version, used from the next message on; 422 with every problem when it cannot be used."""
    edited = await templates.edit_template(EditTemplate(key, channel, body.to_template(), by=admin.subject), uow)
    return TemplateVersionView.of(edited)


@router.post("/templates/{key}/{channel}/preview", response_model=PreviewView, tags=["templates"])
async def preview_template(
    key: str, channel: str, uow: UoW, _: CentreAdmin, body: PreviewIn | None = None
) -> PreviewView:
    """Renders the body sent (checked like an edit) or the version in use, with sample data."""
    query = PreviewTemplate(key, channel, body.to_template() if body else None)
    return PreviewView.of(await templates.preview_template(query, uow))
