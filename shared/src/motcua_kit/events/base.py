"""The event base class and the envelope that travels in Kafka headers."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

NATIONAL_PORTAL = "national portal"
"""The adapter that synchronises dossiers and their progress to the National Public Service Portal."""
STATISTICS = "statistics"
"""The province's reports and service index (on time / late, satisfaction), built from the topics."""


class Event(BaseModel):
    """A fact, published on the producing service's topic under a key that orders it.

    Subclasses declare ``event_type`` (past tense), ``schema_version`` and the ``topic``
    of the producing service. A breaking change gets a new class with a higher version;
    additive changes keep the version (consumers ignore fields they do not know).

    ``outside_readers`` names who reads the event outside the four services (for example
    :data:`NATIONAL_PORTAL`); an event that no service consumes must name them, so that a
    fact nobody reads is seen (``tests/contracts/test_event_consumers.py``). It is not part
    of the event's JSON schema.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    event_type: ClassVar[str]
    schema_version: ClassVar[int] = 1
    topic: ClassVar[str]
    outside_readers: ClassVar[tuple[str, ...]] = ()

    @property
    def key(self) -> str:
        raise NotImplementedError


class DossierEvent(Event):
    """A fact about one dossier: the Kafka key is the dossier code, so a dossier's events stay in order."""

    dossier_code: str = Field(description="The dossier code, the Kafka key.")

    @property
    def key(self) -> str:
        return self.dossier_code


class Envelope(BaseModel):
    """Metadata carried in Kafka headers, so a consumer can route before parsing the body."""

    model_config = ConfigDict(frozen=True)

    event_id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    event_type: str
    schema_version: int
    correlation_id: str
    occurred_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    producer: str

    HEADER_PREFIX: ClassVar[str] = "motcua-"

    def to_headers(self) -> list[tuple[str, bytes]]:
        data = self.model_dump(mode="json")
        return [(self.HEADER_PREFIX + k.replace("_", "-"), str(v).encode()) for k, v in data.items()]

    @classmethod
    def from_headers(cls, headers: Any) -> Envelope:
        """Raises ``ValueError`` when a header is missing or bad: no field is ever made up, or a
        redelivered event would get a new id and escape de-duplication."""
        values: dict[str, str] = {}
        for name, raw in headers or ():
            if name.startswith(cls.HEADER_PREFIX):
                values[name[len(cls.HEADER_PREFIX) :].replace("-", "_")] = raw.decode() if raw else ""
        missing = [cls.HEADER_PREFIX + f.replace("_", "-") for f in cls.model_fields if f not in values]
        if missing:
            raise ValueError(f"missing envelope headers: {', '.join(missing)}")
        return cls.model_validate(values)
