"""Reception's use cases on the kit's fake unit of work and in-memory repositories: no server."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from motcua_devstack.testing import seed_catalogue
from motcua_kit.auth import Principal, Role
from motcua_kit.consumer import PermanentError
from motcua_kit.errors import Conflict, Invalid, NotFound
from motcua_kit.events import (
    CaseOpened,
    DossierRated,
    DossierReceived,
    DossierRefused,
    DossierResolved,
    DossierWithdrawn,
    PickupHandedOver,
    ResultDelivered,
    ResultReturned,
    SupplementReceived,
    SupplementRequested,
)
from motcua_kit.events.processing import CaseStep
from motcua_kit.testing import FakeUnitOfWork, InMemoryRepository
from motcua_worktime import WorkCalendar
from reception.consumers import pickup_command
from reception.domain.catalogue import CatalogueImport
from reception.domain.dossier import ApplicantInfo, Dossier, DossierDraft, Status, SubmittedDocument
from reception.service import desk, intake, lookup, register
from reception.store import Duplicate, IdempotencyRecord

VN = ZoneInfo("Asia/Ho_Chi_Minh")
CATALOGUE = CatalogueImport.model_validate(seed_catalogue())
CENTRE = "000.00.06.H56"
LAND = "1.012753.000.00.00.H56"
OFFICER = Principal(subject="officer-1", role=Role.COUNTER_OFFICER, scope=CENTRE, name="Phạm Thị Lan")
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=VN)


# --- in-memory repositories ---------------------------------------------------------------------------


class FakeDossiers(InMemoryRepository[Dossier]):
    def key(self, aggregate: Dossier) -> str:
        return aggregate.code

    async def has_pickup(self, pickup_id: str) -> bool:
        return any(d.pickup_id == pickup_id for d in self.items.values())


class _Snapshots:
    data: dict[str, Any]

    def snapshot(self) -> None:
        self._saved = copy.deepcopy(self.data)

    def restore(self) -> None:
        self.data = self._saved


class FakeSequences(_Snapshots):
    def __init__(self) -> None:
        self.data = {}

    async def ensure(self, key: str) -> None:
        self.data.setdefault(key, 0)

    async def next(self, key: str) -> int:
        self.data[key] = self.data.get(key, 0) + 1
        return int(self.data[key])


class FakeIdempotency(_Snapshots):
    def __init__(self) -> None:
        self.data = {}

    async def get(self, key: str) -> IdempotencyRecord | None:
        return self.data.get(key)

    async def add(self, record: IdempotencyRecord, *, at: datetime) -> None:
        if record.key in self.data:
            raise Duplicate(record.key)
        self.data[record.key] = record


class FakeRateLimits:
    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    async def hit(self, key: str, *, window_seconds: int, now: datetime) -> int:
        self.counts[key] = self.counts.get(key, 0) + 1
        return self.counts[key]

    async def hits(self, key: str, *, window_seconds: int, now: datetime) -> int:
        return self.counts.get(key, 0)


class FakeCatalogue:
    """Procedures, centres, agencies, the province and the calendar: read only in these tests."""

    def __init__(self) -> None:
        self.procedures = {p.code: {"_id": p.code, **p.model_dump(), "version": 2} for p in CATALOGUE.procedures}
        self.centres = {c.code: {"_id": c.code, **c.model_dump()} for c in CATALOGUE.centres}
        self.agencies = {a.code: a.name for a in CATALOGUE.agencies}
        self.calendar = WorkCalendar.from_config(CATALOGUE.calendar_config())

    async def get(self, code: str) -> dict[str, Any] | None:  # procedures and centres share codes' shapes
        return self.procedures.get(code) or self.centres.get(code)

    async def names(self, codes: list[str] | None = None) -> dict[str, str]:
        return {c: n for c, n in self.agencies.items() if codes is None or c in codes}

    async def province(self) -> dict[str, Any]:
        return {"_id": "province", "code": "H56", "name": "Tỉnh Khánh Hòa"}

    async def work_calendar(self) -> WorkCalendar:
        return self.calendar


@dataclass
class FakeRepositories:
    dossiers: FakeDossiers
    sequences: FakeSequences
    idempotency: FakeIdempotency
    procedures: FakeCatalogue
    centres: FakeCatalogue
    agencies: FakeCatalogue
    province: FakeCatalogue
    calendar: FakeCatalogue
    rate_limits: FakeRateLimits


def fake_uow(*dossiers: Dossier) -> FakeUnitOfWork[Any]:
    catalogue = FakeCatalogue()
    repos = FakeRepositories(
        FakeDossiers(dossiers),
        FakeSequences(),
        FakeIdempotency(),
        catalogue,
        catalogue,
        catalogue,
        catalogue,
        catalogue,
        FakeRateLimits(),
    )
    return FakeUnitOfWork(repos, producer="reception")


def land_draft(**overrides: Any) -> DossierDraft:
    procedure = next(p for p in CATALOGUE.procedures if p.code == LAND)
    fields: dict[str, Any] = {
        "procedure_code": LAND,
        "applicant": ApplicantInfo("Nguyễn Thị Hoa", "056190001234", "0905123456", "hoa@example.vn", "12 Trần Phú"),
        "documents": tuple(
            SubmittedDocument(d.name, d.originals, d.copies) for d in procedure.documents if d.mandatory
        ),
        "notify_channels": ("sms",),
    }
    return DossierDraft(**(fields | overrides))


def at_counter(**overrides: Any) -> intake.ReceiveAtCounter:
    fields: dict[str, Any] = {
        "officer": OFFICER,
        "draft": land_draft(),
        "lookup_base_url": "http://x/lookup",
        "now": NOW,
    }
    return intake.ReceiveAtCounter(**(fields | overrides))


async def received_dossier() -> tuple[FakeUnitOfWork[Any], Dossier]:
    uow = fake_uow()
    dossier, _ = await intake.receive_at_counter(at_counter(), uow)
    return uow, dossier


# --- intake --------------------------------------------------------------------------------------------


async def test_intake_at_the_counter_registers_and_publishes_the_receipt() -> None:
    uow = fake_uow()
    dossier, created = await intake.receive_at_counter(at_counter(), uow)
    assert created and dossier.code == f"{CENTRE}-261123-0001"
    stored = await uow.repos.dossiers.get(dossier.code)
    assert stored is not None and stored.status == Status.RECEIVED and stored.version == 1
    assert stored.procedure.version == 2 and stored.province_name == "Tỉnh Khánh Hòa"
    assert stored.officer_name == "Phạm Thị Lan" and stored.received_by == "officer-1"
    assert uow.committed == 1
    [event] = uow.events_of(DossierReceived)
    assert event.dossier_code == dossier.code and event.received_at == NOW and event.appointment_at > NOW
    assert event.applicant.phone == "0905123456" and event.received_by == "officer-1"
    second, _ = await intake.receive_at_counter(at_counter(), uow)
    assert second.code == f"{CENTRE}-261123-0002"  # the daily sequence


async def test_an_incomplete_dossier_is_refused_with_every_problem_and_nothing_is_written() -> None:
    uow = fake_uow()
    with pytest.raises(Invalid) as refused:
        await intake.receive_at_counter(at_counter(draft=land_draft(documents=())), uow)
    assert refused.value.code == "missing_documents" and refused.value.details
    assert uow.repos.dossiers.all() == [] and uow.events == []


async def test_intake_with_a_refusal_and_with_a_supplement_request() -> None:
    uow = fake_uow()
    refused, _ = await intake.receive_at_counter(at_counter(outcome="refuse", reasons=("Đang tranh chấp",)), uow)
    assert refused.status == Status.REFUSED and refused.refusal_reasons == ["Đang tranh chấp"]
    asked, _ = await intake.receive_at_counter(
        at_counter(draft=land_draft(documents=()), outcome="request_supplement", reasons=("Thiếu đơn",)), uow
    )
    assert asked.status == Status.SUPPLEMENT_REQUESTED and asked.appointment_at is None
    assert [type(e) for e in uow.events] == [DossierRefused, SupplementRequested]


async def test_a_retried_intake_with_the_same_idempotency_key_returns_the_first_dossier() -> None:
    uow = fake_uow()
    first, created = await intake.receive_at_counter(at_counter(idempotency_key="k-1"), uow)
    again, created_again = await intake.receive_at_counter(at_counter(idempotency_key="k-1"), uow)
    assert created and not created_again and again.code == first.code
    assert len(uow.repos.dossiers.all()) == 1 and len(uow.events_of(DossierReceived)) == 1
    with pytest.raises(Conflict) as reused:
        await intake.receive_at_counter(at_counter(idempotency_key="k-1", draft=land_draft(content="khác")), uow)
    assert reused.value.code == "idempotency_key_reused"


async def test_a_transient_conflict_runs_the_intake_again_and_publishes_once() -> None:
    uow = fake_uow()
    uow.fail_commits(1)
    dossier, _ = await intake.receive_at_counter(at_counter(), uow)
    assert uow.rolled_back == 1 and uow.committed == 1
    assert [d.code for d in uow.repos.dossiers.all()] == [dossier.code]
    assert dossier.code.endswith("-0001")  # the rolled back attempt gave its number back
    assert len(uow.events_of(DossierReceived)) == 1


async def test_a_pickup_is_registered_once_and_counts_from_the_hand_over() -> None:
    handed_over = NOW - timedelta(minutes=5)
    pickup = PickupHandedOver(
        pickup_id="PU-1",
        centre_code=CENTRE,
        procedure_code=LAND,
        applicant={"full_name": "Nguyễn Thị Hoa", "phone": "+84 905 123 456", "address": "12 Trần Phú"},
        documents=[{"name": d.name, "originals": d.originals, "copies": d.copies} for d in land_draft().documents],
        return_channel="post",
        notify_channels=["sms"],
        handed_over_at=handed_over,
        officer="officer-7",
        postal_worker="bd-15",
    )
    uow = fake_uow()
    dossier = await intake.register_pickup(pickup_command(pickup, lookup_base_url="http://x/lookup"), uow)
    assert dossier is not None and dossier.received_at == handed_over and dossier.intake_channel == 3
    assert dossier.applicant.phone == "0905123456"  # normalised at intake: the event carries the national form
    assert await intake.register_pickup(pickup_command(pickup, lookup_base_url="http://x/lookup"), uow) is None
    assert len(uow.events_of(DossierReceived)) == 1
    bad = pickup.model_copy(update={"pickup_id": "PU-2", "centre_code": "000.99.99.H56"})
    with pytest.raises(PermanentError):
        await intake.register_pickup(pickup_command(bad, lookup_base_url="http://x/lookup"), uow)


# --- the desk -----------------------------------------------------------------------------------------


async def test_supplement_request_and_receipt_move_the_appointment() -> None:
    uow = fake_uow()
    dossier, _ = await intake.receive_at_counter(at_counter(now=datetime(2026, 12, 4, 9, 32, tzinfo=VN)), uow)
    paused = datetime(2026, 12, 7, 10, 0, tzinfo=VN)  # Monday; resumed Wednesday: two working days
    asked = await desk.request_supplement(
        desk.RequestSupplement(OFFICER, dossier.code, ("Bản sao mờ",), now=paused), uow
    )
    assert asked.status == Status.SUPPLEMENT_REQUESTED and asked.paused_at == paused
    done = await desk.receive_supplement(
        desk.ReceiveSupplement(
            OFFICER, dossier.code, (SubmittedDocument("Bản sao sổ hộ khẩu", 0, 1),), now=paused + timedelta(days=2)
        ),
        uow,
    )
    assert done.status == Status.RECEIVED and done.paused_working_hours == pytest.approx(16.0)
    assert dossier.appointment_at == datetime(2027, 1, 4, 9, 32, tzinfo=VN)
    assert done.appointment_at == datetime(2027, 1, 6, 9, 32, tzinfo=VN)
    [event] = uow.events_of(SupplementReceived)
    assert event.paused_working_hours == 16.0 and event.appointment_at == done.appointment_at
    stored = await uow.repos.dossiers.get(dossier.code)
    assert stored is not None and stored.version == 3 and stored.paused_at is None


async def test_refusing_a_received_dossier_is_a_conflict_and_changes_nothing() -> None:
    uow, dossier = await received_dossier()
    with pytest.raises(Conflict) as refused:
        await desk.refuse(desk.Refuse(OFFICER, dossier.code, ("Không hợp lệ",)), uow)
    assert refused.value.code == "illegal_transition" and "cannot refuse" in refused.value.message
    stored = await uow.repos.dossiers.get(dossier.code)
    assert stored is not None and stored.status == Status.RECEIVED and stored.version == 1
    assert uow.events_of(DossierRefused) == [] and uow.rolled_back == 1


async def test_withdrawal_by_the_dossiers_centre_only() -> None:
    uow, dossier = await received_dossier()
    other = Principal(subject="officer-9", role=Role.COUNTER_OFFICER, scope="000.17.22.H56")
    with pytest.raises(NotFound):
        await desk.withdraw(desk.Withdraw(other, dossier.code, "Công dân xin rút"), uow)
    withdrawn = await desk.withdraw(desk.Withdraw(OFFICER, dossier.code, "Công dân xin rút", now=NOW), uow)
    assert withdrawn.status == Status.WITHDRAWN and withdrawn.withdrawn_at == NOW
    [event] = uow.events_of(DossierWithdrawn)
    assert event.reason == "Công dân xin rút" and event.recorded_by == "officer-1"
    with pytest.raises(Conflict):
        await desk.withdraw(desk.Withdraw(OFFICER, dossier.code, "again"), uow)


# --- the other services' events -----------------------------------------------------------------------


async def test_events_from_other_services_move_the_status_and_a_post_delivery_returns_the_result() -> None:
    uow, dossier = await received_dossier()
    at = NOW
    await register.follow(
        DossierResolved(
            dossier_code=dossier.code,
            agency_code="000.00.45.H56",
            resolved_at=at + timedelta(days=3),
            resolved_by="leader-1",
            result_summary="Đã cấp",
        ),
        uow,
    )
    await register.follow(
        CaseOpened(
            dossier_code=dossier.code,
            steps=[CaseStep(position=1, agency_code="000.00.13.H56", due_at=at)],
            deadline_at=at,
        ),
        uow,
    )
    stored = await uow.repos.dossiers.get(dossier.code)
    assert stored is not None and stored.status == Status.RESOLVED
    assert any(h.note == "Chuyển xử lý: 000.00.13.H56" for h in stored.history)
    await register.follow(
        ResultDelivered(
            dossier_code=dossier.code,
            tracking_number="EB1VN",
            delivered_at=at + timedelta(days=5),
            recipient_checked=True,
        ),
        uow,
    )
    stored = await uow.repos.dossiers.get(dossier.code)
    assert stored is not None and stored.status == Status.RETURNED
    [returned] = uow.events_of(ResultReturned)
    assert returned.channel == "post" and returned.returned_at == at + timedelta(days=5)


async def test_an_event_for_an_unknown_dossier_is_permanent() -> None:
    uow = fake_uow()
    with pytest.raises(PermanentError):
        await register.follow(
            DossierResolved(
                dossier_code="nope", agency_code="a", resolved_at=NOW, resolved_by="l", result_summary="ok"
            ),
            uow,
        )


async def test_the_citizen_rates_a_returned_dossier_once_with_the_second_factor() -> None:
    uow, dossier = await received_dossier()
    limits = lookup.Limits(per_client_per_minute=30, failures_per_code_per_hour=10)
    factor = lookup.SecondFactor(code=dossier.code, phone="84905123456")
    with pytest.raises(Conflict) as early:
        await lookup.rate(lookup.RateDossier(factor, "satisfied"), uow, limits=limits)
    assert early.value.code == "not_returned"
    await register.follow(
        DossierResolved(
            dossier_code=dossier.code, agency_code="a", resolved_at=NOW, resolved_by="l", result_summary="ok"
        ),
        uow,
    )
    await desk.return_result(desk.ReturnResult(OFFICER, dossier.code, now=NOW + timedelta(hours=1)), uow)
    wrong = lookup.SecondFactor(code=dossier.code, phone="0905000000")
    with pytest.raises(NotFound):
        await lookup.rate(lookup.RateDossier(wrong, "satisfied"), uow, limits=limits)
    rating = await lookup.rate(lookup.RateDossier(factor, "very_satisfied", {"time": "satisfied"}), uow, limits=limits)
    assert rating["overall"] == "very_satisfied"
    [event] = uow.events_of(DossierRated)
    assert event.criteria == {"time": "satisfied"}
    with pytest.raises(Conflict) as twice:
        await lookup.rate(lookup.RateDossier(factor, "satisfied"), uow, limits=limits)
    assert twice.value.code == "already_rated" and len(uow.events_of(DossierRated)) == 1
