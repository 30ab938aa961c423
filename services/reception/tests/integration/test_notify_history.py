"""Notify's events in reception's dossier history, against the real local broker and database."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from motcua_devstack.testing import eventually, produce_event
from motcua_kit.events import NotificationDelivered, NotificationFailed, NotificationSent
from reception import store

from .conftest import Reception, land_request

pytestmark = pytest.mark.integration


async def history(r: Reception, code: str) -> list[dict[str, Any]]:
    resp = await r.http.get(f"/dossiers/{code}", headers=r.officer())
    assert resp.status_code == 200, resp.text
    rows: list[dict[str, Any]] = resp.json()["history"]
    return rows


async def test_sent_delivered_and_failed_messages_show_in_the_history_once_without_moving_the_status(
    reception: Reception,
) -> None:
    created = (await reception.http.post("/dossiers", json=land_request(), headers=reception.officer())).json()
    code, status = created["code"], created["status"]
    at = datetime.fromisoformat(created["received_at"]).replace(microsecond=0)  # the database keeps milliseconds
    stack, prefix = reception.stack.bootstrap, reception.prefix

    def sent(n: str, channel: str, seconds: int) -> NotificationSent:
        return NotificationSent(
            dossier_code=code,
            notification_id=n,
            trigger_event_type="DossierReceived",
            channel=channel,  # type: ignore[arg-type]
            provider="sms_gateway" if channel == "sms" else "smtp",
            sent_at=at + timedelta(seconds=seconds),
        )

    # The SMS receipt is read before the SMS was sent (another partition may lag): the history is by time.
    sms_delivered = NotificationDelivered(
        dossier_code=code, notification_id="n-sms", channel="sms", delivered_at=at + timedelta(seconds=5)
    )
    sms_envelope = await produce_event(stack, prefix, sms_delivered)
    await produce_event(stack, prefix, sent("n-sms", "sms", 2))
    await produce_event(stack, prefix, sent("n-mail", "email", 3))
    await produce_event(
        stack,
        prefix,
        NotificationDelivered(
            dossier_code=code, notification_id="n-mail", channel="email", delivered_at=at + timedelta(seconds=9)
        ),
    )
    await produce_event(
        stack,
        prefix,
        NotificationFailed(
            dossier_code=code,
            notification_id="n-sms-2",
            trigger_event_type="DossierReceived",
            channel="sms",
            status="undelivered",
            reason="handset unreachable",
            failed_at=at + timedelta(seconds=12),
        ),
    )
    expected = [
        "Đã gửi SMS cho công dân",
        "Đã gửi thư điện tử cho công dân",
        "SMS đã đến công dân",
        "Thư điện tử đã đến công dân",
        "Không gửi được SMS cho công dân",
    ]

    async def all_in_history() -> list[dict[str, Any]]:
        rows = [h for h in await history(reception, code) if h["by"] == "notify"]
        return rows if len(rows) == len(expected) else []

    rows = await eventually(all_in_history, message="notify's five events in the history")
    assert [h["note"] for h in rows] == expected
    stored = await reception.rt.db[store.DOSSIERS].find_one({"_id": code})
    assert [h["event"] for h in stored["history"] if h["by"] == "notify"] == [
        "NotificationSent",
        "NotificationSent",
        "NotificationDelivered",
        "NotificationDelivered",
        "NotificationFailed",
    ]
    delivered_row = rows[2]
    assert datetime.fromisoformat(delivered_row["at"]) == sms_delivered.delivered_at
    assert delivered_row["agency"] == created["centre_code"] and delivered_row["status"] == status

    # The same receipt again (a redelivery) adds nothing; the dossier's status never moved.
    await produce_event(stack, prefix, sms_delivered, sms_envelope)
    marker = sent("n-later", "email", 20)
    await produce_event(stack, prefix, marker)

    async def marker_seen() -> list[dict[str, Any]]:
        rows = [h for h in await history(reception, code) if h["by"] == "notify"]
        return rows if len(rows) > len(expected) else []

    rows = await eventually(marker_seen, message="a later event after the redelivered receipt")
    assert [h["note"] for h in rows] == [*expected, "Đã gửi thư điện tử cho công dân"]
    dossier = (await reception.http.get(f"/dossiers/{code}", headers=reception.officer())).json()
    assert dossier["status"] == status
