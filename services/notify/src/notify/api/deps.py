"""Route dependencies: a new unit of work per request, on notify's repositories."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from motcua_kit.uow import UnitOfWork
from motcua_kit.web import new_uow
from notify.store import Repositories

UoW = Annotated[UnitOfWork[Repositories], Depends(new_uow)]
