"""What postal keeps of reception's catalogue: the centres' addresses and the procedures' postal permissions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from motcua_kit.events import CentreChanged, ProcedureChanged


@dataclass(frozen=True)
class Centre:
    code: str
    name: str
    level: str | None
    address: str | None
    phone: str | None
    changed_at: datetime | None = None

    @classmethod
    def of(cls, event: CentreChanged) -> Centre:
        return cls(
            code=event.centre_code,
            name=event.name,
            level=event.level,
            address=event.address,
            phone=event.phone,
            changed_at=event.changed_at,
        )


@dataclass(frozen=True)
class Procedure:
    """A procedure as postal needs it: may it be submitted or returned by post, and its fees (the COD)."""

    code: str
    name: str
    version: int
    postal_intake: bool
    postal_return: bool
    fees_vnd: int = 0
    documents: list[Any] = field(default_factory=list)
    changed_at: datetime | None = None

    @classmethod
    def of(cls, event: ProcedureChanged) -> Procedure:
        p = event.procedure
        fees = sum(int(f.get("amount_vnd", 0)) for f in p.get("fees", []) if isinstance(f, dict))
        live = event.change != "retired" and bool(p.get("active", True))
        return cls(
            code=event.procedure_code,
            name=p.get("name", ""),
            version=event.version,
            postal_intake=bool(p.get("postal_intake")) and live,
            postal_return=bool(p.get("postal_return")) and live,
            fees_vnd=fees,
            documents=p.get("documents", []),
            changed_at=event.changed_at,
        )

    def newer_than(self, other: Procedure | None) -> bool:
        """An older version arriving late changes nothing."""
        return other is None or self.version > other.version
