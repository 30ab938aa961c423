from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel

from motcua_kit.auth import Principal, Role, require_roles
from motcua_kit.web import Runtime
from postal import service

router = APIRouter()

PostalViewer = Annotated[
    Principal, require_roles(Role.POSTAL_PARTNER, Role.COUNTER_OFFICER, Role.CENTRE_ADMIN, Role.AUDITOR)
]


class DeliveryOut(BaseModel):
    code: str
    centre_code: str
    status: str
    appointment_at: datetime
    planned_at: datetime


@router.get("/deliveries/{code}", response_model=DeliveryOut, tags=["deliveries"])
async def get_delivery(code: str, rt: Runtime, viewer: PostalViewer) -> DeliveryOut:
    delivery = await service.get_delivery(rt.db, code=code, viewer=viewer)
    return DeliveryOut.model_validate({**delivery, "code": delivery["_id"]})
