"""Catalogue routes: procedures, centres, agencies and the working-time calendar."""

from __future__ import annotations

from fastapi import APIRouter

from motcua_kit.web import Runtime
from reception.api.deps import CentreAdmin
from reception.api.schemas import ImportResultOut
from reception.domain.catalogue import CatalogueImport
from reception.service import catalogue

router = APIRouter(tags=["catalogue"])


@router.post("/catalogue/import", response_model=ImportResultOut)
async def import_catalogue(body: CatalogueImport, rt: Runtime, _: CentreAdmin) -> ImportResultOut:
    """Load the province's centres, agencies, procedures and working-time calendar."""
    result = await catalogue.import_catalogue(rt.uow, body)
    return ImportResultOut(**result.__dict__)
