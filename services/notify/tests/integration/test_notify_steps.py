"""A dossier's later steps and the templates API, against the real broker, database and stand-ins."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import httpx
import pytest
from fastapi import FastAPI

from motcua_devstack.standins.runner import RunningStandins
from motcua_devstack.testing import LocalStack, eventually
from motcua_kit.auth import Role, mint_token
from motcua_kit.events import (
    ApologyIssued,
    DossierEvent,
    DossierReceived,
    DossierResolved,
    ResultDelivered,
    ResultHandedToPost,
    SupplementReceived,
    SupplementRequested,
)
from motcua_kit.outbox import OUTBOX
from notify import store
from notify.settings import NotifySettings

from .conftest import (
    CODE,
    above,
    consumed,
    db_of,
    envelope_for,
    mails_at_mailbox,
    notifications,
    produce,
    settled,
    sms_at_gateway,
)

pytestmark = pytest.mark.integration

MakeEvent = Callable[..., DossierReceived]
PHONE, EMAIL = "0912345678", "dao.nguyen@example.vn"
LOOKUP = "https://dichvucong.khanhhoa.gov.vn/tra-cuu"


def at(day: int, hour: int = 3) -> datetime:
    return datetime(2026, 11, day, hour, 0, tzinfo=UTC)


def supplement() -> SupplementRequested:
    return SupplementRequested(
        dossier_code=CODE, reasons=["Thiếu bản vẽ thiết kế"], requested_at=at(24), requested_by="o", clock_paused=True
    )


def resolved(code: str = CODE) -> DossierResolved:
    return DossierResolved(
        dossier_code=code, agency_code="000.00.11.H56", resolved_at=at(28), resolved_by="l", result_summary="Giấy phép"
    )


def handed_to_post() -> ResultHandedToPost:
    return ResultHandedToPost(
        dossier_code=CODE, tracking_number="EL123456789VN", handed_over_at=at(29), target_date=date(2026, 12, 1)
    )


def delivered() -> ResultDelivered:
    return ResultDelivered(
        dossier_code=CODE, tracking_number="EL123456789VN", delivered_at=at(30), recipient_checked=True
    )


async def step(app: FastAPI, stack: LocalStack, settings: NotifySettings, event: DossierEvent, total: int) -> None:
    """Publishes one event and waits until the dossier's ``total`` notifications are all sent."""
    await produce(stack, settings, event, envelope_for(event))
    docs = await eventually(lambda: settled(app, total), message=f"{event.event_type} told")
    assert all(d["status"] == "sent" for d in docs)


def admin_headers(stack: LocalStack, role: Role = Role.CENTRE_ADMIN) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(stack.keys_dir, role=role, scope='000.00.06.H56')}"}


async def test_a_dossier_is_told_each_step_exactly_once(
    app: FastAPI, settings: NotifySettings, standins: RunningStandins, local_stack: LocalStack, received: MakeEvent
) -> None:
    await step(app, local_stack, settings, received(CODE), 2)
    await step(app, local_stack, settings, supplement(), 4)
    await step(app, local_stack, settings, resolved(), 6)
    await step(app, local_stack, settings, handed_to_post(), 8)
    last = delivered()
    last_envelope = envelope_for(last)
    await produce(local_stack, settings, last, last_envelope)
    docs = await eventually(lambda: settled(app, 10), message="delivery told")

    assert [d["trigger_event_type"] for d in docs if d["channel"] == "sms"] == [
        "DossierReceived",
        "SupplementRequested",
        "DossierResolved",
        "ResultHandedToPost",
        "ResultDelivered",
    ]
    assert {d["template_key"] for d in docs} == {
        "received",
        "supplement_requested",
        "result_ready",
        "handed_to_post",
        "delivered",
    }
    assert all(d["segments"] == 1 for d in docs if d["channel"] == "sms")

    texts = sorted(m["text"] for m in await sms_at_gateway(standins, phone=PHONE))
    assert texts == sorted(
        [
            f"Ho so {CODE} da duoc tiep nhan. Ngay hen tra: 01/12/2026. Tra cuu: {LOOKUP}",
            f"Ho so {CODE} can bo sung giay to. Chi tiet tai: {LOOKUP}",
            f"Ket qua ho so {CODE} da co. Tra cuu: {LOOKUP}",
            f"Ket qua ho so {CODE} da chuyen buu dien, so hieu EL123456789VN, du kien phat 01/12/2026. "
            f"Tra cuu: {LOOKUP}",
            f"Ket qua ho so {CODE} da duoc phat thanh cong. Tra cuu: {LOOKUP}",
        ]
    )
    mails = {m["subject"]: m for m in await mails_at_mailbox(standins, EMAIL)}
    assert sorted(mails) == sorted(
        [
            f"Hồ sơ {CODE} đã được tiếp nhận",
            f"Hồ sơ {CODE} cần bổ sung giấy tờ",
            f"Kết quả hồ sơ {CODE} đã có",
            f"Kết quả hồ sơ {CODE} đã được chuyển cho bưu điện",
            f"Kết quả hồ sơ {CODE} đã được phát thành công",
        ]
    )
    supplement_mail = mails[f"Hồ sơ {CODE} cần bổ sung giấy tờ"]
    assert "Nội dung cần bổ sung: Thiếu bản vẽ thiết kế" in supplement_mail["text"]
    assert "Ngày yêu cầu: 24/11/2026" in supplement_mail["text"]
    assert "Thời điểm phát: 10:00 ngày 30/11/2026" in mails[f"Kết quả hồ sơ {CODE} đã được phát thành công"]["text"]

    duplicates_before = consumed("duplicate", "ResultDelivered")
    await produce(local_stack, settings, last, last_envelope)  # the very same record again
    await eventually(
        lambda: above(lambda: consumed("duplicate", "ResultDelivered"), duplicates_before), message="seen as duplicate"
    )
    assert await notifications(app) == docs
    assert len(await sms_at_gateway(standins, phone=PHONE)) == 5
    assert len(await mails_at_mailbox(standins, EMAIL)) == 5
    assert await db_of(app)[OUTBOX].count_documents({"topic": "notify.notifications"}) == 10


async def test_unknown_dossier_is_skipped_and_an_apology_moves_the_appointment(
    app: FastAPI, settings: NotifySettings, standins: RunningStandins, local_stack: LocalStack, received: MakeEvent
) -> None:
    unknown = resolved("000.00.06.H56-261123-0999")
    envelope = envelope_for(unknown)
    await produce(local_stack, settings, unknown, envelope)
    db = db_of(app)
    skip = await eventually(lambda: db[store.SKIPPED_EVENTS].find_one({"_id": envelope.event_id}), message="skipped")
    assert skip["reason"] == "unknown_dossier" and skip["event_type"] == "DossierResolved"
    assert await notifications(app, "000.00.06.H56-261123-0999") == []

    await step(app, local_stack, settings, received(CODE, notify_channels=["sms"]), 1)
    apology = ApologyIssued(
        dossier_code=CODE,
        agency_code="000.00.11.H56",
        previous_appointment_at=datetime(2026, 11, 30, 17, 30, tzinfo=UTC),
        new_appointment_at=datetime(2026, 12, 7, 17, 30, tzinfo=UTC),
        reason="Cần xác minh",
        issued_at=at(27),
        issued_by="l",
    )
    await step(app, local_stack, settings, apology, 2)
    dossier = await db[store.DOSSIERS].find_one({"_id": CODE})
    assert dossier is not None and dossier["appointment_at"] == apology.new_appointment_at
    texts = [m["text"] for m in await sms_at_gateway(standins, phone=PHONE)]
    assert f"Xin loi: ho so {CODE} chua the tra dung hen. Ngay hen tra moi: 08/12/2026. Tra cuu: {LOOKUP}" in texts
    assert await mails_at_mailbox(standins, EMAIL) == []  # e-mail was not chosen

    back = SupplementReceived(
        dossier_code=CODE,
        received_at=at(28),
        paused_at=at(27),
        paused_working_hours=8,
        appointment_at=datetime(2026, 12, 8, 17, 30, tzinfo=UTC),
        received_by="o",
    )
    await produce(local_stack, settings, back, envelope_for(back))

    async def moved() -> bool:
        doc = await db[store.DOSSIERS].find_one({"_id": CODE})
        return doc is not None and doc["appointment_at"] == back.appointment_at

    await eventually(moved, message="appointment moved by the supplement")
    assert len(await notifications(app)) == 2  # a supplement received is not a message of its own


async def test_templates_can_be_edited_previewed_and_are_used_next(
    app: FastAPI, settings: NotifySettings, standins: RunningStandins, local_stack: LocalStack, received: MakeEvent
) -> None:
    admin = admin_headers(local_stack)
    officer = admin_headers(local_stack, Role.COUNTER_OFFICER)
    edited = {"text": "Ho so {code} da co ket qua, moi nhan tai {centre_name}. {lookup_url}"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://notify") as client:
        assert (await client.get("/templates", headers=officer)).status_code == 403
        assert (await client.put("/templates/result_ready/sms", json=edited, headers=officer)).status_code == 403
        listed = (await client.get("/templates", headers=admin)).json()
        assert len(listed) == 24 and all(t["version"] == 1 and t["builtin"] for t in listed)

        accented = await client.put(
            "/templates/result_ready/sms", json={"text": "Hồ sơ {code} {lookup_url}"}, headers=admin
        )
        unknown = await client.put(
            "/templates/result_ready/sms", json={"text": "{code} {tracking_number} {lookup_url}"}, headers=admin
        )
        braces = await client.put("/templates/result_ready/sms", json={"text": "{code {lookup_url}"}, headers=admin)
        missing = await client.get("/templates/no_such/sms", headers=admin)
        assert [r.status_code for r in (accented, unknown, braces)] == [422, 422, 422]
        assert accented.json()["error"] == "invalid_template" and "GSM-7" in accented.json()["message"]
        assert "unknown placeholder(s) {tracking_number}" in unknown.json()["details"][0]
        assert "unbalanced braces" in braces.json()["details"][0]
        assert missing.status_code == 404

        tried = await client.post("/templates/result_ready/sms/preview", json=edited, headers=admin)
        assert tried.status_code == 200
        assert tried.json() == {
            "key": "result_ready",
            "channel": "sms",
            "version": None,
            "subject": None,
            "text": (
                "Ho so 000.00.06.H56-261123-0001 da co ket qua, moi nhan tai "
                "Trung tam Phuc vu hanh chinh cong tinh Khanh Hoa. https://dichvucong.khanhhoa.gov.vn/tra-cuu"
            ),
            "html": None,
            "segments": 1,
        }
        put = await client.put("/templates/result_ready/sms", json=edited, headers=admin)
        assert put.status_code == 200 and put.json()["version"] == 2 and not put.json()["builtin"]
        assert put.json()["created_by"] == "centre_admin@000.00.06.H56"

        detail = (await client.get("/templates/result_ready/sms", headers=admin)).json()
        assert detail["current"]["text"] == edited["text"] and detail["current"]["version"] == 2
        assert [(v["version"], v["builtin"]) for v in detail["versions"]] == [(1, True), (2, False)]
        assert "centre_name" in detail["placeholders"]
        current = (await client.post("/templates/result_ready/sms/preview", headers=admin)).json()
        assert current["version"] == 2 and current["text"] == tried.json()["text"]
        mail_preview = (await client.post("/templates/result_ready/email/preview", headers=admin)).json()
        assert mail_preview["subject"] == "Kết quả hồ sơ 000.00.06.H56-261123-0001 đã có"
        assert "Kính gửi Nguyễn Thị Đào" in mail_preview["html"] and mail_preview["segments"] is None
        listed = {(t["key"], t["channel"]): t for t in (await client.get("/templates", headers=admin)).json()}
        assert listed[("result_ready", "sms")]["version"] == 2 and listed[("result_ready", "email")]["version"] == 1

    await step(app, local_stack, settings, received(CODE), 2)
    await step(app, local_stack, settings, resolved(), 4)
    [doc] = [d for d in await notifications(app) if d["channel"] == "sms" and d["template_key"] == "result_ready"]
    assert doc["template_version"] == 2
    texts = [m["text"] for m in await sms_at_gateway(standins, phone=PHONE)]
    assert (
        f"Ho so {CODE} da co ket qua, moi nhan tai Trung tam Phuc vu hanh chinh cong tinh Khanh Hoa. {LOOKUP}" in texts
    )
