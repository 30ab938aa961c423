"""Postal against the real local broker and database, with the carrier stand-in on a real port.

Postal itself is served on a real port too, so the carrier's signed callbacks reach it as they would
in production.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from motcua_devstack import servers
from motcua_devstack.standins.carrier import CarrierState, create_carrier_app, sign_webhook
from motcua_devstack.standins.runner import HttpServerHandle, start_http_server
from motcua_devstack.testing import LocalStack, consumers_joined, eventually, produce_event, read_topic, token
from motcua_kit.events import CentreChanged, Event, ProcedureChanged
from postal.main import create_app
from postal.settings import PostalSettings

CARRIER_KEY = "test-carrier-key"
SECRET = "test-webhook-secret"
CENTRE = "000.00.06.H56"
PARTNER = "VNPOST-KHH"
PROCEDURE = "1.012753.000.00.00.H56"


@dataclass
class Carrier:
    handle: HttpServerHandle
    state: CarrierState
    http: httpx.AsyncClient

    async def orders(self, order_number: str | None = None) -> list[dict[str, Any]]:
        params = {"order_number": order_number} if order_number else {}
        return list((await self.http.get("/_control/orders", params=params)).json())

    async def advance(self, tracking: str, status: str, **extra: Any) -> dict[str, Any]:
        r = await self.http.post(f"/_control/orders/{tracking}/advance", json={"status": status, **extra})
        assert r.status_code == 200, r.text
        return dict(r.json())

    async def faults(self, mode: str, count: int | None = None) -> None:
        r = await self.http.post("/_control/faults", json={"mode": mode, "count": count})
        assert r.status_code == 200, r.text

    async def life(self, **changes: Any) -> None:
        r = await self.http.post("/_control/life", json=changes)
        assert r.status_code == 200, r.text


@pytest.fixture
async def carrier() -> AsyncIterator[Carrier]:
    app = create_carrier_app(CARRIER_KEY, webhook_secret=SECRET, auto_advance=False, fault_delay_seconds=1.5)
    handle = await start_http_server(app, port=0, name="carrier")
    try:
        async with httpx.AsyncClient(base_url=handle.url, timeout=10, trust_env=False) as http:
            yield Carrier(handle=handle, state=app.state.standin, http=http)
    finally:
        await handle.stop()


@dataclass
class Postal:
    http: httpx.AsyncClient
    settings: PostalSettings
    stack: LocalStack
    app: Any
    published: list[Any] = field(default_factory=list)

    @property
    def prefix(self) -> str:
        return self.settings.kafka.topic_prefix

    def as_(self, role: str, scope: str, subject: str | None = None) -> dict[str, str]:
        return token(self.stack, role, scope, subject)

    @property
    def officer(self) -> dict[str, str]:
        return token(self.stack, "counter_officer", CENTRE, "officer-lan")

    @property
    def partner(self) -> dict[str, str]:
        return token(self.stack, "postal_partner", PARTNER, "postman-binh")

    async def publish(self, event: Event, envelope: Any = None) -> Any:
        return await produce_event(self.stack.bootstrap, self.prefix, event, envelope)

    async def events(self, event_type: str | None = None, idle: float = 0.5) -> list[tuple[str, dict[str, Any]]]:
        records = await read_topic(self.stack.bootstrap, self.prefix + "postal.shipments", idle_seconds=idle)
        out = []
        for r in records:
            kind = dict(r.headers)["motcua-event-type"].decode()
            if event_type in (None, kind):
                out.append((kind, json.loads(r.value)))
        return out

    async def shipment(self, code: str) -> dict[str, Any]:
        r = await self.http.get(f"/deliveries/{code}", headers=self.officer)
        assert r.status_code == 200, r.text
        return dict(r.json())

    async def wait_status(self, code: str, status: str, timeout: float = 20) -> dict[str, Any]:
        async def check() -> dict[str, Any] | None:
            r = await self.http.get(f"/deliveries/{code}", headers=self.officer)
            return r.json() if r.status_code == 200 and r.json()["status"] == status else None

        return await eventually(check, timeout=timeout, message=f"delivery {code} {status}")

    async def webhook(
        self, payload: dict[str, Any], *, timestamp: int | None = None, secret: str = SECRET
    ) -> httpx.Response:
        body = json.dumps(payload).encode()
        ts = str(int(time.time()) if timestamp is None else timestamp)
        headers = {
            "X-Carrier-Timestamp": ts,
            "X-Carrier-Signature": sign_webhook(secret, ts, body),
            "Content-Type": "application/json",
        }
        return await self.http.post("/carrier/webhooks", content=body, headers=headers)


def centre_changed() -> CentreChanged:
    return CentreChanged(
        centre_code=CENTRE,
        name="Trung tâm Phục vụ hành chính công tỉnh Khánh Hòa",
        level="province",
        address="26 Hoàng Hoa Thám, phường Nha Trang, tỉnh Khánh Hòa",
        phone="0258 3568 686",
        changed_at=datetime.now(UTC),
    )


def procedure_changed(**changes: Any) -> ProcedureChanged:
    procedure = {
        "code": PROCEDURE,
        "name": "Đăng ký đất đai, tài sản gắn liền với đất",
        "postal_intake": True,
        "postal_return": True,
        "fees": [{"name": "Lệ phí", "amount_vnd": 50000}],
        "documents": [{"name": "Đơn đăng ký", "originals": 1, "copies": 0}],
        **changes,
    }
    return ProcedureChanged(
        procedure_code=procedure["code"], version=1, change="created", procedure=procedure, changed_at=datetime.now(UTC)
    )


@pytest.fixture
def postal_settings(service_env: Callable[..., str], carrier: Carrier) -> Callable[..., PostalSettings]:
    def make(**extra: Any) -> PostalSettings:
        port = servers.free_port()
        service_env(
            "POSTAL_",
            PORT=port,
            CARRIER__URL=carrier.handle.url,
            CARRIER__API_KEY=CARRIER_KEY,
            CARRIER__WEBHOOK_SECRET=SECRET,
            CARRIER__WEBHOOK_URL=f"http://127.0.0.1:{port}/carrier/webhooks",
            CARRIER__TIMEOUT_SECONDS=1.0,
            CARRIER__CALL_ATTEMPTS=2,
            CARRIER__CALL_BACKOFF_INITIAL_SECONDS=0.05,
            CARRIER__CALL_BACKOFF_MAX_SECONDS=0.1,
            COMMAND_POLL_SECONDS=0.05,
            COMMAND_BACKOFF_INITIAL_SECONDS=0.1,
            COMMAND_BACKOFF_MAX_SECONDS=0.3,
            TRACKING_SCAN_SECONDS=0.2,
            **extra,
        )
        return PostalSettings()

    return make


@pytest.fixture
async def postal_factory(
    postal_settings: Callable[..., PostalSettings], local_stack: LocalStack
) -> AsyncIterator[Callable[..., Any]]:
    handles: list[HttpServerHandle] = []
    clients: list[httpx.AsyncClient] = []

    async def start(**extra: Any) -> Postal:
        settings = postal_settings(**extra)
        app = create_app(settings)
        handle = await start_http_server(app, port=settings.port, name="postal")
        handles.append(handle)
        await eventually(lambda: consumers_joined(app.state.rt), message="postal consumers joined")
        http = httpx.AsyncClient(base_url=handle.url, timeout=30, trust_env=False)
        clients.append(http)
        postal = Postal(http=http, settings=settings, stack=local_stack, app=app)
        return postal

    yield start
    for c in clients:
        await c.aclose()
    for h in reversed(handles):
        await h.stop()


@pytest.fixture
async def postal(postal_factory: Callable[..., Any]) -> Postal:
    p: Postal = await postal_factory()
    await p.publish(centre_changed())
    await p.publish(procedure_changed())

    async def catalogue_known() -> bool:
        db = p.app.state.rt.db
        return bool(await db.centres.find_one({"_id": CENTRE}) and await db.procedures.find_one({"_id": PROCEDURE}))

    await eventually(catalogue_known, message="centre and procedure known to postal")
    return p


def new_code() -> str:
    return f"{CENTRE}-261123-{uuid.uuid4().int % 9000 + 1000:04d}"
