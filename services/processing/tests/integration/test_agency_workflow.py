"""Agencies working a case, against the real local broker and database."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from motcua_devstack.testing import LocalStack, eventually, produce_event, read_topic, running_app, token
from motcua_devstack.testing import sample_dossier_received as sample
from motcua_kit.events import DossierWithdrawn, Envelope, SupplementReceived
from processing.main import create_app
from processing.settings import ProcessingSettings

pytestmark = pytest.mark.integration
VN = ZoneInfo("Asia/Ho_Chi_Minh")
LAND_OFFICE, TAX = "000.00.13.H56", "000.00.45.H56"


class Processing:
    def __init__(self, http: httpx.AsyncClient, settings: ProcessingSettings, stack: LocalStack) -> None:
        self.http, self.settings, self.stack = http, settings, stack

    def as_(self, role: str, agency: str, subject: str | None = None) -> dict[str, str]:
        return token(self.stack, role, agency, subject or f"{role}@{agency}")

    async def post(self, code: str, action: str, headers: dict[str, str], body: Any = None) -> httpx.Response:
        return await self.http.post(f"/cases/{code}/{action}", json=body, headers=headers)

    async def opened(self, event: Any) -> dict[str, Any]:
        await produce_event(self.stack.bootstrap, self.settings.kafka.topic_prefix, event)
        leader = self.as_("agency_leader", LAND_OFFICE)

        async def case() -> dict[str, Any] | None:
            r = await self.http.get(f"/cases/{event.dossier_code}", headers=leader)
            return r.json() if r.status_code == 200 else None

        return await eventually(case, message="case opened")

    async def events(self, code: str) -> list[str]:
        records = await read_topic(
            self.stack.bootstrap, self.settings.kafka.topic_prefix + "processing.cases", idle_seconds=0.3
        )
        return [Envelope.from_headers(r.headers).event_type for r in records if r.key.decode() == code]


@pytest.fixture
async def processing(service_env: Callable[..., str], local_stack: LocalStack) -> AsyncIterator[Processing]:
    service_env("PROCESSING_")
    settings = ProcessingSettings()
    async with running_app(create_app(settings)) as http:
        yield Processing(http, settings, local_stack)


async def test_a_two_agency_chain_from_received_to_resolved(processing: Processing) -> None:
    p = processing
    code = (await p.opened(sample())).get("code")
    land_leader, land_officer = (
        p.as_("agency_leader", LAND_OFFICE),
        p.as_("agency_officer", LAND_OFFICE, "chuyenvien-1"),
    )
    tax_leader, tax_officer = p.as_("agency_leader", TAX), p.as_("agency_officer", TAX, "chuyenvien-9")

    new = (await p.http.get("/queues/new", headers=land_officer)).json()
    assert [c["code"] for c in new["items"]] == [code]
    assert (await p.post(code, "assign", land_leader, {"assignee": "chuyenvien-1"})).status_code == 200
    mine = (await p.http.get("/queues/mine", headers=land_officer)).json()
    assert [c["code"] for c in mine["items"]] == [code]
    work = {"note": "Đã kiểm tra hiện trạng thửa đất", "document_ref": "VPDK/2026/1234"}
    assert (await p.post(code, "work", land_officer, work)).status_code == 200
    assert (await p.post(code, "submit", land_officer)).status_code == 200
    assert (await p.http.get("/queues/approval", headers=land_leader)).json()["total"] == 1
    sent_back = await p.post(code, "send-back", land_leader, {"reason": "Bổ sung trích đo địa chính"})
    assert sent_back.json()["steps"][0]["status"] == "assigned"
    assert (await p.post(code, "submit", land_officer)).status_code == 200
    approved = await p.post(code, "approve", land_leader)
    assert approved.json()["steps"][0]["result"] == "early"
    handed = await p.post(code, "hand-over", land_leader)
    assert handed.json()["current_step"] == 2 and handed.json()["steps"][1]["status"] == "new"
    assert (await p.http.get("/queues/new", headers=tax_officer)).json()["total"] == 1
    assert (await p.http.get("/queues/new", headers=land_officer)).json()["total"] == 0

    assert (await p.post(code, "claim", tax_officer)).json()["steps"][1]["assignee"] == "chuyenvien-9"
    assert (await p.post(code, "submit", tax_officer)).status_code == 200
    assert (await p.post(code, "approve", tax_leader)).status_code == 200
    resolved = await p.post(code, "resolve", tax_leader, {"summary": "Đã cấp Giấy chứng nhận quyền sử dụng đất"})
    assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"

    async def all_events() -> bool:
        return await p.events(code) == [
            "CaseOpened",
            "StepAssigned",
            "StepCompleted",
            "CaseHandedOver",
            "StepAssigned",
            "StepCompleted",
            "DossierResolved",
        ]

    await eventually(all_events, message="the chain's events in order")
    trail = (await p.http.get(f"/cases/{code}/audit", headers=tax_leader)).json()
    assert [(r["action"], r["role"]) for r in trail][:3] == [
        ("assign", "agency_leader"),
        ("record_work", "agency_officer"),
        ("submit", "agency_officer"),
    ]
    assert len(trail) == 11 and trail[-1]["action"] == "resolve" and trail[-1]["agency"] == TAX


@pytest.mark.parametrize(
    ("steps", "action", "role", "agency", "status", "needle"),
    [
        ([], "approve", "agency_leader", LAND_OFFICE, 409, "while it is new"),
        ([], "assign", "agency_officer", LAND_OFFICE, 403, "may not assign"),
        ([], "claim", "agency_officer", TAX, 403, "not yours"),
        ([], "resolve", "agency_leader", LAND_OFFICE, 409, "while it is new"),
        (["claim", "submit", "approve"], "resolve", "agency_leader", LAND_OFFICE, 409, "hand it over"),
        (["claim"], "submit", "agency_leader", LAND_OFFICE, 409, "assigned to someone else"),
    ],
)
async def test_illegal_transitions_are_refused_with_the_reason(
    processing: Processing, steps: list[str], action: str, role: str, agency: str, status: int, needle: str
) -> None:
    p = processing
    code = (await p.opened(sample()))["code"]
    officer = p.as_("agency_officer", LAND_OFFICE, "chuyenvien-1")
    for step in steps:
        headers = p.as_("agency_leader", LAND_OFFICE) if step == "approve" else officer
        assert (await p.post(code, step, headers)).status_code == 200, step
    body = {"summary": "Kết quả"} if action == "resolve" else ({"assignee": "x"} if action == "assign" else None)
    r = await p.post(code, action, p.as_(role, agency), body)
    assert r.status_code == status, r.text
    assert needle in r.json()["detail" if status == 403 and "detail" in r.json() else "message"]


async def test_a_supplement_pause_spanning_a_holiday_moves_every_open_deadline(processing: Processing) -> None:
    p = processing
    received = datetime(2026, 12, 21, 9, 0, tzinfo=VN)
    event = sample(
        received_at=received, clock_started_at=received, appointment_at=datetime(2027, 1, 19, 9, 0, tzinfo=VN)
    )
    case = await p.opened(event)
    code = case["code"]
    before = [datetime.fromisoformat(s["due_at"]) for s in case["steps"]]
    officer = p.as_("agency_officer", LAND_OFFICE, "chuyenvien-1")
    await p.post(code, "claim", officer)
    paused = await p.post(code, "supplement-request", officer, {"reasons": ["Thiếu bản vẽ sơ đồ thửa đất"]})
    assert paused.json()["status"] == "paused_supplement"
    assert (await p.http.get("/queues/paused", headers=officer)).json()["total"] == 1
    assert (await p.post(code, "submit", officer)).status_code == 409  # nothing moves while paused
    # Paused Wed 30/12/2026 10:00, resumed Mon 04/01/2027 10:00: Thu 31/12, then 1/1 (holiday) and the
    # weekend: 2 working days (Wed 10:00 -> Thu 10:00 -> Mon 10:00) = 16 working hours.
    new_appointment = datetime(2027, 1, 21, 9, 0, tzinfo=VN)
    await produce_event(
        p.stack.bootstrap,
        p.settings.kafka.topic_prefix,
        SupplementReceived(
            dossier_code=code,
            received_at=datetime(2027, 1, 4, 10, 0, tzinfo=VN),
            paused_at=datetime(2026, 12, 30, 10, 0, tzinfo=VN),
            paused_working_hours=16.0,
            appointment_at=new_appointment,
            step_position=1,
            received_by="officer-1",
        ),
    )

    async def resumed() -> dict[str, Any] | None:
        r = (await p.http.get(f"/cases/{code}", headers=officer)).json()
        return r if r["status"] == "open" else None

    after = await eventually(resumed, message="case resumed")
    first_due = datetime.fromisoformat(after["steps"][0]["due_at"]).astimezone(VN)
    # The first step's deadline moves two working days later, skipping 1/1 and the weekend.
    assert before[0].astimezone(VN) == datetime(2027, 1, 12, 9, 0, tzinfo=VN)
    assert first_due == datetime(2027, 1, 14, 9, 0, tzinfo=VN)
    assert datetime.fromisoformat(after["steps"][1]["due_at"]) == new_appointment
    assert datetime.fromisoformat(after["deadline_at"]) == new_appointment
    assert (await p.post(code, "submit", officer)).status_code == 200


async def test_payment_stop_and_withdrawal(processing: Processing) -> None:
    p = processing
    leader, officer = p.as_("agency_leader", LAND_OFFICE), p.as_("agency_officer", LAND_OFFICE, "cv-2")
    code = (await p.opened(sample()))["code"]
    asked = await p.post(code, "payment-request", leader, {"amount_vnd": 100000, "description": "Lệ phí cấp giấy"})
    assert asked.json()["status"] == "awaiting_payment"
    assert (await p.post(code, "payment-request", leader, {"amount_vnd": 0, "description": "x"})).status_code == 422
    assert (await p.post(code, "payment-confirmation", officer)).json()["status"] == "open"
    stopped = await p.post(code, "stop", leader, {"reason": "Đất thuộc quy hoạch thu hồi"})
    assert stopped.json()["status"] == "stopped"
    assert (await p.post(code, "claim", officer)).status_code == 409

    other = (await p.opened(sample()))["code"]
    await produce_event(
        p.stack.bootstrap,
        p.settings.kafka.topic_prefix,
        DossierWithdrawn(
            dossier_code=other, reason="Công dân rút hồ sơ", withdrawn_at=datetime.now(UTC), recorded_by="officer-1"
        ),
    )

    async def withdrawn() -> bool:
        return (await p.http.get(f"/cases/{other}", headers=leader)).json()["status"] == "withdrawn"

    await eventually(withdrawn, message="case withdrawn")
    await eventually(
        lambda: _has(p, code, ["CaseOpened", "PaymentRequested", "PaymentConfirmed", "ProcessingStopped"]),
        message="payment and stop events",
    )


async def _has(p: Processing, code: str, expected: list[str]) -> bool:
    return await p.events(code) == expected


async def test_overdue_and_due_soon_queues(processing: Processing) -> None:
    p = processing
    now = datetime.now(UTC)
    late = sample(
        received_at=now - timedelta(days=30),
        clock_started_at=now - timedelta(days=30),
        appointment_at=now - timedelta(days=1),
    )
    code = (await p.opened(late))["code"]
    officer = p.as_("agency_officer", LAND_OFFICE)
    overdue = (await p.http.get("/queues/overdue", headers=officer)).json()
    assert [c["code"] for c in overdue["items"]] == [code]
    assert (await p.http.get("/queues/later", headers=officer)).status_code == 422


async def test_the_province_calendar_from_reception_sets_step_deadlines(processing: Processing) -> None:
    from motcua_kit.events import CalendarChanged
    from motcua_worktime import WorkCalendar

    p = processing
    received = datetime(2026, 12, 7, 9, 0, tzinfo=VN)  # Monday
    fields = {
        "received_at": received,
        "clock_started_at": received,
        "appointment_at": datetime(2027, 1, 5, 9, 0, tzinfo=VN),
    }
    before = await p.opened(sample(**fields))
    config = WorkCalendar().to_config()
    config["overrides"] = [{"date": "2026-12-08", "working": False, "reason": "Nghỉ bù theo quyết định của tỉnh"}]
    await produce_event(
        p.stack.bootstrap,
        p.settings.kafka.topic_prefix,
        CalendarChanged(province_code="H56", config=config, changed_at=datetime.now(UTC)),
    )

    async def second_case() -> dict[str, Any] | None:
        case = await p.opened(sample(**fields))
        return case if case["steps"][0]["due_at"] != before["steps"][0]["due_at"] else None

    after = await eventually(second_case, message="a case opened with the new calendar")
    first_before = datetime.fromisoformat(before["steps"][0]["due_at"]).astimezone(VN)
    first_after = datetime.fromisoformat(after["steps"][0]["due_at"]).astimezone(VN)
    # 120 working hours from Mon 07/12 09:00: Mon 28/12 09:00; with Tue 08/12 off, one working day later.
    assert (first_before, first_after) == (
        datetime(2026, 12, 28, 9, 0, tzinfo=VN),
        datetime(2026, 12, 29, 9, 0, tzinfo=VN),
    )
