"""Opt-outs: a citizen asks, through the counter, not to be told on a channel any more."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from motcua_kit.logs import get_logger
from motcua_kit.uow import UnitOfWork, use_case
from notify.domain.contacts import comparable_recipient
from notify.domain.templates import Channel
from notify.store import Repositories

log = get_logger(__name__)


@dataclass(frozen=True)
class OptOut:
    channel: Channel
    recipient: str
    by: str


@dataclass(frozen=True)
class OptIn:
    channel: Channel
    recipient: str


@use_case
async def opt_out(cmd: OptOut, uow: UnitOfWork[Repositories]) -> str:
    """No more messages on ``channel`` to ``recipient``, from any dossier (recorded once); returns the stored form."""
    normalised = comparable_recipient(cmd.channel, cmd.recipient)
    async with uow:
        await uow.repos.opt_outs.add(cmd.channel, normalised, by=cmd.by, at=datetime.now(UTC))
        await uow.commit()
    log.info("citizen opted out", channel=cmd.channel)
    return normalised


@use_case
async def opt_in(cmd: OptIn, uow: UnitOfWork[Repositories]) -> bool:
    """The citizen wants the messages again; False when they had not opted out."""
    async with uow:
        removed = await uow.repos.opt_outs.remove(cmd.channel, comparable_recipient(cmd.channel, cmd.recipient))
        await uow.commit()
    return removed
