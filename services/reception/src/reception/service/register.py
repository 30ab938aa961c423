"""The dossier register follows each dossier through the other services' events.

Each event is a message to one use case, ``follow``: it runs in the consumer's transaction (the inbox
makes a redelivery a no-op). Events come from several topics, so they can be read out of their real
order: the aggregate moves statuses only forward and puts every fact in the history with the time it
happened (``Dossier.follow``).
"""

from __future__ import annotations

from motcua_kit.consumer import PermanentError
from motcua_kit.events import ResultReturned
from motcua_kit.events.base import DossierEvent
from motcua_kit.uow import use_case
from reception import metrics
from reception.domain.dossier import Dossier
from reception.service import UoW


@use_case
async def follow(event: DossierEvent, uow: UoW) -> Dossier:
    """Records another service's fact about a dossier (and publishes what it implies, e.g. the return)."""
    async with uow:
        dossier = await uow.repos.dossiers.get(event.dossier_code)
        if dossier is None:
            raise PermanentError(f"{event.event_type} for a dossier the register does not know")
        requests = len(dossier.supplement_requests)
        published = dossier.follow(event)
        uow.publish(*published)
        await uow.repos.dossiers.save(dossier)
        centre = dossier.centre_code
        if len(dossier.supplement_requests) > requests:
            uow.after_commit(lambda: metrics.record_supplement(centre, "agency"))
        if any(isinstance(e, ResultReturned) for e in published):
            uow.after_commit(lambda: metrics.record_returned("post"))
        await uow.commit()
    return dossier
