"""Staff routes on the dossier register: intake at the counter, decisions, search, return."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Header, Query, Response, status

from reception.api.deps import CentreStaff, CounterOfficer, Settings, UoW
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
from reception.domain.dossier import STATUS_NAMES, Dossier, RegisterSearch, Status
from reception.service import desk, intake

router = APIRouter(tags=["dossiers"])
VN = ZoneInfo("Asia/Ho_Chi_Minh")
IdempotencyKey = Annotated[
    str | None, Header(max_length=128, description="Retries with the same key create one dossier.")
]


def _out(dossier: Dossier) -> DossierOut:
    view = intake.public_view(dossier)
    return DossierOut.model_validate(view | {"status_name": STATUS_NAMES[Status(view["status"])]})


@router.post("/dossiers", response_model=DossierOut, status_code=status.HTTP_201_CREATED)
async def receive_dossier(
    body: IntakeRequest,
    uow: UoW,
    settings: Settings,
    officer: CounterOfficer,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> DossierOut:
    """Register a dossier at the counter with the officer's decision (`outcome`): receive it
    (code, appointment, receipt), ask for a supplement (Mẫu 02) or refuse it (Mẫu 03)."""
    command = intake.ReceiveAtCounter(
        officer=officer,
        draft=body.draft(),
        outcome=body.outcome,
        reasons=tuple(body.reasons),
        lookup_base_url=settings.lookup_base_url,
        idempotency_key=idempotency_key,
    )
    dossier, created = await intake.receive_at_counter(command, uow)
    if not created:
        response.status_code = status.HTTP_200_OK
    return _out(dossier)


@router.get("/dossiers", response_model=DossierPage)
async def search_dossiers(
    uow: UoW,
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
    search = RegisterSearch(
        centre_code=centre or None,
        code_prefix=code.strip() if code else None,
        applicant=applicant,
        id_number=id_number,
        phone=phone,
        procedure_code=procedure,
        status=status_code,
        received_from=datetime.combine(received_from, time.min, VN) if received_from else None,
        received_to=datetime.combine(received_to, time.max, VN) if received_to else None,
    )
    total, docs = await intake.search_register(uow, search, viewer=viewer, limit=limit, offset=offset)
    return DossierPage(total=total, items=[_summary(d) for d in docs])


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
async def get_dossier(code: str, uow: UoW, viewer: CentreStaff) -> DossierOut:
    """The whole dossier with its history (staff of its centre; auditors)."""
    return _out(await intake.get_dossier(uow, code=code, viewer=viewer))


@router.post("/dossiers/{code}/receive", response_model=DossierOut)
async def receive_submitted(code: str, uow: UoW, officer: CounterOfficer) -> DossierOut:
    """Accept a dossier submitted online or brought by the post: the clock starts, the appointment is set."""
    return _out(await desk.accept_submitted(desk.AcceptSubmitted(officer, code), uow))


@router.post("/dossiers/{code}/supplement-request", response_model=DossierOut)
async def request_supplement(code: str, body: ReasonsIn, uow: UoW, officer: CounterOfficer) -> DossierOut:
    """Ask the citizen for missing or faulty papers (Mẫu 02); pauses the clock of a received dossier."""
    return _out(await desk.request_supplement(desk.RequestSupplement(officer, code, tuple(body.reasons)), uow))


@router.post("/dossiers/{code}/supplement", response_model=DossierOut)
async def receive_supplement(code: str, body: SupplementIn, uow: UoW, officer: CounterOfficer) -> DossierOut:
    """Record the papers the citizen brought: the clock resumes, the appointment moves by the pause."""
    documents = tuple(d.document() for d in body.documents)
    return _out(await desk.receive_supplement(desk.ReceiveSupplement(officer, code, documents, body.note), uow))


@router.post("/dossiers/{code}/refuse", response_model=DossierOut)
async def refuse(code: str, body: ReasonsIn, uow: UoW, officer: CounterOfficer) -> DossierOut:
    """Refuse a dossier not yet received (Mẫu 03), with the specific reasons."""
    return _out(await desk.refuse(desk.Refuse(officer, code, tuple(body.reasons)), uow))


@router.post("/dossiers/{code}/withdraw", response_model=DossierOut)
async def withdraw(code: str, body: WithdrawIn, uow: UoW, officer: CounterOfficer) -> DossierOut:
    """Record the citizen's withdrawal (status 7)."""
    return _out(await desk.withdraw(desk.Withdraw(officer, code, body.reason), uow))


@router.post("/dossiers/{code}/return", response_model=DossierOut)
async def return_result(code: str, body: ReturnIn, uow: UoW, officer: CounterOfficer) -> DossierOut:
    """Hand the result back at the counter (status 10)."""
    command = desk.ReturnResult(officer, code, recipient_name=body.recipient_name, note=body.note)
    return _out(await desk.return_result(command, uow))
