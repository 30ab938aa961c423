"""In-memory repositories for processing's use cases (no servers), on the kit's fake unit of work."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest

from motcua_kit.events import CalendarChanged
from motcua_kit.testing import DuplicateKey, FakeUnitOfWork, InMemoryRepository
from motcua_worktime import WorkCalendar
from processing.domain.audit import AuditEntry
from processing.domain.case import ALERTABLE, Case
from processing.domain.workflow import CaseStatus


class FakeCases(InMemoryRepository[Case]):
    def key(self, case: Case) -> str:
        return case.code

    async def near_deadline(self, horizon: datetime) -> list[Case]:
        return [
            c
            for c in self.all()
            if c.status == CaseStatus.OPEN
            and c.current.status in ALERTABLE
            and (c.current.due_at <= horizon or c.deadline_at <= horizon)
        ]

    async def for_performance(self, *, start: datetime, end: datetime, agency: str | None) -> list[Case]:
        return [
            c
            for c in self.all()
            if (c.is_open or any(s.completed_at and start <= s.completed_at <= end for s in c.steps))
            and (agency is None or c.in_chain(agency))
        ]

    async def open_steps(self, now: datetime) -> tuple[dict[str, int], dict[str, int]]:
        opened: dict[str, int] = {}
        overdue: dict[str, int] = {}
        for c in self.all():
            if c.is_open:
                opened[c.current.agency_code] = opened.get(c.current.agency_code, 0) + 1
                if c.current.due_at < now:
                    overdue[c.current.agency_code] = overdue.get(c.current.agency_code, 0) + 1
        return opened, overdue


class FakeAudit:
    """Insert-only rows, unique by id (as the collection's _id)."""

    def __init__(self) -> None:
        self.rows: dict[str, AuditEntry] = {}
        self._snapshot: dict[str, AuditEntry] | None = None

    async def add(self, entry: AuditEntry) -> None:
        if entry.id in self.rows:
            raise DuplicateKey(entry.id)
        self.rows[entry.id] = entry

    async def trail(self, case: str) -> list[AuditEntry]:
        return sorted((r for r in self.rows.values() if r.case == case), key=lambda r: (r.at, r.id))

    def snapshot(self) -> None:
        self._snapshot = dict(self.rows)

    def restore(self) -> None:
        if self._snapshot is not None:
            self.rows = self._snapshot
        self._snapshot = None


class FakeCalendar:
    def __init__(self, calendar: WorkCalendar | None = None) -> None:
        self.calendar = calendar or WorkCalendar()
        self.kept: CalendarChanged | None = None

    async def config(self) -> dict[str, Any] | None:
        return copy.deepcopy(self.kept.config) if self.kept else None

    async def work_calendar(self) -> WorkCalendar:
        return WorkCalendar.from_config(self.kept.config) if self.kept else self.calendar

    async def apply(self, event: CalendarChanged) -> bool:
        if self.kept is not None and self.kept.changed_at > event.changed_at:
            return False
        self.kept = event
        return True


@dataclass
class FakeRepositories:
    cases: FakeCases = field(default_factory=FakeCases)
    audit: FakeAudit = field(default_factory=FakeAudit)
    calendar: FakeCalendar = field(default_factory=FakeCalendar)


@pytest.fixture
def repos() -> FakeRepositories:
    return FakeRepositories()


@pytest.fixture
def uow(repos: FakeRepositories) -> FakeUnitOfWork[FakeRepositories]:
    return FakeUnitOfWork(repos, producer="processing")
