"""Catalogue routes: the province import, procedures with their versions, and the working-time calendar.

Reading is for the centre's staff (counter officers, admins, auditors); changing is for centre admins.
"""

from __future__ import annotations

from datetime import date as Date  # some fields below are named ``date``
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from motcua_kit.errors import AppError
from reception.api.deps import CentreAdmin, CentreStaff, UoW
from reception.api.schemas import ImportResultOut
from reception.domain.catalogue import PROCEDURE_CODE, CatalogueImport, Procedure
from reception.service import catalogue

router = APIRouter(tags=["catalogue"])

MAX_CSV_BYTES = 10 * 1024 * 1024
Code = Annotated[str, Path(pattern=PROCEDURE_CODE, description="The procedure code, e.g. 1.010708.000.00.00.H56.")]


class PayloadTooLarge(AppError):
    status_code = 413
    code = "payload_too_large"


class UnsupportedMediaType(AppError):
    status_code = 415
    code = "unsupported_media_type"


# --- shapes -------------------------------------------------------------------------------------------


class CatalogueImportOut(ImportResultOut):
    procedures_created: int
    procedures_updated: int
    procedures_unchanged: int
    calendar_changed: bool
    centres_changed: int


class ProcedureOut(Procedure):
    version: int
    change: str | None = None
    changed_at: datetime | None = None
    changed_by: str | None = None


class ProcedurePage(BaseModel):
    total: int
    items: list[ProcedureOut]


class ProcedureVersionOut(BaseModel):
    version: int
    change: str | None = None
    changed_fields: list[str] = []
    changed_at: datetime | None = None
    changed_by: str | None = None
    name: str
    active: bool


class ProcedureUpdate(Procedure):
    """The whole procedure as it shall be; ``code`` may be left out (it is the path's)."""

    code: str | None = Field(default=None, pattern=PROCEDURE_CODE)  # type: ignore[assignment]


class OverrideOut(BaseModel):
    date: Date
    working: bool
    reason: str


class CalendarOut(BaseModel):
    timezone: str
    periods: list[list[str]]
    workdays: list[int]
    overrides: list[OverrideOut]
    use_public_holidays: bool


class HoursIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    periods: list[list[str]] = Field(
        min_length=1, max_length=6, description='Working periods, e.g. [["07:00", "11:30"], ["13:30", "17:00"]].'
    )
    workdays: list[int] = Field(min_length=1, max_length=7, description="Weekdays worked, Monday = 0 ... Sunday = 6.")
    timezone: str | None = Field(default=None, description="IANA time zone; unchanged when left out.")


class OverrideIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    working: bool = Field(description="False: a day off (e.g. a compensating day); true: a swapped working day.")
    reason: Annotated[str, StringConstraints(min_length=1, max_length=300, strip_whitespace=True)]


class CalendarDayOut(BaseModel):
    date: Date
    working: bool
    kind: Literal["workday", "weekend", "holiday", "swapped_workday", "override"]
    reason: str | None


def _procedure(doc: dict[str, Any]) -> ProcedureOut:
    return ProcedureOut.model_validate(doc)


# --- import -------------------------------------------------------------------------------------------


@router.post("/catalogue/import", response_model=CatalogueImportOut)
async def import_catalogue(body: CatalogueImport, uow: UoW, admin: CentreAdmin) -> CatalogueImportOut:
    """Load the province's centres, agencies, procedures and working-time calendar (a whole JSON file).

    Procedures whose content changed get a new version and a ProcedureChanged event; a changed
    calendar publishes CalendarChanged, each new or changed centre CentreChanged."""
    result = await catalogue.import_catalogue(body, uow, by=admin.subject)
    return CatalogueImportOut(**result.__dict__)


@router.post(
    "/catalogue/import.csv",
    response_model=CatalogueImportOut,
    openapi_extra={
        "requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string", "format": "binary"}}}}
    },
)
async def import_catalogue_csv(request: Request, uow: UoW, admin: CentreAdmin) -> CatalogueImportOut:
    """Load procedures from the national catalogue's flat CSV (one row per procedure, ``Content-Type:
    text/csv``, UTF-8). Every bad row is reported as ``row N, column: problem``; nothing is imported
    unless every row is good. The format is described in ``reception.catalogue_csv``."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "text/csv":
        raise UnsupportedMediaType(f"send the file as Content-Type: text/csv, not {media_type or 'nothing'}")
    data = await _read_limited(request)
    result = await catalogue.import_csv(data, uow, by=admin.subject)
    return CatalogueImportOut(**result.__dict__)


async def _read_limited(request: Request) -> bytes:
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_CSV_BYTES:
            raise PayloadTooLarge(f"the file is larger than {MAX_CSV_BYTES // (1024 * 1024)} MB")
        chunks.append(chunk)
    return b"".join(chunks)


# --- procedures ---------------------------------------------------------------------------------------


@router.get("/procedures", response_model=ProcedurePage)
async def list_procedures(
    uow: UoW,
    _: CentreStaff,
    field: Annotated[str | None, Query(max_length=200, description="Exact field (lĩnh vực).")] = None,
    level: Literal["province", "commune"] | None = None,
    agency: Annotated[str | None, Query(max_length=20, description="An agency of the chain.")] = None,
    active: bool | None = None,
    q: Annotated[str | None, Query(max_length=200, description="Part of the code or name, any accents.")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> ProcedurePage:
    filters = catalogue.ProcedureFilter(field=field, level=level, agency=agency, active=active, q=q)
    total, docs = await catalogue.list_procedures(uow, filters, limit=limit, offset=offset)
    return ProcedurePage(total=total, items=[_procedure(d) for d in docs])


@router.get("/procedures/{code}", response_model=ProcedureOut)
async def get_procedure(
    code: Code, uow: UoW, _: CentreStaff, version: Annotated[int | None, Query(ge=1)] = None
) -> ProcedureOut:
    """The current version, or an earlier one with ``?version=N``."""
    return _procedure(await catalogue.get_procedure(uow, code, version))


@router.get("/procedures/{code}/versions", response_model=list[ProcedureVersionOut])
async def procedure_versions(code: Code, uow: UoW, _: CentreStaff) -> list[ProcedureVersionOut]:
    return [ProcedureVersionOut.model_validate(v) for v in await catalogue.procedure_versions(uow, code)]


@router.post("/procedures", response_model=ProcedureOut, status_code=status.HTTP_201_CREATED)
async def create_procedure(body: Procedure, uow: UoW, admin: CentreAdmin) -> ProcedureOut:
    """Add a procedure (version 1); 409 when the code exists. Publishes ProcedureChanged."""
    return _procedure(await catalogue.create_procedure(body, uow, by=admin.subject))


@router.put("/procedures/{code}", response_model=ProcedureOut)
async def update_procedure(code: Code, body: ProcedureUpdate, uow: UoW, admin: CentreAdmin) -> ProcedureOut:
    """Replace the procedure: a new version and ProcedureChanged when anything changed, else nothing."""
    procedure = Procedure.model_validate(body.model_dump() | {"code": body.code or code})
    doc, _ = await catalogue.update_procedure(code, procedure, uow, by=admin.subject)
    return _procedure(doc)


@router.post("/procedures/{code}/retire", response_model=ProcedureOut)
async def retire_procedure(code: Code, uow: UoW, admin: CentreAdmin) -> ProcedureOut:
    """No new dossiers under this procedure (a new version); dossiers received keep theirs."""
    doc, _ = await catalogue.retire_procedure(code, uow, by=admin.subject)
    return _procedure(doc)


# --- calendar -----------------------------------------------------------------------------------------


@router.get("/calendar", response_model=CalendarOut)
async def get_calendar(uow: UoW, _: CentreStaff) -> CalendarOut:
    """Working periods, workdays and the province's overrides, as intake uses them."""
    return CalendarOut.model_validate(await catalogue.get_calendar(uow))


@router.get("/calendar/days", response_model=list[CalendarDayOut])
async def calendar_days(
    uow: UoW,
    _: CentreStaff,
    start: Annotated[Date, Query(alias="from", description="First date, YYYY-MM-DD.")],
    end: Annotated[Date, Query(alias="to", description="Last date (included), at most 400 days in all.")],
) -> list[CalendarDayOut]:
    """Each date: worked or not, and why (weekend, the public holiday's name, or the override's reason)."""
    days = await catalogue.list_calendar_days(uow, start, end)
    return [CalendarDayOut.model_validate(d, from_attributes=True) for d in days]


@router.put("/calendar/hours", response_model=CalendarOut)
async def set_hours(body: HoursIn, uow: UoW, admin: CentreAdmin) -> CalendarOut:
    """Change the working periods and workdays; publishes CalendarChanged."""
    command = catalogue.SetHours(body.periods, body.workdays, by=admin.subject, timezone=body.timezone)
    config = await catalogue.set_hours(command, uow)
    return CalendarOut.model_validate(config)


@router.put("/calendar/overrides/{day}", response_model=CalendarOut)
async def set_override(day: Date, body: OverrideIn, uow: UoW, admin: CentreAdmin) -> CalendarOut:
    """Declare a day off or a swapped working day (replacing any earlier decision for that date)."""
    config = await catalogue.set_override(catalogue.SetOverride(day, body.working, body.reason, by=admin.subject), uow)
    return CalendarOut.model_validate(config)


@router.delete("/calendar/overrides/{day}", response_model=CalendarOut)
async def delete_override(day: Date, uow: UoW, admin: CentreAdmin) -> CalendarOut:
    """Remove the decision for that date; 404 when there is none."""
    return CalendarOut.model_validate(
        await catalogue.delete_override(catalogue.DeleteOverride(day, by=admin.subject), uow)
    )
