"""FastAPI dependencies: the runtime's ports, as typed aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from motcua_kit.auth import Principal, Role, require_roles
from motcua_kit.runtime import ServiceRuntime
from reception.settings import ReceptionSettings


def _runtime(request: Request) -> ServiceRuntime:
    return request.app.state.rt  # type: ignore[no-any-return]


def _settings(request: Request) -> ReceptionSettings:
    return request.app.state.settings  # type: ignore[no-any-return]


Runtime = Annotated[ServiceRuntime, Depends(_runtime)]
Settings = Annotated[ReceptionSettings, Depends(_settings)]
CounterOfficer = Annotated[Principal, require_roles(Role.COUNTER_OFFICER)]
CentreAdmin = Annotated[Principal, require_roles(Role.CENTRE_ADMIN)]
CentreStaff = Annotated[Principal, require_roles(Role.COUNTER_OFFICER, Role.CENTRE_ADMIN, Role.AUDITOR)]
