"""Staff routes: what notify told the citizen about a dossier."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pymongo.asynchronous.database import AsyncDatabase

from motcua_kit.auth import Principal, Role, require_roles
from motcua_kit.mongo import Document
from notify import service
from notify.api.schemas import NotificationView

router = APIRouter(tags=["notifications"])

STAFF_VIEWERS = require_roles(Role.COUNTER_OFFICER, Role.CENTRE_ADMIN, Role.AUDITOR)


def database(request: Request) -> AsyncDatabase[Document]:
    db: AsyncDatabase[Document] = request.app.state.rt.db
    return db


Db = Annotated[AsyncDatabase[Document], Depends(database)]


@router.get("/dossiers/{code}/notifications", response_model=list[NotificationView])
async def dossier_notifications(code: str, db: Db, _: Principal = STAFF_VIEWERS) -> list[NotificationView]:
    """The messages owed to and sent to the citizen for a dossier, recipients masked, bodies left out."""
    return [NotificationView.from_doc(doc) for doc in await service.dossier_notifications(db, code)]
