"""The legal clock: alerts once across replicas, the apology that moves every deadline, Mẫu 05."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from pypdf import PdfReader

from motcua_devstack.testing import LocalStack, eventually, produce_event, read_topic, running_app, token
from motcua_devstack.testing import sample_dossier_received as sample
from motcua_kit.events import Envelope
from processing.main import create_app
from processing.service.clock import ScanDeadlines, scan_deadlines
from processing.settings import ProcessingSettings

pytestmark = pytest.mark.integration
LAND_OFFICE, TAX = "000.00.13.H56", "000.00.45.H56"


@pytest.fixture
async def two_replicas(
    service_env: Callable[..., str], local_stack: LocalStack
) -> AsyncIterator[tuple[httpx.AsyncClient, Any, Any, ProcessingSettings]]:
    service_env("PROCESSING_", CLOCK_INTERVAL_SECONDS=3600)  # scans are driven by the test
    settings = ProcessingSettings()
    first, second = create_app(settings), create_app(settings)
    async with running_app(first) as http, running_app(second):
        yield http, first.state.rt, second.state.rt, settings


def scan(rt: Any, *, warn_working_hours: float) -> Any:
    """One deadline scan on the replica's runtime, in a unit of work of its own."""
    return scan_deadlines(ScanDeadlines(warn_working_hours=warn_working_hours), rt.uow())


async def open_case(http: httpx.AsyncClient, stack: LocalStack, prefix: str, **fields: Any) -> dict[str, Any]:
    event = sample(**fields)
    await produce_event(stack.bootstrap, prefix, event)
    leader = token(stack, "agency_leader", LAND_OFFICE)

    async def case() -> dict[str, Any] | None:
        r = await http.get(f"/cases/{event.dossier_code}", headers=leader)
        return r.json() if r.status_code == 200 else None

    return await eventually(case, message="case opened")


async def alert_events(stack: LocalStack, prefix: str) -> list[tuple[str, str]]:
    records = await read_topic(stack.bootstrap, prefix + "processing.cases", idle_seconds=0.3)
    kinds = ("DeadlineApproaching", "StepOverdue")
    pairs = [(r.key.decode(), Envelope.from_headers(r.headers).event_type) for r in records]
    return [p for p in pairs if p[1] in kinds]


async def test_two_replicas_scanning_together_alert_once(two_replicas: Any, local_stack: LocalStack) -> None:
    http, rt1, rt2, settings = two_replicas
    prefix = settings.kafka.topic_prefix
    now = datetime.now(UTC)
    late = await open_case(
        http,
        local_stack,
        prefix,
        received_at=now - timedelta(days=40),
        clock_started_at=now - timedelta(days=40),
        appointment_at=now - timedelta(days=2),
    )
    soon = await open_case(
        http,
        local_stack,
        prefix,
        received_at=now - timedelta(days=27),
        clock_started_at=now - timedelta(days=27),
        appointment_at=now + timedelta(days=40),
    )
    # A step due within the warning window: move its deadline in the database to half an hour from now.
    calendar_hour = now + timedelta(minutes=30)
    await rt1.db.cases.update_one(
        {"_id": soon["code"]}, {"$set": {"steps.0.due_at": calendar_hour, "current.due_at": calendar_hour}}
    )
    # Four scans at once on two replicas, then two more: each alert must be published exactly once.
    counts = await asyncio.gather(*(scan(rt, warn_working_hours=400) for rt in (rt1, rt2, rt1, rt2)))
    counts += await asyncio.gather(scan(rt1, warn_working_hours=400), scan(rt2, warn_working_hours=400))

    async def alerts() -> list[tuple[str, str]]:
        found = await alert_events(local_stack, prefix)
        return found if len(found) >= 3 else []

    found = sorted(await eventually(alerts, message="alerts published"))
    assert found == sorted(
        [
            (late["code"], "StepOverdue"),
            (soon["code"], "DeadlineApproaching"),
            (soon["code"], "DeadlineApproaching"),  # the step, then the dossier's own deadline within 400 h
        ]
    )
    assert sum(counts) == len(found)


async def test_an_apology_moves_every_deadline_once_and_not_too_late(
    two_replicas: Any, local_stack: LocalStack
) -> None:
    http, _, _, settings = two_replicas
    prefix = settings.kafka.topic_prefix
    case = await open_case(http, local_stack, prefix)
    code = case["code"]
    land_leader, tax_leader = token(local_stack, "agency_leader", LAND_OFFICE), token(local_stack, "agency_leader", TAX)
    new_date = (datetime.fromisoformat(case["deadline_at"]) + timedelta(days=7)).isoformat()
    body = {"reason": "Cần xác minh nguồn gốc đất với Ủy ban nhân dân phường", "new_appointment_at": new_date}
    assert (await http.post(f"/cases/{code}/apology", json=body, headers=tax_leader)).status_code == 403
    officer = token(local_stack, "agency_officer", LAND_OFFICE)
    assert (await http.post(f"/cases/{code}/apology", json=body, headers=officer)).status_code == 403
    earlier = {**body, "new_appointment_at": case["deadline_at"]}
    assert (await http.post(f"/cases/{code}/apology", json=earlier, headers=land_leader)).status_code == 422
    # A new appointment without its offset is refused as bad input (it cannot be compared with the deadline).
    naive = {**body, "new_appointment_at": datetime.fromisoformat(new_date).replace(tzinfo=None).isoformat()}
    no_offset = await http.post(f"/cases/{code}/apology", json=naive, headers=land_leader)
    assert no_offset.status_code == 422, no_offset.text
    issued = await http.post(f"/cases/{code}/apology", json=body, headers=land_leader)
    assert issued.status_code == 200, issued.text
    assert issued.json()["deadline_at"] == issued.json()["steps"][-1]["due_at"]
    assert datetime.fromisoformat(issued.json()["deadline_at"]) == datetime.fromisoformat(new_date)
    again = await http.post(f"/cases/{code}/apology", json=body, headers=land_leader)
    assert again.status_code == 409 and again.json()["error"] == "apology_exists"
    pdf = await http.get(f"/cases/{code}/apology.pdf", headers=land_leader)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ" in text and code in text and "Nguyễn Thị Hoa" in text

    now = datetime.now(UTC)
    tight = await open_case(
        http,
        local_stack,
        prefix,
        received_at=now - timedelta(days=30),
        clock_started_at=now - timedelta(days=30),
        appointment_at=now + timedelta(hours=2),
    )
    late = await http.post(f"/cases/{tight['code']}/apology", json=body, headers=land_leader)
    assert late.status_code == 409 and "at least one working day" in late.json()["message"]


async def test_the_process_control_slip_has_a_row_per_hand_over(two_replicas: Any, local_stack: LocalStack) -> None:
    http, _, _, settings = two_replicas
    code = (await open_case(http, local_stack, settings.kafka.topic_prefix))["code"]
    land_leader, tax_leader = token(local_stack, "agency_leader", LAND_OFFICE), token(local_stack, "agency_leader", TAX)
    for action, who in (
        ("claim", land_leader),
        ("submit", land_leader),
        ("approve", land_leader),
        ("hand-over", land_leader),
        ("claim", tax_leader),
        ("submit", tax_leader),
        ("approve", tax_leader),
    ):
        r = await http.post(f"/cases/{code}/{action}", headers=who)
        assert r.status_code == 200, (action, r.text)
    r = await http.post(f"/cases/{code}/resolve", json={"summary": "Đã cấp giấy chứng nhận"}, headers=tax_leader)
    assert r.status_code == 200
    slip = (await http.get(f"/cases/{code}/slip", headers=tax_leader)).json()
    assert [(row["from_unit"].split(" - ")[0], row["to_unit"].split(" - ")[0]) for row in slip] == [
        ("Bộ phận một cửa", LAND_OFFICE),
        (LAND_OFFICE, TAX),
        (TAX, "Bộ phận một cửa"),
    ]
    assert [row["result"] for row in slip] == [None, "early", "early"]
    pdf = await http.get(f"/cases/{code}/slip.pdf", headers=tax_leader)
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ" in text and "trước hạn" in text
    no_apology = await http.get(f"/cases/{code}/apology.pdf", headers=tax_leader)
    assert no_apology.status_code == 409

    auditor = token(local_stack, "auditor", "H56")
    today = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date().isoformat()  # the report's days are local
    params = {"date_from": today, "date_to": today}
    mine = (await http.get("/reports/performance", params=params, headers=land_leader)).json()["rows"]
    assert [(r["key"], r["handled"], r["early"], r["backlog"]) for r in mine] == [
        (LAND_OFFICE, 1, 1, 0),
        ("total", 1, 1, 0),
    ]
    everyone = (await http.get("/reports/performance", params=params, headers=auditor)).json()["rows"]
    assert [r["key"] for r in everyone] == [LAND_OFFICE, TAX, "total"] and everyone[-1]["handled"] == 2
    as_csv = await http.get("/reports/performance", params=params | {"format": "csv"}, headers=auditor)
    assert as_csv.headers["content-type"].startswith("text/csv") and "Số bước đã xử lý" in as_csv.text
    bad = await http.get("/reports/performance", params={"date_from": today, "date_to": "2020-01-01"}, headers=auditor)
    assert bad.status_code == 422 and "after it ends" in bad.json()["message"]
    # At most 366 days, both ends included (a leap year is the longest period), as in the other services.
    leap_year = {"date_from": "2024-01-01", "date_to": "2024-12-31"}
    assert (await http.get("/reports/performance", params=leap_year, headers=auditor)).status_code == 200
    one_more = {"date_from": "2024-01-01", "date_to": "2025-01-01"}
    too_long = await http.get("/reports/performance", params=one_more, headers=auditor)
    assert too_long.status_code == 422 and too_long.json()["error"] == "period_too_long"
    officer = token(local_stack, "agency_officer", LAND_OFFICE)
    assert (await http.get("/reports/performance", params=params, headers=officer)).status_code == 403
