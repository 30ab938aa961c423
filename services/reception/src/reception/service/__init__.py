"""Reception's use cases, one module per area: each takes a command and a unit of work (``UoW``)."""

from __future__ import annotations

from motcua_kit.errors import Conflict, Invalid
from motcua_kit.uow import UnitOfWork
from reception.domain.dossier import DossierRuleError
from reception.store import Repositories

UoW = UnitOfWork[Repositories]
"""Reception's unit of work: ``uow.repos`` are ``reception.store.Repositories``."""


def as_app_error(exc: DossierRuleError) -> Invalid | Conflict:
    """A domain refusal as the API answers it: 422 for what the papers lack, 409 for the status."""
    if exc.code in ("missing_documents", "appointment_error"):
        return Invalid(str(exc), code=exc.code, details=exc.problems or None)
    return Conflict(str(exc), code=exc.code)
