"""Route dependencies: who may call, the rules and the carrier from the composition root."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials

from motcua_kit.auth import Principal, Role, _bearer, current_principal, require_roles
from motcua_kit.uow import UnitOfWork
from motcua_kit.web import new_uow
from postal.service.common import Rules
from postal.store import Repositories

UoW = Annotated[UnitOfWork[Repositories], Depends(new_uow)]
Staff = Annotated[Principal, require_roles(Role.COUNTER_OFFICER, Role.CENTRE_ADMIN, Role.AUDITOR, Role.POSTAL_PARTNER)]
CentreStaff = Annotated[Principal, require_roles(Role.COUNTER_OFFICER, Role.CENTRE_ADMIN)]
Signer = Annotated[Principal, require_roles(Role.COUNTER_OFFICER, Role.POSTAL_PARTNER)]
Partner = Annotated[Principal, require_roles(Role.POSTAL_PARTNER)]


async def _optional_principal(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal | None:
    """A citizen calls without a token; staff with one (an invalid token is still a 401)."""
    if credentials is None:
        return None
    return await current_principal(request, credentials)


MaybeStaff = Annotated[Principal | None, Depends(_optional_principal)]


def _rules(request: Request) -> Rules:
    return request.app.state.rules


RulesDep = Annotated[Rules, Depends(_rules)]

IdempotencyKey = Annotated[
    str | None, Header(max_length=128, description="Retries with the same key create one pickup.")
]
