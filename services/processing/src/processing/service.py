"""Processing's use cases."""

from __future__ import annotations

from datetime import UTC, datetime

from pymongo.asynchronous.database import AsyncDatabase

from motcua_kit.auth import Principal
from motcua_kit.errors import NotFound
from motcua_kit.events import CaseOpened, DossierReceived
from motcua_kit.events.processing import CaseStep
from motcua_kit.mongo import Document
from motcua_kit.outbox import Tx
from motcua_worktime import WorkCalendar
from processing import metrics, store
from processing.domain.case import plan_steps


async def open_case(tx: Tx, event: DossierReceived, calendar: WorkCalendar) -> None:
    """Opens the case of a received dossier: one step per agency of the chain."""
    steps = plan_steps(
        calendar,
        clock_started_at=event.clock_started_at,
        appointment_at=event.appointment_at,
        limit_working_hours=event.limit_working_hours,
        chain=[(s.agency_code, s.share) for s in event.agency_chain],
    )
    now = datetime.now(UTC)
    await tx.db[store.CASES].insert_one(
        {
            "_id": event.dossier_code,
            "procedure": event.procedure.model_dump(),
            "centre_code": event.centre_code,
            "competent_agency": event.competent_agency,
            "status": "open",
            "current_step": 1,
            "steps": [
                {
                    "position": s.position,
                    "agency_code": s.agency_code,
                    "due_at": s.due_at,
                    "status": "new" if s.position == 1 else "waiting",
                }
                for s in steps
            ],
            "received_at": event.received_at,
            "deadline_at": event.appointment_at,
            "opened_at": now,
            "history": [{"action": "opened", "at": now, "by": "system", "agency": steps[0].agency_code}],
        },
        session=tx.session,
    )
    await tx.publish(
        CaseOpened(
            dossier_code=event.dossier_code,
            steps=[CaseStep(position=s.position, agency_code=s.agency_code, due_at=s.due_at) for s in steps],
            deadline_at=event.appointment_at,
        )
    )
    metrics.record_case_opened(steps[0].agency_code)


async def get_case(db: AsyncDatabase[Document], *, code: str, viewer: Principal) -> Document:
    case = await db[store.CASES].find_one({"_id": code})
    in_chain = case is not None and any(s["agency_code"] == viewer.scope for s in case["steps"])
    if case is None or not (in_chain or viewer.role.value == "auditor"):
        raise NotFound(f"no case {code} for your agency")
    return case
