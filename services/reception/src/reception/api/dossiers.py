"""Staff routes on the dossier register: intake at the counter, decisions, search, return."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Header, Query, Response, status

from motcua_kit.errors import Forbidden, Invalid
from motcua_kit.web import Runtime
from reception import store
from reception.api.deps import CentreStaff, CounterOfficer, Settings
from reception.api.schemas import (
    DossierOut,
    DossierPage,
    DossierSummary,
    IntakeRequest,
    ReasonsIn,
    ReturnIn,
    SupplementIn,
    WithdrawIn,
)
from reception.domain.dossier import STATUS_NAMES, Status, normalise_phone, search_name
from reception.service import desk, intake

router = APIRouter(tags=["dossiers"])
VN = ZoneInfo("Asia/Ho_Chi_Minh")
IdempotencyKey = Annotated[
    str | None, Header(max_length=128, description="Retries with the same key create one dossier.")
]


def _out(dossier: dict[str, Any]) -> DossierOut:
    view = intake.public_view(dossier)
    return DossierOut.model_validate(view | {"status_name": STATUS_NAMES[Status(view["status"])]})


@router.post("/dossiers", response_model=DossierOut, status_code=status.HTTP_201_CREATED)
async def receive_dossier(
    body: IntakeRequest,
    rt: Runtime,
    settings: Settings,
    officer: CounterOfficer,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> DossierOut:
    """Register a dossier at the counter with the officer's decision (`outcome`): receive it
    (code, appointment, receipt), ask for a supplement (Mẫu 02) or refuse it (Mẫu 03)."""
    dossier, created = await intake.receive_at_counter(
        rt.uow(),
        officer=officer,
        request=body,
        lookup_base_url=settings.lookup_base_url,
        idempotency_key=idempotency_key,
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return _out(dossier)


@router.get("/dossiers", response_model=DossierPage)
async def search_dossiers(
    rt: Runtime,
    viewer: CentreStaff,
    code: Annotated[str | None, Query(max_length=40, description="Whole code or its beginning.")] = None,
    applicant: Annotated[
        str | None, Query(min_length=2, max_length=100, description="Name, diacritics optional.")
    ] = None,
    id_number: Annotated[str | None, Query(pattern=r"^\d{12}$")] = None,
    phone: Annotated[str | None, Query(max_length=20)] = None,
    procedure: Annotated[str | None, Query(max_length=64)] = None,
    status_code: Annotated[int | None, Query(alias="status", ge=1, le=10)] = None,
    centre: Annotated[str | None, Query(max_length=20, description="Auditors only; others see their centre.")] = None,
    received_from: date | None = None,
    received_to: date | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> DossierPage:
    """Search the register of the officer's centre (auditors: any centre)."""
    query: dict[str, Any] = {}
    if viewer.role.value == "auditor":
        if centre:
            query["centre_code"] = centre
    else:
        if centre and centre != viewer.scope:
            raise Forbidden("you may only search the register of your own centre")
        query["centre_code"] = viewer.scope
    if code:
        query["_id"] = {"$regex": "^" + re.escape(code.strip())}
    if applicant:
        query["search_name"] = {"$regex": re.escape(search_name(applicant))}
    if id_number:
        query["applicant.id_number"] = id_number
    if phone:
        query["applicant.phone"] = {"$in": _phone_forms(phone)}
    if procedure:
        query["procedure.code"] = procedure
    if status_code:
        query["status"] = status_code
    if received_from or received_to:
        if received_from and received_to and received_from > received_to:
            raise Invalid("received_from is after received_to")
        bounds: dict[str, datetime] = {}
        if received_from:
            bounds["$gte"] = datetime.combine(received_from, time.min, VN)
        if received_to:
            bounds["$lte"] = datetime.combine(received_to, time.max, VN)
        query["received_at"] = bounds
    total, docs = await store.search_dossiers(rt.db, query, limit=limit, offset=offset)
    return DossierPage(total=total, items=[_summary(d) for d in docs])


def _phone_forms(phone: str) -> list[str]:
    local = normalise_phone(phone)
    return [local, "84" + local[1:], "+84" + local[1:]]


def _summary(d: dict[str, Any]) -> DossierSummary:
    return DossierSummary(
        code=d["_id"],
        centre_code=d["centre_code"],
        status=d["status"],
        status_name=STATUS_NAMES[Status(d["status"])],
        procedure_code=d["procedure"]["code"],
        procedure_name=d["procedure"]["name"],
        applicant_name=d["applicant"]["full_name"],
        received_at=d.get("received_at"),
        appointment_at=d.get("appointment_at"),
    )


@router.get("/dossiers/{code}", response_model=DossierOut)
async def get_dossier(code: str, rt: Runtime, viewer: CentreStaff) -> DossierOut:
    """The whole dossier with its history (staff of its centre; auditors)."""
    return _out(await intake.get_dossier(rt.db, code=code, viewer=viewer))


@router.post("/dossiers/{code}/receive", response_model=DossierOut)
async def receive_submitted(code: str, rt: Runtime, officer: CounterOfficer) -> DossierOut:
    """Accept a dossier submitted online or brought by the post: the clock starts, the appointment is set."""
    return _out(await desk.receive_submitted(rt.uow(), officer=officer, code=code))


@router.post("/dossiers/{code}/supplement-request", response_model=DossierOut)
async def request_supplement(code: str, body: ReasonsIn, rt: Runtime, officer: CounterOfficer) -> DossierOut:
    """Ask the citizen for missing or faulty papers (Mẫu 02); pauses the clock of a received dossier."""
    return _out(await desk.request_supplement(rt.uow(), officer=officer, code=code, reasons=body.reasons))


@router.post("/dossiers/{code}/supplement", response_model=DossierOut)
async def receive_supplement(code: str, body: SupplementIn, rt: Runtime, officer: CounterOfficer) -> DossierOut:
    """Record the papers the citizen brought: the clock resumes, the appointment moves by the pause."""
    return _out(
        await desk.receive_supplement(rt.uow(), officer=officer, code=code, documents=body.documents, note=body.note)
    )


@router.post("/dossiers/{code}/refuse", response_model=DossierOut)
async def refuse(code: str, body: ReasonsIn, rt: Runtime, officer: CounterOfficer) -> DossierOut:
    """Refuse a dossier not yet received (Mẫu 03), with the specific reasons."""
    return _out(await desk.refuse(rt.uow(), officer=officer, code=code, reasons=body.reasons))


@router.post("/dossiers/{code}/withdraw", response_model=DossierOut)
async def withdraw(code: str, body: WithdrawIn, rt: Runtime, officer: CounterOfficer) -> DossierOut:
    """Record the citizen's withdrawal (status 7)."""
    return _out(await desk.withdraw(rt.uow(), officer=officer, code=code, reason=body.reason))


@router.post("/dossiers/{code}/return", response_model=DossierOut)
async def return_result(code: str, body: ReturnIn, rt: Runtime, officer: CounterOfficer) -> DossierOut:
    """Hand the result back at the counter (status 10)."""
    return _out(
        await desk.return_result(
            rt.uow(), officer=officer, code=code, recipient_name=body.recipient_name, note=body.note
        )
    )
