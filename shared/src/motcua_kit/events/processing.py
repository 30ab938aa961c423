"""Events published by processing on ``processing.cases``."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import BaseModel

from motcua_kit.events.base import Event
from motcua_kit.events.topics import PROCESSING_CASES


class CaseStep(BaseModel):
    position: int
    agency_code: str
    due_at: datetime


class CaseOpened(Event):
    """Processing opened a case for the dossier, one step per agency of the chain."""

    event_type: ClassVar[str] = "CaseOpened"
    topic: ClassVar[str] = PROCESSING_CASES

    steps: list[CaseStep]
    deadline_at: datetime
