"""Staff views of notify against the real broker, database and stand-ins: a dossier's notifications, the totals."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from motcua_devstack.testing import LocalStack, eventually
from motcua_kit.auth import Role, mint_token
from motcua_kit.events import DossierReceived
from notify import store
from notify.settings import NotifySettings

from .conftest import CODE, db_of, envelope_for, produce, settled

pytestmark = pytest.mark.integration

MakeEvent = Callable[..., DossierReceived]
CENTRE, OTHER_CENTRE = "000.00.06.H56", "000.17.22.H56"


def headers(stack: LocalStack, role: Role, scope: str = CENTRE) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(stack.keys_dir, role=role, scope=scope)}"}


def client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://notify")


# --- a dossier's notifications -------------------------------------------------------------------


async def test_a_dossiers_notifications_oldest_first_with_history_masked_and_scoped_to_the_centre(
    app: FastAPI, settings: NotifySettings, local_stack: LocalStack, received: MakeEvent
) -> None:
    await produce(local_stack, settings, received(CODE), envelope_for(received(CODE)))
    docs = await eventually(lambda: settled(app, 2), message="both notifications sent")
    # A delivery receipt as notify records one (a status the view must show as stored).
    sms_id = next(d["_id"] for d in docs if d["channel"] == "sms")
    receipt_at = datetime.now(UTC).replace(microsecond=0)
    await db_of(app)[store.NOTIFICATIONS].update_one(
        {"_id": sms_id},
        {
            "$set": {"status": "delivered", "delivered_at": receipt_at},
            "$push": {"history": {"status": "delivered", "at": receipt_at, "note": "DELIVRD"}},
        },
    )

    url = f"/dossiers/{CODE}/notifications"
    async with client(app) as http:
        officer = await http.get(url, headers=headers(local_stack, Role.COUNTER_OFFICER))
        admin = await http.get(url, headers=headers(local_stack, Role.CENTRE_ADMIN))
        auditor = await http.get(url, headers=headers(local_stack, Role.AUDITOR, "province"))
        other_officer = await http.get(url, headers=headers(local_stack, Role.COUNTER_OFFICER, OTHER_CENTRE))
        other_admin = await http.get(url, headers=headers(local_stack, Role.CENTRE_ADMIN, OTHER_CENTRE))
        agency = await http.get(url, headers=headers(local_stack, Role.AGENCY_OFFICER, "000.00.11.H56"))
        partner = await http.get(url, headers=headers(local_stack, Role.POSTAL_PARTNER, "VNPOST-KHH"))
        unknown = await http.get(
            "/dossiers/000.00.06.H56-261123-0999/notifications", headers=headers(local_stack, Role.AUDITOR)
        )

    assert officer.status_code == admin.status_code == auditor.status_code == 200
    assert officer.json() == admin.json() == auditor.json()
    assert other_officer.status_code == other_admin.status_code == 404
    assert other_officer.json()["error"] == "no_notifications"
    assert agency.status_code == partner.status_code == 403
    assert unknown.status_code == 404

    views = officer.json()
    assert [v["id"] for v in views] == [d["_id"] for d in docs]  # oldest first, as stored
    assert [v["created_at"] for v in views] == sorted(v["created_at"] for v in views)
    by_channel = {v["channel"]: v for v in views}
    sms, mail = by_channel["sms"], by_channel["email"]
    assert sms["recipient"] == "*******678" and mail["recipient"] == "d***@e***"
    assert sms["template_key"] == mail["template_key"] == "received"
    assert sms["centre_code"] == CENTRE and sms["dossier_code"] == CODE
    assert sms["status"] == "delivered" and mail["status"] == "sent"
    assert sms["provider"] == "sms_gateway" and mail["provider"] == "smtp"
    assert sms["attempts"] == mail["attempts"] == 1
    assert sms["sent_at"] and mail["sent_at"] and mail["delivered_at"] is None
    assert datetime.fromisoformat(sms["delivered_at"]) == receipt_at
    assert [h["status"] for h in sms["history"]] == ["pending", "sending", "sent", "delivered"]
    assert [h["status"] for h in mail["history"]] == ["pending", "sending", "sent"]
    assert sms["history"][0]["note"] == "on DossierReceived"
    body = officer.text
    assert "0912345678" not in body and "dao.nguyen" not in body and "Nguyễn" not in body and "Ho so" not in body


# --- the period's totals -------------------------------------------------------------------------


def seeded(
    n: int, *, created_at: datetime, channel: str, status: str, provider: str | None, centre: str = CENTRE
) -> dict[str, Any]:
    """A notification as the sender leaves it (final statuses only: the running sender leaves them alone)."""
    return {
        "_id": f"seed-{n}",
        "dossier_code": f"{centre}-261120-{n:04d}",
        "centre_code": centre,
        "trigger_event_id": f"event-{n}",
        "trigger_event_type": "DossierReceived",
        "trigger_occurred_at": created_at,
        "channel": channel,
        "recipient": "0912345678" if channel == "sms" else "dao.nguyen@example.vn",
        "subject": None,
        "text": "Ho so",
        "html": None,
        "template_key": "received",
        "template_version": 1,
        "segments": 1 if channel == "sms" else None,
        "status": status,
        "attempts": 1,
        "next_attempt_at": created_at,
        "lease_until": None,
        "provider": provider,
        "provider_reference": None,
        "created_at": created_at,
        "sent_at": created_at if status in ("sent", "delivered") else None,
        "last_error": None,
        "history": [store.history_entry("pending", created_at)],
    }


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


SEEDS = [
    seeded(1, created_at=utc(20, 3), channel="sms", status="sent", provider="sms_gateway"),
    seeded(2, created_at=utc(20, 4), channel="email", status="sent", provider="smtp"),
    # 17:30 UTC on the 20th is 00:30 on the 21st in Vietnam.
    seeded(3, created_at=utc(20, 17, 30), channel="sms", status="delivered", provider="sms_gateway"),
    seeded(4, created_at=utc(21, 9), channel="sms", status="failed", provider="sms_gateway"),
    seeded(5, created_at=utc(21, 10), channel="email", status="opted_out", provider=None),
    seeded(6, created_at=utc(20, 5), channel="sms", status="sent", provider="sms_gateway", centre=OTHER_CENTRE),
    # Outside 20-21/11 in Vietnam: 00:00 on the 22nd, 23:59 on the 19th.
    seeded(7, created_at=utc(21, 17), channel="sms", status="sent", provider="sms_gateway"),
    seeded(8, created_at=utc(19, 16, 59), channel="sms", status="sent", provider="sms_gateway"),
]
PERIOD = {"date_from": "2026-11-20", "date_to": "2026-11-21"}


async def test_totals_by_channel_status_provider_and_local_day_for_the_callers_centre(
    app: FastAPI, local_stack: LocalStack
) -> None:
    await db_of(app)[store.NOTIFICATIONS].insert_many([dict(d) for d in SEEDS])
    async with client(app) as http:
        officer = await http.get(
            "/reports/notifications", params=PERIOD, headers=headers(local_stack, Role.COUNTER_OFFICER)
        )
        auditor_all = await http.get(
            "/reports/notifications", params=PERIOD, headers=headers(local_stack, Role.AUDITOR)
        )
        auditor_other = await http.get(
            "/reports/notifications",
            params={**PERIOD, "centre_code": OTHER_CENTRE},
            headers=headers(local_stack, Role.AUDITOR),
        )
        own_centre = await http.get(
            "/reports/notifications",
            params={**PERIOD, "centre_code": CENTRE},
            headers=headers(local_stack, Role.CENTRE_ADMIN),
        )
        other_centre = await http.get(
            "/reports/notifications",
            params={**PERIOD, "centre_code": OTHER_CENTRE},
            headers=headers(local_stack, Role.COUNTER_OFFICER),
        )
        agency = await http.get(
            "/reports/notifications", params=PERIOD, headers=headers(local_stack, Role.AGENCY_LEADER, "000.00.11.H56")
        )

    assert officer.status_code == 200, officer.text
    report = officer.json()
    assert report == {
        "date_from": "2026-11-20",
        "date_to": "2026-11-21",
        "timezone": "Asia/Ho_Chi_Minh",
        "centre_code": CENTRE,
        "total": 5,
        "by_channel": {"email": 2, "sms": 3},
        "by_status": {"delivered": 1, "failed": 1, "opted_out": 1, "sent": 2},
        "by_provider": {"none": 1, "sms_gateway": 3, "smtp": 1},
        "by_day": {"2026-11-20": 2, "2026-11-21": 3},
        "rows": [
            {"day": "2026-11-20", "channel": "email", "status": "sent", "provider": "smtp", "count": 1},
            {"day": "2026-11-20", "channel": "sms", "status": "sent", "provider": "sms_gateway", "count": 1},
            {"day": "2026-11-21", "channel": "email", "status": "opted_out", "provider": "none", "count": 1},
            {"day": "2026-11-21", "channel": "sms", "status": "delivered", "provider": "sms_gateway", "count": 1},
            {"day": "2026-11-21", "channel": "sms", "status": "failed", "provider": "sms_gateway", "count": 1},
        ],
    }
    assert own_centre.status_code == 200 and own_centre.json() == report
    assert auditor_all.status_code == 200
    assert auditor_all.json()["centre_code"] is None and auditor_all.json()["total"] == 6
    assert auditor_all.json()["by_day"] == {"2026-11-20": 3, "2026-11-21": 3}
    assert auditor_other.json()["total"] == 1 and auditor_other.json()["centre_code"] == OTHER_CENTRE
    assert other_centre.status_code == 403 and agency.status_code == 403


async def test_totals_as_csv_with_a_bom_and_vietnamese_headers(app: FastAPI, local_stack: LocalStack) -> None:
    await db_of(app)[store.NOTIFICATIONS].insert_many([dict(d) for d in SEEDS])
    async with client(app) as http:
        response = await http.get(
            "/reports/notifications",
            params={**PERIOD, "format": "csv"},
            headers=headers(local_stack, Role.CENTRE_ADMIN),
        )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == 'attachment; filename="thong-bao-20261120-20261121.csv"'
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows == [
        ["Ngày", "Kênh", "Trạng thái", "Nhà cung cấp", "Số thông báo"],
        ["2026-11-20", "email", "sent", "smtp", "1"],
        ["2026-11-20", "sms", "sent", "sms_gateway", "1"],
        ["2026-11-21", "email", "opted_out", "none", "1"],
        ["2026-11-21", "sms", "delivered", "sms_gateway", "1"],
        ["2026-11-21", "sms", "failed", "sms_gateway", "1"],
        ["Tổng cộng", "", "", "", "5"],
    ]


async def test_a_bad_period_is_refused_clearly(app: FastAPI, local_stack: LocalStack) -> None:
    auditor = headers(local_stack, Role.AUDITOR)
    async with client(app) as http:

        async def get(**params: str) -> httpx.Response:
            return await http.get("/reports/notifications", params=params, headers=auditor)

        reversed_ = await get(date_from="2026-11-21", date_to="2026-11-20")
        too_long = await get(date_from="2025-01-01", date_to="2026-01-02")  # 367 days
        a_leap_year = await get(date_from="2024-01-01", date_to="2024-12-31")  # 366 days
        missing = await get(date_from="2026-11-20")
        not_a_date = await get(date_from="20/11/2026", date_to="2026-11-21")
        bad_format = await get(**PERIOD, format="xlsx")

    assert reversed_.status_code == 422 and reversed_.json()["error"] == "period_reversed"
    assert "2026-11-21" in reversed_.json()["message"]
    assert too_long.status_code == 422 and too_long.json()["error"] == "period_too_long"
    assert "367 days" in too_long.json()["message"]
    assert a_leap_year.status_code == 200 and a_leap_year.json()["total"] == 0
    assert missing.status_code == not_a_date.status_code == bad_format.status_code == 422
