"""Counter intake against the real local broker and database."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from motcua_devstack.testing import LocalStack, eventually, read_topic, token
from motcua_kit.events import DossierReceived, Envelope
from reception.settings import ReceptionSettings

from .conftest import CENTRE, Reception, land_request

pytestmark = pytest.mark.integration

MARRIAGE = "1.000894.000.00.00.H56"  # no postal return
VN = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture
def client(reception: Reception) -> httpx.AsyncClient:
    return reception.http


async def test_counter_intake_issues_code_and_appointment_and_publishes_event(
    client: httpx.AsyncClient, local_stack: LocalStack
) -> None:
    officer = token(local_stack, "counter_officer", CENTRE, "officer-1")
    correlation = uuid.uuid4().hex
    r = await client.post("/dossiers", json=land_request(), headers=officer | {"X-Correlation-ID": correlation})
    assert r.status_code == 201, r.text
    assert r.headers["X-Correlation-ID"] == correlation
    dossier = r.json()
    today = datetime.now(VN).strftime("%y%m%d")
    assert dossier["code"] == f"{CENTRE}-{today}-0001"
    assert dossier["status"] == 2 and dossier["status_name"] == "Được tiếp nhận"
    appointment = datetime.fromisoformat(dossier["appointment_at"])
    received = datetime.fromisoformat(dossier["received_at"])
    assert (appointment - received).days >= 20  # 20 working days are at least four calendar weeks
    second = await client.post("/dossiers", json=land_request(), headers=officer)
    assert second.json()["code"] == f"{CENTRE}-{today}-0002"

    settings = ReceptionSettings()
    topic = settings.kafka.topic_prefix + "reception.dossiers"

    async def published() -> list[Any]:
        records = await read_topic(local_stack.bootstrap, topic, idle_seconds=0.3)
        return records if len(records) >= 2 else []

    records = await eventually(published, message="two DossierReceived events")
    first = next(r for r in records if r.key.decode() == dossier["code"])
    envelope = Envelope.from_headers(first.headers)
    assert envelope.event_type == "DossierReceived" and envelope.producer == "reception"
    assert envelope.correlation_id == correlation  # the HTTP request's id travels on with the event
    event = DossierReceived.model_validate_json(first.value)
    assert [s.agency_code for s in event.agency_chain] == ["000.00.13.H56", "000.00.45.H56"]
    assert [s.share for s in event.agency_chain] == [0.75, 0.25]
    assert [s.agency_name for s in event.agency_chain] == [
        "Sở Nông nghiệp và Môi trường tỉnh Khánh Hòa",
        "Thuế tỉnh Khánh Hòa",
    ]
    assert event.province_name == "Tỉnh Khánh Hòa"
    assert event.appointment_at == appointment and event.limit_working_hours == 160
    assert event.return_channel == "post" and event.applicant.phone == "0905123456"


async def test_idempotency_key_makes_a_retry_return_the_same_dossier(
    client: httpx.AsyncClient, local_stack: LocalStack
) -> None:
    officer = token(local_stack, "counter_officer", CENTRE, "officer-2") | {"Idempotency-Key": "k-123"}
    first = await client.post("/dossiers", json=land_request(), headers=officer)
    retry = await client.post("/dossiers", json=land_request(), headers=officer)
    assert first.status_code == 201 and retry.status_code == 200
    assert retry.json()["code"] == first.json()["code"]
    other = await client.post("/dossiers", json=land_request(content="khác"), headers=officer)
    assert other.status_code == 409 and other.json()["error"] == "idempotency_key_reused"


@pytest.mark.parametrize(
    ("change", "status", "needle"),
    [
        ({"procedure_code": "9.999999"}, 422, "not in the catalogue"),
        ({"documents": []}, 422, "thiếu giấy tờ bắt buộc"),
        ({"procedure_code": MARRIAGE, "documents": []}, 422, "does not allow returning the result by post"),
        ({"applicant": {"full_name": "Lê Văn An", "phone": "12345"}}, 422, "applicant.phone"),
        ({"applicant": {"full_name": "Lê Văn An", "id_number": "0561"}}, 422, "applicant.id_number"),
        (
            {"applicant": {"full_name": "Lê Văn An", "address": "Nha Trang"}, "notify_channels": ["sms"]},
            422,
            "phone number",
        ),
        ({"return_channel": "post", "applicant": {"full_name": "Lê Văn An"}}, 422, "delivery address"),
        ({"surprise": 1}, 422, "surprise"),
    ],
)
async def test_bad_intake_is_refused_with_a_clear_message(
    client: httpx.AsyncClient, local_stack: LocalStack, change: dict[str, Any], status: int, needle: str
) -> None:
    r = await client.post(
        "/dossiers", json=land_request(**change), headers=token(local_stack, "counter_officer", CENTRE)
    )
    assert r.status_code == status, r.text
    assert needle in r.text


async def test_only_counter_officers_of_a_centre_receive(client: httpx.AsyncClient, local_stack: LocalStack) -> None:
    assert (await client.post("/dossiers", json=land_request())).status_code == 401
    bad = {"Authorization": "Bearer not-a-token"}
    assert (await client.post("/dossiers", json=land_request(), headers=bad)).status_code == 401
    leader = token(local_stack, "agency_leader", "000.00.13.H56")
    assert (await client.post("/dossiers", json=land_request(), headers=leader)).status_code == 403
    stranger = token(local_stack, "counter_officer", "000.99.99.H56")
    r = await client.post("/dossiers", json=land_request(), headers=stranger)
    assert r.status_code == 403 and "not a centre" in r.json()["message"]


async def test_dossier_is_visible_to_its_centre_only(client: httpx.AsyncClient, local_stack: LocalStack) -> None:
    r = await client.post("/dossiers", json=land_request(), headers=token(local_stack, "counter_officer", CENTRE))
    code = r.json()["code"]
    own = await client.get(f"/dossiers/{code}", headers=token(local_stack, "counter_officer", CENTRE))
    assert own.status_code == 200 and own.json()["history"][0]["note"] == "Tiếp nhận hồ sơ tại quầy"
    other = await client.get(f"/dossiers/{code}", headers=token(local_stack, "counter_officer", "000.17.22.H56"))
    assert other.status_code == 404


async def test_health_metrics_and_openapi(client: httpx.AsyncClient) -> None:
    assert (await client.get("/health/live")).json() == {"status": "alive"}
    ready = await client.get("/health/ready")
    assert ready.status_code == 200 and ready.json()["checks"]["database"] and ready.json()["checks"]["broker"]
    assert "motcua_http_requests_total" in (await client.get("/metrics")).text
    assert "/dossiers" in (await client.get("/openapi.json")).json()["paths"]
