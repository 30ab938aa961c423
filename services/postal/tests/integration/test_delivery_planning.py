"""Postal acts only on dossiers whose result goes back by post."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

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
from motcua_kit.events import ResultDeliveryPlanned
from postal.main import create_app
from postal.settings import PostalSettings

pytestmark = pytest.mark.integration


@pytest.fixture
async def client(service_env: Callable[..., str]) -> AsyncIterator[tuple[httpx.AsyncClient, PostalSettings]]:
    service_env("POSTAL_")
    settings = PostalSettings()
    app = create_app(settings)
    async with running_app(app) as c:
        yield c, settings


def handled(outcome: str) -> float:
    return (
        REGISTRY.get_sample_value(
            "motcua_events_consumed_total",
            {"consumer": "postal.dossiers", "event_type": "DossierReceived", "outcome": outcome},
        )
        or 0.0
    )


async def test_postal_return_plans_a_delivery_once_and_counter_return_is_ignored(
    client: tuple[httpx.AsyncClient, PostalSettings], local_stack: LocalStack
) -> None:
    http, settings = client
    prefix = settings.kafka.topic_prefix
    by_post = sample_dossier_received()
    at_counter = sample_dossier_received(return_channel="counter", delivery_address=None)
    handled_before = handled("handled")
    envelope = await produce_event(local_stack.bootstrap, prefix, by_post)
    await produce_event(local_stack.bootstrap, prefix, at_counter)
    partner = token(local_stack, "postal_partner", "VNPOST-KHH")

    async def planned() -> dict[str, Any] | None:
        r = await http.get(f"/deliveries/{by_post.dossier_code}", headers=partner)
        return r.json() if r.status_code == 200 else None

    delivery = await eventually(planned, message="delivery planned")
    assert delivery["status"] == "awaiting_result" and delivery["centre_code"] == "000.00.06.H56"
    await eventually(lambda: _at_least(handled("handled") - handled_before, 2), message="both events handled")
    assert (await http.get(f"/deliveries/{at_counter.dossier_code}", headers=partner)).status_code == 404

    records = [r for r in await read_topic(local_stack.bootstrap, prefix + "postal.shipments", idle_seconds=0.5)]
    assert [r.key.decode() for r in records] == [by_post.dossier_code]
    assert ResultDeliveryPlanned.model_validate_json(records[0].value).destination.startswith("12 Trần Phú")

    duplicates_before = handled("duplicate")
    await produce_event(local_stack.bootstrap, prefix, by_post, envelope)
    await eventually(lambda: _at_least(handled("duplicate") - duplicates_before, 1), message="redelivery seen")
    records = await read_topic(local_stack.bootstrap, prefix + "postal.shipments", idle_seconds=0.5)
    assert len(records) == 1


async def _at_least(value: float, floor: float) -> bool:
    return value >= floor
