"""Catalogue use cases: the province's centres, agencies, procedures and calendar."""

from __future__ import annotations

from dataclasses import dataclass

from motcua_kit.outbox import Tx, UnitOfWork
from reception import store
from reception.domain.catalogue import CatalogueImport


@dataclass(frozen=True)
class ImportResult:
    centres: int
    agencies: int
    procedures: int
    calendar_overrides: int


async def import_catalogue(uow: UnitOfWork, catalogue: CatalogueImport) -> ImportResult:
    """Replaces the province's centres, agencies, procedures and calendar with the file's."""

    async def work(tx: Tx) -> None:
        db, s = tx.db, tx.session
        await store.upsert_all(db, s, store.CENTRES, [{"_id": c.code, **c.model_dump()} for c in catalogue.centres])
        await store.upsert_all(db, s, store.AGENCIES, [{"_id": a.code, **a.model_dump()} for a in catalogue.agencies])
        procedures = []
        for p in catalogue.procedures:
            current = await store.get_procedure(db, p.code)
            body = p.model_dump()
            unchanged = current is not None and {k: current.get(k) for k in body} == body
            version = (current or {}).get("version", 0) + (0 if unchanged else 1)
            procedures.append({"_id": p.code, **body, "version": version})
        await store.upsert_all(db, s, store.PROCEDURES, procedures)
        await store.upsert_all(
            db,
            s,
            store.SETTINGS,
            [
                {"_id": "province", **catalogue.province.model_dump()},
                {"_id": "calendar", "config": catalogue.calendar_config()},
            ],
        )

    await uow.run(work)
    return ImportResult(
        len(catalogue.centres), len(catalogue.agencies), len(catalogue.procedures), len(catalogue.calendar_overrides)
    )
