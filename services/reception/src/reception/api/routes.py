"""Reception's HTTP API: thin routes over the use cases."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Response, status

from motcua_kit.web import Runtime
from reception import service
from reception.api.deps import CentreAdmin, CentreStaff, CounterOfficer, Settings
from reception.api.schemas import DossierOut, ImportResultOut, IntakeRequest
from reception.domain.catalogue import CatalogueImport
from reception.domain.dossier import STATUS_NAMES, Status

router = APIRouter()


def _out(dossier: dict[str, object]) -> DossierOut:
    view = service.public_view(dossier)
    return DossierOut.model_validate(view | {"status_name": STATUS_NAMES[Status(view["status"])]})


@router.post("/catalogue/import", response_model=ImportResultOut, tags=["catalogue"])
async def import_catalogue(body: CatalogueImport, rt: Runtime, _: CentreAdmin) -> ImportResultOut:
    """Load the province's centres, agencies, procedures and working-time calendar."""
    result = await service.import_catalogue(rt.uow, body)
    return ImportResultOut(**result.__dict__)


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
    dossier, created = await service.receive_at_counter(
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
    return _out(await service.get_dossier(rt.db, code=code, viewer=viewer))
