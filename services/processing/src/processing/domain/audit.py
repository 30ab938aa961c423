"""The audit trail: one immutable row per action on a case (who, from which role and agency, when, what)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class AuditEntry:
    id: str
    case: str
    action: str
    by: str
    role: str
    agency: str
    at: datetime
    details: dict[str, Any] = field(default_factory=dict)
