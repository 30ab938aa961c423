"""Staff routes: what notify told the citizen about a dossier."""

from __future__ import annotations

from fastapi import APIRouter

from motcua_kit.auth import Principal, Role, require_roles
from motcua_kit.web import Runtime
from notify import service
from notify.api.schemas import NotificationView

router = APIRouter(tags=["notifications"])

STAFF_VIEWERS = require_roles(Role.COUNTER_OFFICER, Role.CENTRE_ADMIN, Role.AUDITOR)


@router.get("/dossiers/{code}/notifications", response_model=list[NotificationView])
async def dossier_notifications(code: str, rt: Runtime, _: Principal = STAFF_VIEWERS) -> list[NotificationView]:
    """The messages owed to and sent to the citizen for a dossier, recipients masked, bodies left out."""
    return [NotificationView.from_doc(doc) for doc in await service.dossier_notifications(rt.db, code)]
