"""FastAPI dependencies as typed aliases (the runtime itself is ``motcua_kit.web.Runtime``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from motcua_kit.auth import Principal, Role, require_roles
from motcua_kit.uow import UnitOfWork
from motcua_kit.web import new_uow
from reception.settings import ReceptionSettings
from reception.store import Repositories


def _settings(request: Request) -> ReceptionSettings:
    settings: ReceptionSettings = request.app.state.settings
    return settings


Settings = Annotated[ReceptionSettings, Depends(_settings)]
CounterOfficer = Annotated[Principal, require_roles(Role.COUNTER_OFFICER)]
CentreAdmin = Annotated[Principal, require_roles(Role.CENTRE_ADMIN)]
CentreStaff = Annotated[Principal, require_roles(Role.COUNTER_OFFICER, Role.CENTRE_ADMIN, Role.AUDITOR)]
UoW = Annotated[UnitOfWork[Repositories], Depends(new_uow)]
"""A new unit of work for the request."""
