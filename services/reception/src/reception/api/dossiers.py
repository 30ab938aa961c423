"""Reception's HTTP API: thin routes over the use cases."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Response, status

from motcua_kit.web import Runtime
from reception.api.deps import CentreStaff, CounterOfficer, Settings
from reception.api.schemas import DossierOut, IntakeRequest
from reception.domain.dossier import STATUS_NAMES, Status
from reception.service import intake

router = APIRouter()


def _out(dossier: dict[str, object]) -> DossierOut:
    view = intake.public_view(dossier)
    return DossierOut.model_validate(view | {"status_name": STATUS_NAMES[Status(view["status"])]})


@router.post("/dossiers", response_model=DossierOut, status_code=status.HTTP_201_CREATED, tags=["dossiers"])
async def receive_dossier(
    body: IntakeRequest,
    rt: Runtime,
    settings: Settings,
    officer: CounterOfficer,
    response: Response,
    idempotency_key: Annotated[
        str | None, Header(max_length=128, description="Retries with the same key create one dossier.")
    ] = None,
) -> DossierOut:
    """Receive a dossier at the counter: code, appointment, receipt; publishes DossierReceived."""
    dossier, created = await intake.receive_at_counter(
        rt.uow,
        officer=officer,
        request=body,
        lookup_base_url=settings.lookup_base_url,
        idempotency_key=idempotency_key,
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return _out(dossier)


@router.get("/dossiers/{code}", response_model=DossierOut, tags=["dossiers"])
async def get_dossier(code: str, rt: Runtime, viewer: CentreStaff) -> DossierOut:
    return _out(await intake.get_dossier(rt.db, code=code, viewer=viewer))
