"""Events published by postal on ``postal.shipments``."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from motcua_kit.events.base import Event
from motcua_kit.events.topics import POSTAL_SHIPMENTS


class ResultDeliveryPlanned(Event):
    """The citizen asked for the result by post: postal will ship it once the dossier is resolved."""

    event_type: ClassVar[str] = "ResultDeliveryPlanned"
    topic: ClassVar[str] = POSTAL_SHIPMENTS

    centre_code: str
    destination: str
    planned_at: datetime
