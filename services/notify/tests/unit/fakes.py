"""In-memory stand-ins for notify's repositories (``store.Repositories``), for use-case tests with no servers."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from motcua_kit.testing import InMemoryRepository
from notify.domain.contacts import DossierContacts, comparable_recipient
from notify.domain.notification import InvalidTransition, Notification
from notify.domain.templates import TemplateVersion


class FakeNotifications(InMemoryRepository[Notification]):
    def key(self, aggregate: Notification) -> Any:
        return aggregate.id

    async def add_if_new(self, n: Notification) -> bool:
        if n.id in self.items:
            return False
        await self.add(n)
        return True

    async def claim_due(self, now: datetime, lease: timedelta) -> Notification | None:
        for stored in self.items.values():
            try:
                stored.claim(now, lease)
            except InvalidTransition:
                continue
            stored.version += 1
            return copy.deepcopy(stored)
        return None

    async def created_between(self, start: datetime, end: datetime) -> AsyncIterator[dict[str, Any]]:
        """One document at a time, as the store's cursor streams them."""
        for n in list(self.items.values()):
            if start <= n.created_at < end:
                yield {
                    "channel": n.channel,
                    "status": n.status,
                    "provider": n.provider,
                    "created_at": n.created_at,
                    "centre_code": n.centre_code,
                }


class _Snapshots:
    """Rollback for the plain dict stores below, as InMemoryRepository does it."""

    def snapshot(self) -> None:
        self._saved = copy.deepcopy({k: v for k, v in vars(self).items() if k != "_saved"})

    def restore(self) -> None:
        saved = self.__dict__.pop("_saved", None)
        if saved is not None:
            self.__dict__.clear()
            self.__dict__.update(saved)


class FakeDossiers(_Snapshots):
    def __init__(self, *known: DossierContacts) -> None:
        self.contacts: dict[str, DossierContacts] = {c.code: c for c in known}

    async def get(self, code: str) -> DossierContacts | None:
        return self.contacts.get(code)

    async def save(self, contacts: DossierContacts, now: datetime) -> None:
        self.contacts[contacts.code] = contacts

    async def set_appointment(self, code: str, appointment_at: datetime, now: datetime) -> None:
        if code in self.contacts:
            self.contacts[code] = replace(self.contacts[code], appointment_at=appointment_at)


class FakeSkippedEvents(_Snapshots):
    def __init__(self) -> None:
        self.skipped: dict[str, dict[str, Any]] = {}

    async def record(self, *, event_id: str, event_type: str, dossier_code: str, reason: str, at: datetime) -> None:
        self.skipped.setdefault(
            event_id, {"dossier_code": dossier_code, "event_type": event_type, "reason": reason, "at": at}
        )


class FakeTemplates(_Snapshots):
    def __init__(self) -> None:
        self.stored: list[TemplateVersion] = []

    async def versions(self, key: str, channel: str) -> list[TemplateVersion]:
        return sorted(
            (v for v in self.stored if (v.key, v.channel) == (key, channel)), key=lambda v: v.template.version
        )

    async def current(self, key: str, channel: str) -> TemplateVersion | None:
        versions = await self.versions(key, channel)
        return versions[-1] if versions else None

    async def every_current(self) -> list[TemplateVersion]:
        latest: dict[tuple[str, str], TemplateVersion] = {}
        for v in sorted(self.stored, key=lambda v: v.template.version):
            latest[(v.key, v.channel)] = v
        return list(latest.values())

    async def add(self, version: TemplateVersion) -> bool:
        if any(
            (v.key, v.channel, v.template.version) == (version.key, version.channel, version.template.version)
            for v in self.stored
        ):
            return False
        self.stored.append(version)
        return True


class FakeOptOuts(_Snapshots):
    def __init__(self) -> None:
        self.entries: dict[tuple[str, str], dict[str, Any]] = {}

    async def contains(self, channel: str, recipient: str) -> bool:
        return (channel, comparable_recipient(channel, recipient)) in self.entries

    async def add(self, channel: str, recipient: str, *, by: str, at: datetime) -> None:
        self.entries.setdefault(
            (channel, comparable_recipient(channel, recipient)), {"recipient": recipient, "by": by, "at": at}
        )

    async def remove(self, channel: str, recipient: str) -> bool:
        return self.entries.pop((channel, comparable_recipient(channel, recipient)), None) is not None


class FakeProviderHealth:
    def __init__(self) -> None:
        self.outcomes: list[tuple[str, bool]] = []

    async def states(self) -> dict[str, dict[str, Any]]:
        return {}

    async def record_outcome(self, provider: str, *, ok: bool, at: datetime, threshold: int, cooldown: Any) -> bool:
        self.outcomes.append((provider, ok))
        return False


class FakeRateWindows:
    def __init__(self, *, open_: bool = True) -> None:
        self.open = open_

    async def take_slot(self, provider: str, at: datetime, limit: int) -> bool:
        return self.open


@dataclass
class FakeRepositories:
    notifications: FakeNotifications = field(default_factory=FakeNotifications)
    dossiers: FakeDossiers = field(default_factory=FakeDossiers)
    skipped_events: FakeSkippedEvents = field(default_factory=FakeSkippedEvents)
    templates: FakeTemplates = field(default_factory=FakeTemplates)
    opt_outs: FakeOptOuts = field(default_factory=FakeOptOuts)
    provider_health: FakeProviderHealth = field(default_factory=FakeProviderHealth)
    rate_windows: FakeRateWindows = field(default_factory=FakeRateWindows)


def fake_repositories(**overrides: Any) -> FakeRepositories:
    return FakeRepositories(**overrides)
