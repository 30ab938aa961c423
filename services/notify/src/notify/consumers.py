"""Notify's consumer groups: thin translations from events to use cases."""

from __future__ import annotations

from datetime import tzinfo
from zoneinfo import ZoneInfo

from motcua_kit.events import DossierReceived, Envelope
from motcua_kit.events.topics import RECEPTION_DOSSIERS
from motcua_kit.outbox import Tx
from motcua_kit.runtime import ConsumerSpec
from notify import service

DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"


def consumer_specs(tz: tzinfo | None = None) -> list[ConsumerSpec]:
    """``notify.dossiers``: what reception tells about dossiers. ``tz`` dates the messages."""
    zone = tz or ZoneInfo(DEFAULT_TIMEZONE)

    async def on_dossier_received(event: DossierReceived, tx: Tx, envelope: Envelope) -> None:
        await service.record_notifications(tx, event, envelope, zone)

    return [ConsumerSpec(name="dossiers", topics=[RECEPTION_DOSSIERS], handlers={DossierReceived: on_dossier_received})]
