"""What the use cases share: the rules from settings, the calendar copy, who may see what."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from motcua_kit.auth import Principal, Role
from motcua_kit.errors import Forbidden
from motcua_worktime import WorkCalendar
from postal.domain.shipment import Policy
from postal.domain.transit import TransitRules
from postal.settings import PostalSettings


@dataclass(frozen=True)
class Rules:
    """The settings the rules need, in one value passed to the use cases."""

    carrier: str
    partner: str
    transit: TransitRules
    max_attempts: int
    redelivery_working_days: int

    @classmethod
    def from_settings(cls, s: PostalSettings) -> Rules:
        return cls(
            carrier=s.carrier.code,
            partner=s.carrier.partner,
            transit=s.transit,
            max_attempts=s.max_delivery_attempts,
            redelivery_working_days=s.redelivery_working_days,
        )

    @property
    def policy(self) -> Policy:
        return Policy(
            transit=self.transit, max_attempts=self.max_attempts, redelivery_working_days=self.redelivery_working_days
        )


def now_utc() -> datetime:
    return datetime.now(UTC)


class CalendarSource(Protocol):
    async def config(self) -> dict[str, Any] | None: ...


async def load_calendar(replica: CalendarSource) -> WorkCalendar:
    """The province's calendar as reception last published it; the statutory one until then."""
    config = await replica.config()
    return WorkCalendar.from_stored(config)


def check_partner(principal: Principal, rules: Rules) -> None:
    """A postal partner token must carry this deployment's partner scope."""
    if principal.scope != rules.partner:
        raise Forbidden(f"your scope {principal.scope} is not the postal partner {rules.partner}")


class Scoped(Protocol):
    @property
    def partner(self) -> str: ...

    @property
    def centre_code(self) -> str: ...


def can_see(viewer: Principal, item: Scoped) -> bool:
    """A shipment or hand-over minutes: the partner sees its own, officers their centre's, auditors all."""
    if viewer.role is Role.AUDITOR:
        return True
    if viewer.role is Role.POSTAL_PARTNER:
        return viewer.scope == item.partner
    return viewer.scope == item.centre_code
