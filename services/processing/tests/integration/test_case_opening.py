"""Processing opens a case from DossierReceived, against the real local servers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from prometheus_client import REGISTRY

from motcua_devstack.testing import (
    LocalStack,
    eventually,
    produce_event,
    read_topic,
    running_app,
    sample_dossier_received,
    token,
)
from motcua_kit.events import CaseOpened, Envelope
from processing.main import create_app
from processing.settings import ProcessingSettings

pytestmark = pytest.mark.integration
VN = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture
async def client(service_env: Callable[..., str]) -> AsyncIterator[tuple[httpx.AsyncClient, ProcessingSettings]]:
    service_env("PROCESSING_")
    settings = ProcessingSettings()
    app = create_app(settings)
    async with running_app(app) as c:
        yield c, settings


async def test_received_dossier_opens_a_case_with_a_deadline_per_step_and_is_idempotent(
    client: tuple[httpx.AsyncClient, ProcessingSettings], local_stack: LocalStack
) -> None:
    http, settings = client
    prefix = settings.kafka.topic_prefix
    event = sample_dossier_received()
    envelope = await produce_event(local_stack.bootstrap, prefix, event)
    leader = token(local_stack, "agency_leader", "000.00.13.H56")

    async def case() -> dict[str, Any] | None:
        r = await http.get(f"/cases/{event.dossier_code}", headers=leader)
        return r.json() if r.status_code == 200 else None

    opened = await eventually(case, message="case opened")
    assert [s["agency_code"] for s in opened["steps"]] == ["000.00.13.H56", "000.00.45.H56"]
    first_due = datetime.fromisoformat(opened["steps"][0]["due_at"]).astimezone(VN)
    # 75% of 160 working hours = 15 working days after Mon 23/11/2026 09:32; Tue 24/11 is Vietnam
    # Culture Day (a day off from 2026), so the first step is due Tue 15/12/2026 09:32.
    assert first_due == datetime(2026, 12, 15, 9, 32, tzinfo=VN)
    assert datetime.fromisoformat(opened["steps"][1]["due_at"]) == event.appointment_at
    assert opened["status"] == "open" and opened["steps"][0]["status"] == "new"

    records = await eventually(lambda: _case_events(local_stack, prefix, event.dossier_code), message="CaseOpened")
    assert Envelope.from_headers(records[0].headers).correlation_id == envelope.correlation_id
    assert CaseOpened.model_validate_json(records[0].value).deadline_at == event.appointment_at

    # The same record delivered again changes nothing.
    group = "processing.dossiers"
    await produce_event(local_stack.bootstrap, prefix, event, envelope)
    await eventually(lambda: _duplicates(group), message="redelivery recognised")
    assert len(await _case_events(local_stack, prefix, event.dossier_code)) == 1
    assert (await http.get(f"/cases/{event.dossier_code}", headers=leader)).json() == opened


async def _case_events(stack: LocalStack, prefix: str, code: str) -> list[Any]:
    records = await read_topic(stack.bootstrap, prefix + "processing.cases", idle_seconds=0.3)
    return [r for r in records if r.key.decode() == code]


async def _duplicates(group: str) -> float:
    return (
        REGISTRY.get_sample_value(
            "motcua_events_consumed_total", {"consumer": group, "event_type": "DossierReceived", "outcome": "duplicate"}
        )
        or 0
    )


async def test_case_is_visible_only_to_agencies_of_its_chain(
    client: tuple[httpx.AsyncClient, ProcessingSettings], local_stack: LocalStack
) -> None:
    http, settings = client
    event = sample_dossier_received()
    await produce_event(local_stack.bootstrap, settings.kafka.topic_prefix, event)
    tax = token(local_stack, "agency_officer", "000.00.45.H56")

    async def visible() -> bool:
        return (await http.get(f"/cases/{event.dossier_code}", headers=tax)).status_code == 200

    await eventually(visible, message="case visible to the second agency of the chain")
    police = token(local_stack, "agency_officer", "000.00.41.H56")
    assert (await http.get(f"/cases/{event.dossier_code}", headers=police)).status_code == 404
    counter = token(local_stack, "counter_officer", "000.00.06.H56")
    assert (await http.get(f"/cases/{event.dossier_code}", headers=counter)).status_code == 403
