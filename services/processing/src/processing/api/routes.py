from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel

from motcua_kit.auth import Principal, Role, require_roles
from motcua_kit.web import Runtime
from processing import service

router = APIRouter()

AgencyStaff = Annotated[Principal, require_roles(Role.AGENCY_OFFICER, Role.AGENCY_LEADER, Role.AUDITOR)]


class StepOut(BaseModel):
    position: int
    agency_code: str
    due_at: datetime
    status: str


class CaseOut(BaseModel):
    code: str
    status: str
    current_step: int
    procedure: dict[str, object]
    deadline_at: datetime
    steps: list[StepOut]


@router.get("/cases/{code}", response_model=CaseOut, tags=["cases"])
async def get_case(code: str, rt: Runtime, viewer: AgencyStaff) -> CaseOut:
    case = await service.get_case(rt.db, code=code, viewer=viewer)
    return CaseOut.model_validate({**case, "code": case["_id"]})
