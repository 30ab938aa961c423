"""Route dependencies: the unit of work of a request, and who may call which route."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from motcua_kit.auth import Principal, Role, require_roles
from motcua_kit.uow import UnitOfWork
from motcua_kit.web import new_uow
from processing.domain.case import Actor
from processing.store import Repositories

UoW = Annotated[UnitOfWork[Repositories], Depends(new_uow)]
AgencyStaff = Annotated[Principal, require_roles(Role.AGENCY_OFFICER, Role.AGENCY_LEADER, Role.AUDITOR)]
AgencyWorker = Annotated[Principal, require_roles(Role.AGENCY_OFFICER, Role.AGENCY_LEADER)]
AgencyLeader = Annotated[Principal, require_roles(Role.AGENCY_LEADER)]
Reporter = Annotated[Principal, require_roles(Role.AGENCY_LEADER, Role.AUDITOR)]


def actor(principal: Principal) -> Actor:
    """The token's principal as the domain knows an actor: user id, role, agency."""
    return Actor(subject=principal.subject, role=principal.role.value, agency=principal.scope)
