"""Staff routes: what notify told the citizen about a dossier, and the message templates."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from motcua_kit.auth import Principal, Role, require_roles
from motcua_kit.web import Runtime
from notify import service
from notify.api.schemas import (
    NotificationView,
    PreviewIn,
    PreviewView,
    TemplateDetail,
    TemplateIn,
    TemplateVersionView,
)

router = APIRouter(tags=["notifications"])

STAFF_VIEWERS = require_roles(Role.COUNTER_OFFICER, Role.CENTRE_ADMIN, Role.AUDITOR)
CentreAdmin = Annotated[Principal, require_roles(Role.CENTRE_ADMIN)]


@router.get("/dossiers/{code}/notifications", response_model=list[NotificationView])
async def dossier_notifications(code: str, rt: Runtime, _: Principal = STAFF_VIEWERS) -> list[NotificationView]:
    """The messages owed to and sent to the citizen for a dossier, recipients masked, bodies left out."""
    return [NotificationView.from_doc(doc) for doc in await service.dossier_notifications(rt.db, code)]


@router.get("/templates", response_model=list[TemplateVersionView], tags=["templates"])
async def list_templates(rt: Runtime, _: CentreAdmin) -> list[TemplateVersionView]:
    """The version in use of every (template key, channel)."""
    return [TemplateVersionView.of(v) for v in await service.list_templates(rt.db)]


@router.get("/templates/{key}/{channel}", response_model=TemplateDetail, tags=["templates"])
async def template_detail(key: str, channel: str, rt: Runtime, _: CentreAdmin) -> TemplateDetail:
    """The version in use, its placeholders, and every version (1 is the built-in)."""
    return TemplateDetail.of(await service.template_history(rt.db, key, channel))


@router.put("/templates/{key}/{channel}", response_model=TemplateVersionView, tags=["templates"])
async def edit_template(
    key: str, channel: str, body: TemplateIn, rt: Runtime, admin: CentreAdmin
) -> TemplateVersionView:
    """Stores a new version, used from the next message on; 422 with every problem when it cannot be used."""
    edited = await service.edit_template(rt.db, key, channel, body.to_template(), by=admin.subject)
    return TemplateVersionView.of(edited)


@router.post("/templates/{key}/{channel}/preview", response_model=PreviewView, tags=["templates"])
async def preview_template(
    key: str, channel: str, rt: Runtime, _: CentreAdmin, body: PreviewIn | None = None
) -> PreviewView:
    """Renders the body sent (checked like an edit) or the version in use, with sample data."""
    return PreviewView.of(await service.preview_template(rt.db, key, channel, body.to_template() if body else None))
