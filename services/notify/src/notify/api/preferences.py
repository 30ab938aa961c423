"""Opt-outs: a citizen asks, through the counter, not to be told on a channel any more."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, StringConstraints, model_validator

from motcua_kit.auth import Principal, Role, require_roles
from motcua_kit.errors import NotFound
from motcua_kit.values import is_mobile, normalise_phone
from notify.api.deps import UoW
from notify.service import preferences

router = APIRouter(prefix="/opt-outs", tags=["opt-outs"])

CentreStaff = Annotated[Principal, require_roles(Role.COUNTER_OFFICER, Role.CENTRE_ADMIN)]
EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


class OptOutIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: Literal["sms", "email"]
    recipient: Annotated[str, StringConstraints(strip_whitespace=True, min_length=5, max_length=254)]

    @model_validator(mode="after")
    def _recipient_fits_channel(self) -> OptOutIn:
        phone = normalise_phone(self.recipient)
        if self.channel == "sms" and not (phone and is_mobile(phone)):
            raise ValueError("recipient must be a Vietnamese mobile number for the sms channel")
        if self.channel == "email" and not re.fullmatch(EMAIL, self.recipient):
            raise ValueError("recipient must be an e-mail address for the email channel")
        return self


class OptOutOut(BaseModel):
    channel: str
    opted_out: bool


@router.post("", response_model=OptOutOut, status_code=201)
async def opt_out(body: OptOutIn, uow: UoW, officer: CentreStaff) -> OptOutOut:
    """No more messages on this channel to this phone or address, from any dossier (recorded once)."""
    await preferences.opt_out(preferences.OptOut(body.channel, body.recipient, by=officer.subject), uow)
    return OptOutOut(channel=body.channel, opted_out=True)


@router.post("/remove", response_model=OptOutOut)
async def opt_in(body: OptOutIn, uow: UoW, _: CentreStaff) -> OptOutOut:
    """The citizen wants the messages again."""
    if not await preferences.opt_in(preferences.OptIn(body.channel, body.recipient), uow):
        raise NotFound("this recipient had not opted out of this channel")
    return OptOutOut(channel=body.channel, opted_out=False)
