"""Hand-over minutes (biên bản giao nhận): prepared by one side at the centre, confirmed by the other.

Results: a counter officer lists what the postal worker takes today and the partner confirms, or the other
way round. Collections: the postal worker lists the dossiers brought, with the papers counted and the fees
collected, and an officer confirms. Once both signed the shipments change hands (see ``Shipment``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal

from motcua_kit.errors import Conflict, Forbidden
from postal.domain.shipment import HandoverKind
from postal.domain.tracking import Party, confirmation_problem

Status = Literal["awaiting_confirmation", "signed", "rejected"]


@dataclass
class HandoverMinutes:
    id: str
    kind: HandoverKind
    centre_code: str
    partner: str
    prepared_by: dict[str, Any]
    """``{subject, role, name, party}``"""
    prepared_at: datetime
    items: list[dict[str, Any]] = field(default_factory=list)
    """``{shipment_id, tracking_number, dossier_code}`` or ``{..., pickup_id, documents, fees_collected_vnd}``"""
    status: Status = "awaiting_confirmation"
    note: str | None = None
    confirmed_by: dict[str, Any] | None = None
    confirmed_at: datetime | None = None
    rejected_by: dict[str, Any] | None = None
    rejected_at: datetime | None = None
    reject_reason: str | None = None
    version: int = 0

    def _check_open(self) -> None:
        if self.status != "awaiting_confirmation":
            raise Conflict(f"these minutes are {self.status} already", code="minutes_closed")

    def confirm(self, signer: dict[str, Any], now: datetime) -> dict[Party, dict[str, Any]]:
        """The side that did not prepare the minutes signs them; returns both signers by party."""
        self._check_open()
        problem = confirmation_problem(self.prepared_by["party"], signer["party"])
        if problem:
            raise Forbidden(problem)
        self.status = "signed"
        self.confirmed_by = signer
        self.confirmed_at = now
        return {self.prepared_by["party"]: self.prepared_by, signer["party"]: signer}

    def reject(self, signer: dict[str, Any], reason: str, now: datetime) -> None:
        """The papers do not match the list: nothing changes hands."""
        self._check_open()
        self.status = "rejected"
        self.rejected_by = signer
        self.rejected_at = now
        self.reject_reason = reason

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
