"""Catalogue use cases: the province's centres, agencies, procedures and working-time calendar.

Procedures are versioned. ``procedures`` holds the current version of each (``_id`` = code, ``version``),
``procedure_versions`` every version (``_id`` = ``code@version``); both are written in one transaction
with the ``ProcedureChanged`` event. Saving a procedure whose content did not change makes no version
and publishes nothing. A dossier keeps the version it was received under (intake copies ``version``).

The calendar is the config dict of ``motcua_worktime.WorkCalendar`` in ``province_settings``
(``_id`` = "calendar"); every change publishes ``CalendarChanged`` with the whole config, and intake
reads it from the database on every dossier, so an edit applies to the next intake without a release.

An import publishes ``CentreChanged`` for each centre that is new or whose name, level, address, phone
or email differ from the stored ones (for the postal service, which needs the centres' addresses).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from motcua_kit.errors import Conflict, Invalid, NotFound
from motcua_kit.events import CalendarChanged, CentreChanged, ProcedureChanged
from motcua_kit.mongo import Document
from motcua_kit.uow import use_case
from motcua_worktime import WorkCalendar
from reception import store
from reception.catalogue_csv import parse_procedures
from reception.domain.catalogue import (
    CalendarDay,
    CatalogueImport,
    Centre,
    Procedure,
    ProcedureChange,
    calendar_days,
    normalised_calendar,
    plan_change,
    search_text,
    with_hours,
    with_override,
    without_override,
)
from reception.service import UoW

T = TypeVar("T")
CENTRE_FIELDS = ("name", "level", "address", "phone", "email")


@dataclass(frozen=True)
class ImportResult:
    centres: int
    agencies: int
    procedures: int
    calendar_overrides: int
    procedures_created: int = 0
    procedures_updated: int = 0
    procedures_unchanged: int = 0
    calendar_changed: bool = False
    centres_changed: int = 0


@dataclass(frozen=True)
class ProcedureFilter:
    """``GET /procedures`` filters; ``q`` is a substring of the code or the name, matched folded."""

    field: str | None = None
    level: str | None = None
    agency: str | None = None
    active: bool | None = None
    q: str | None = None

    def query(self) -> Document:
        """The store's filter of these criteria."""
        return store.procedure_query(
            field=self.field, level=self.level, agency=self.agency, active=self.active, q=self.q
        )


# --- procedures: reading ------------------------------------------------------------------------------


async def list_procedures(uow: UoW, filters: ProcedureFilter, *, limit: int, offset: int) -> tuple[int, list[Document]]:
    return await uow.repos.procedures.search(filters.query(), limit=limit, offset=offset)


async def get_procedure(uow: UoW, code: str, version: int | None = None) -> Document:
    """The current version, or version ``version`` of the procedure."""
    current = await uow.repos.procedures.get(code)
    if version is None or (current is not None and current.get("version") == version):
        if current is None:
            raise NotFound(f"no procedure {code} in the catalogue")
        return current
    old = await uow.repos.procedures.version(code, version)
    if old is None:
        raise NotFound(f"procedure {code} has no version {version}")
    return old


async def procedure_versions(uow: UoW, code: str) -> list[Document]:
    """Every recorded version, oldest first."""
    versions = await uow.repos.procedures.all_versions(code)
    if not versions and await uow.repos.procedures.get(code) is None:
        raise NotFound(f"no procedure {code} in the catalogue")
    return versions


# --- procedures: changing -----------------------------------------------------------------------------


@use_case
async def create_procedure(procedure: Procedure, uow: UoW, *, by: str, now: datetime | None = None) -> Document:
    at = now or datetime.now(UTC)
    async with uow:
        if await uow.repos.procedures.get(procedure.code) is not None:
            raise Conflict(f"procedure {procedure.code} already exists; change it with PUT", code="procedure_exists")
        doc, _ = await _save(uow, None, procedure, by=by, at=at)
        await uow.commit()
    return doc


@use_case
async def update_procedure(
    code: str, procedure: Procedure, uow: UoW, *, by: str, now: datetime | None = None
) -> tuple[Document, bool]:
    """A new version when the content changed; returns the current document and whether it changed."""
    if procedure.code != code:
        raise Invalid(f"the body's code {procedure.code} is not the procedure {code}", code="code_mismatch")
    return await _change(uow, code, lambda _: procedure, by=by, at=now or datetime.now(UTC))


@use_case
async def retire_procedure(code: str, uow: UoW, *, by: str, now: datetime | None = None) -> tuple[Document, bool]:
    """No new dossiers under it (intake refuses inactive procedures); retiring twice changes nothing."""

    def retired(current: Document) -> Procedure:
        return Procedure.model_validate(current).model_copy(update={"active": False})

    return await _change(uow, code, retired, by=by, at=now or datetime.now(UTC))


async def _change(
    uow: UoW, code: str, edit: Callable[[Document], Procedure], *, by: str, at: datetime
) -> tuple[Document, bool]:
    async with uow:
        current = await uow.repos.procedures.get(code)
        if current is None:
            raise NotFound(f"no procedure {code} in the catalogue")
        doc, change = await _save(uow, current, edit(current), by=by, at=at)
        await uow.commit()
    return doc, change is not None


async def _save(
    tx: UoW, current: Document | None, procedure: Procedure, *, by: str, at: datetime
) -> tuple[Document, ProcedureChange | None]:
    """Writes a new version and publishes it, unless the content is the current one."""
    change = plan_change(current, procedure)
    if change is None:
        assert current is not None
        if "search_text" not in current:  # written before search existed
            await tx.repos.procedures.set_search_text(procedure.code, search_text(procedure))
        return current, None
    doc = procedure_document(procedure, change, by=by, at=at)
    try:
        await tx.repos.procedures.save_version(doc)
    except store.Duplicate as exc:
        raise Conflict(f"procedure {procedure.code} was changed at the same time; try again") from exc
    tx.publish(
        ProcedureChanged(
            procedure_code=procedure.code,
            version=change.version,
            change=change.kind,
            procedure=procedure.model_dump(mode="json"),
            changed_at=at,
        )
    )
    return doc, change


def procedure_document(procedure: Procedure, change: ProcedureChange, *, by: str, at: datetime) -> Document:
    """The current-version document: the procedure, its version and who changed what when."""
    return {
        "_id": procedure.code,
        **procedure.model_dump(),
        "version": change.version,
        "change": change.kind,
        "changed_fields": list(change.changed_fields),
        "changed_at": at,
        "changed_by": by,
        "search_text": search_text(procedure),
    }


async def _save_all(tx: UoW, procedures: Iterable[Procedure], *, by: str, at: datetime) -> Counter[str]:
    """Saves each procedure; counts them as created, updated or unchanged."""
    wanted = list(procedures)
    current = await tx.repos.procedures.get_many([p.code for p in wanted])
    counts: Counter[str] = Counter()
    for procedure in wanted:
        doc, change = await _save(tx, current.get(procedure.code), procedure, by=by, at=at)
        current[procedure.code] = doc
        counts["unchanged" if change is None else "created" if change.kind == "created" else "updated"] += 1
    return counts


# --- imports ------------------------------------------------------------------------------------------


@use_case
async def import_catalogue(
    catalogue: CatalogueImport, uow: UoW, *, by: str = "import", now: datetime | None = None
) -> ImportResult:
    """Replaces the province's centres, agencies and calendar with the file's, and saves its procedures
    (a new version only for those whose content changed); publishes the new or changed centres."""
    calendar = _checked(lambda: normalised_calendar(catalogue.calendar_config()))
    at = now or datetime.now(UTC)

    async with uow:
        centres_changed = await _store_centres(uow, catalogue.centres, at=at)
        await uow.repos.agencies.put_all([{"_id": a.code, **a.model_dump()} for a in catalogue.agencies])
        counts = await _save_all(uow, catalogue.procedures, by=by, at=at)
        await uow.repos.province.put_province(catalogue.province.model_dump())
        calendar_changed = await _store_calendar(uow, calendar, catalogue.province.code, by=by, at=at)
        await uow.commit()
    return ImportResult(
        centres=len(catalogue.centres),
        agencies=len(catalogue.agencies),
        procedures=len(catalogue.procedures),
        calendar_overrides=len(catalogue.calendar_overrides),
        procedures_created=counts["created"],
        procedures_updated=counts["updated"],
        procedures_unchanged=counts["unchanged"],
        calendar_changed=calendar_changed,
        centres_changed=centres_changed,
    )


@use_case
async def import_csv(data: bytes, uow: UoW, *, by: str, now: datetime | None = None) -> ImportResult:
    """Saves the procedures of a national-catalogue CSV file (see ``reception.catalogue_csv``): all of
    them in one transaction, or none when any row is wrong (422 listing every problem)."""
    parsed = parse_procedures(data, await uow.repos.agencies.codes())
    if parsed.errors:
        problems = "problem" if len(parsed.errors) == 1 else "problems"
        raise Invalid(
            f"{len(parsed.errors)} {problems} in the file, nothing was imported: {parsed.errors[0]}"
            + (" …" if len(parsed.errors) > 1 else ""),
            code="invalid_csv",
            details=parsed.errors,
        )
    at = now or datetime.now(UTC)
    async with uow:
        counts = await _save_all(uow, parsed.procedures, by=by, at=at)
        await uow.commit()
    return ImportResult(
        centres=0,
        agencies=0,
        procedures=len(parsed.procedures),
        calendar_overrides=0,
        procedures_created=counts["created"],
        procedures_updated=counts["updated"],
        procedures_unchanged=counts["unchanged"],
    )


# --- centres ------------------------------------------------------------------------------------------


async def _store_centres(tx: UoW, centres: Iterable[Centre], *, at: datetime) -> int:
    """Stores and publishes each centre that is new or differs from the stored one; returns how many."""
    wanted = list(centres)
    current = await tx.repos.centres.get_many([c.code for c in wanted])
    changed = 0
    for centre in wanted:
        doc = {"_id": centre.code, **centre.model_dump()}
        stored = current.get(centre.code)
        if stored is not None and all(stored.get(f) == doc[f] for f in CENTRE_FIELDS):
            continue
        await tx.repos.centres.put(doc)
        tx.publish(
            CentreChanged(
                centre_code=centre.code,
                name=centre.name,
                level=centre.level,
                address=centre.address,
                phone=centre.phone,
                email=centre.email,
                changed_at=at,
            )
        )
        current[centre.code] = doc
        changed += 1
    return changed


# --- calendar -----------------------------------------------------------------------------------------


async def get_calendar(uow: UoW) -> dict[str, Any]:
    """The stored config (the national defaults before any import)."""
    return _stored_or_default(await uow.repos.calendar.config())


async def list_calendar_days(uow: UoW, start: date, end: date) -> list[CalendarDay]:
    calendar = WorkCalendar.from_config(await get_calendar(uow))
    return _checked(lambda: calendar_days(calendar, start, end))


@dataclass(frozen=True)
class SetHours:
    periods: list[list[str]]
    workdays: list[int]
    by: str
    timezone: str | None = None
    now: datetime | None = None


@dataclass(frozen=True)
class SetOverride:
    """A compensating day off (``working=False``) or a swapped working day (``working=True``)."""

    day: date
    working: bool
    reason: str
    by: str
    now: datetime | None = None


@dataclass(frozen=True)
class DeleteOverride:
    day: date
    by: str
    now: datetime | None = None


@use_case
async def set_hours(cmd: SetHours, uow: UoW) -> dict[str, Any]:
    def edit(config: dict[str, Any]) -> dict[str, Any]:
        return with_hours(config, periods=cmd.periods, workdays=cmd.workdays, timezone=cmd.timezone)

    return await _edit_calendar(uow, edit, by=cmd.by, now=cmd.now)


@use_case
async def set_override(cmd: SetOverride, uow: UoW) -> dict[str, Any]:
    def edit(config: dict[str, Any]) -> dict[str, Any]:
        return with_override(config, cmd.day, working=cmd.working, reason=cmd.reason)

    return await _edit_calendar(uow, edit, by=cmd.by, now=cmd.now)


@use_case
async def delete_override(cmd: DeleteOverride, uow: UoW) -> dict[str, Any]:
    return await _edit_calendar(
        uow, lambda c: without_override(c, cmd.day), by=cmd.by, now=cmd.now, missing=f"no override on {cmd.day}"
    )


async def _edit_calendar(
    uow: UoW,
    edit: Callable[[dict[str, Any]], dict[str, Any] | None],
    *,
    by: str,
    now: datetime | None,
    missing: str = "",
) -> dict[str, Any]:
    """Reads, edits and stores the calendar in one transaction (a concurrent edit makes it retry)."""
    at = now or datetime.now(UTC)

    async with uow:
        province = await uow.repos.province.province()
        if province is None:
            raise Conflict("the province's catalogue has not been imported yet", code="no_province")
        stored = await uow.repos.calendar.config()
        config = _checked(lambda: edit(_stored_or_default(stored)))
        if config is None:
            raise NotFound(missing)
        await _store_calendar(uow, config, province["code"], by=by, at=at)
        await uow.commit()
    return config


async def _store_calendar(tx: UoW, config: dict[str, Any], province_code: str, *, by: str, at: datetime) -> bool:
    """Stores and publishes the calendar when it differs from the stored one; returns whether it did."""
    stored = await tx.repos.calendar.config()
    if stored is not None and _same_calendar(stored, config):
        return False
    await tx.repos.calendar.save(config, by=by, at=at)
    tx.publish(CalendarChanged(province_code=province_code, config=config, changed_at=at))
    return True


def _same_calendar(stored: Mapping[str, Any], config: Mapping[str, Any]) -> bool:
    try:
        return normalised_calendar(stored) == config
    except ValueError:  # a stored config no longer valid: replace it
        return False


def _stored_or_default(config: Mapping[str, Any] | None) -> dict[str, Any]:
    return normalised_calendar(config) if config else dict(WorkCalendar().to_config())


def _checked(make: Callable[[], T]) -> T:
    """Runs a domain computation, turning its ``ValueError`` into a 422 with the same words."""
    try:
        return make()
    except ValueError as exc:
        raise Invalid(str(exc), code="invalid_calendar") from exc
