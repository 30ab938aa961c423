"""Home collection: requested by a citizen, ordered, collected, handed over, registered at reception."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from motcua_devstack.testing import LocalStack, eventually, read_topic, running_app, seed_catalogue, token
from reception.main import create_app as create_reception
from reception.settings import ReceptionSettings

from .conftest import CENTRE, PROCEDURE, Carrier, Postal

pytestmark = pytest.mark.integration

VN = ZoneInfo("Asia/Ho_Chi_Minh")
NOT_POSTAL = "1.000894.000.00.00.H56"  # marriage: both spouses in person


@pytest.fixture
async def reception(service_env: Callable[..., str], local_stack: LocalStack) -> AsyncIterator[httpx.AsyncClient]:
    service_env("RECEPTION_")
    app = create_reception(ReceptionSettings())
    async with running_app(app) as http:
        r = await http.post(
            "/catalogue/import", json=seed_catalogue(), headers=token(local_stack, "centre_admin", CENTRE)
        )
        assert r.status_code == 200, r.text
        yield http


def pickup_request(**changes: Any) -> dict[str, Any]:
    start = (datetime.now(VN) + timedelta(days=1)).replace(hour=8, minute=0, second=0, microsecond=0)
    body: dict[str, Any] = {
        "centre_code": CENTRE,
        "procedure_code": PROCEDURE,
        "applicant": {"full_name": "Phạm Văn Đức", "id_number": "056190004321", "phone": "0914 222 333"},
        "address": {"street": "45 Lê Thánh Tôn", "commune": "phường Nha Trang", "province": "tỉnh Khánh Hòa"},
        "window_start": start.isoformat(),
        "window_end": (start + timedelta(hours=3)).isoformat(),
        "contact_phone": "0914 222 333",
        "return_channel": "post",
        "notify_channels": ["sms"],
        "content": "Đăng ký biến động đất đai",
    }
    body.update(changes)
    return body


def documents_of(code: str) -> list[dict[str, Any]]:
    procedure = next(p for p in seed_catalogue()["procedures"] if p["code"] == code)
    return [
        {"name": d["name"], "originals": d["originals"], "copies": d["copies"]}
        for d in procedure["documents"]
        if d["mandatory"]
    ]


async def test_a_collection_from_request_to_the_dossier_registered_at_reception(
    reception: httpx.AsyncClient, postal_factory: Any, carrier: Carrier
) -> None:
    postal: Postal = await postal_factory()

    async def catalogue_known() -> bool:
        db = postal.app.state.rt.db
        return await db.procedures.count_documents({}) >= 11 and bool(await db.centres.find_one({"_id": CENTRE}))

    await eventually(catalogue_known, message="reception's catalogue reached postal")

    # Bad requests say what is wrong.
    r = await postal.http.post("/pickups", json=pickup_request(procedure_code=NOT_POSTAL))
    assert r.status_code == 422 and r.json()["error"] == "postal_intake_not_allowed"
    r = await postal.http.post("/pickups", json=pickup_request(window_end=pickup_request()["window_start"]))
    assert r.status_code == 422 and "at least one hour" in r.json()["message"]
    r = await postal.http.post("/pickups", json=pickup_request(contact_phone="0123 456 789"))
    assert r.status_code == 422 and r.json()["error"] == "invalid_phone"
    r = await postal.http.post("/pickups", json=pickup_request(address={"street": "45 Lê Thánh Tôn"}))
    assert r.status_code == 422 and "commune" in r.json()["message"]

    # A citizen asks, twice with the same key: one pickup.
    r = await postal.http.post("/pickups", json=pickup_request(), headers={"Idempotency-Key": "citizen-req-1"})
    assert r.status_code == 201, r.text
    pickup_id = r.json()["pickup_id"]
    again = await postal.http.post("/pickups", json=pickup_request(), headers={"Idempotency-Key": "citizen-req-1"})
    assert again.status_code == 201 and again.json()["pickup_id"] == pickup_id

    async def ordered() -> dict[str, Any] | None:
        doc = (await postal.http.get(f"/pickups/{pickup_id}", headers=postal.partner)).json()
        return doc if doc["status"] == "created" else None

    tracking = (await eventually(ordered, message="pickup ordered"))["tracking_number"]
    [order] = await carrier.orders(pickup_id)
    assert order["purpose"] == "pickup" and order["cod_amount"] > 0
    assert order["sender"]["phone"] == "0914222333" and order["recipient"]["address"] == "26 Hoàng Hoa Thám"
    window_day = pickup_request()["window_start"][:10]
    day = (
        await postal.http.get("/partner/day", params={"centre_code": CENTRE, "day": window_day}, headers=postal.partner)
    ).json()
    assert pickup_id in [c["pickup_id"] for c in day["collections"]]
    before = (
        await postal.http.get(
            "/partner/day", params={"centre_code": CENTRE, "day": "2026-01-02"}, headers=postal.partner
        )
    ).json()
    assert pickup_id not in [c["pickup_id"] for c in before["collections"]]

    for status in ("picked_up", "in_transit", "delivered"):
        await carrier.advance(tracking, status)

    async def arrived() -> dict[str, Any] | None:
        doc = (await postal.http.get(f"/pickups/{pickup_id}", headers=postal.officer)).json()
        return doc if doc["status"] == "arrived" else None

    shipment = await eventually(arrived, message="collected dossier at the centre")
    assert shipment["target_date"]  # J = the collection day, +1 for the appointment slip
    manifest = (await postal.http.get("/manifest", headers=postal.officer)).json()
    assert [c["pickup_id"] for c in manifest["collections_to_receive"]] == [pickup_id]

    # The postal worker lists what was brought; the officer counts and signs.
    minutes = {
        "kind": "pickup",
        "centre_code": CENTRE,
        "pickups": [{"pickup_id": pickup_id, "documents": documents_of(PROCEDURE), "fees_collected_vnd": 50000}],
        "signer_name": "Lê Văn Bình",
    }
    r = await postal.http.post("/handovers", json=minutes, headers=postal.partner)
    assert r.status_code == 201, r.text
    twice = await postal.http.post("/handovers", json=minutes, headers=postal.partner)
    assert twice.status_code == 409 and twice.json()["error"] == "already_listed"
    signed = await postal.http.post(
        f"/handovers/{r.json()['id']}/confirm", json={"signer_name": "Trần Thị Lan"}, headers=postal.officer
    )
    assert signed.status_code == 200, signed.text
    handed_at = datetime.fromisoformat(signed.json()["confirmed_at"])

    kinds = [k for k, e in await postal.events() if e.get("pickup_id") == pickup_id]
    assert kinds == ["PickupRequested", "PickupCollected", "PickupHandedOver"]

    async def registered() -> dict[str, Any] | None:
        for record in await read_topic(postal.stack.bootstrap, postal.prefix + "reception.dossiers", idle_seconds=0.3):
            body = json.loads(record.value)
            if body.get("pickup_id") == pickup_id and dict(record.headers)["motcua-event-type"] == b"DossierReceived":
                return dict(body)
        return None

    received = await eventually(registered, message="reception registered the collected dossier")
    assert received["intake_channel"] == 3 and received["return_channel"] == "post"
    assert datetime.fromisoformat(received["clock_started_at"]) >= handed_at.replace(microsecond=0)
    dossier = await reception.get(
        f"/dossiers/{received['dossier_code']}", headers=token(postal.stack, "counter_officer", CENTRE)
    )
    assert dossier.status_code == 200 and dossier.json()["status"] == 2
