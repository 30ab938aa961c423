"""A dossier's whole life at reception, against the real local broker and database."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from motcua_devstack.testing import eventually, produce_event, read_topic
from motcua_kit.auth import Principal, Role
from motcua_kit.events import (
    CaseOpened,
    DossierResolved,
    Envelope,
    NotificationSent,
    PickupHandedOver,
    ResultDelivered,
    SupplementReceived,
)
from motcua_kit.events.processing import CaseStep
from reception import store
from reception.api.schemas import DocumentIn, IntakeRequest
from reception.service import desk, intake

from .conftest import CENTRE, LAND, OTHER_CENTRE, Reception, land_request

pytestmark = pytest.mark.integration
VN = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=VN)


async def events_of(r: Reception, code: str, topic: str = "reception.dossiers") -> list[str]:
    records = await read_topic(r.stack.bootstrap, r.prefix + topic, idle_seconds=0.3)
    return [Envelope.from_headers(x.headers).event_type for x in records if x.key.decode() == code]


async def wait_events(r: Reception, code: str, expected: list[str]) -> None:
    async def check() -> bool:
        return await events_of(r, code) == expected

    await eventually(check, message=f"events {expected} of {code}")


async def dossier(r: Reception, code: str) -> dict[str, Any]:
    resp = await r.http.get(f"/dossiers/{code}", headers=r.officer())
    assert resp.status_code == 200, resp.text
    return resp.json()


async def test_online_submission_waits_for_an_officer_then_the_clock_starts(reception: Reception) -> None:
    body = land_request(centre_code=CENTRE, return_channel="counter")
    submitted = await reception.http.post("/online/dossiers", json=body)
    assert submitted.status_code == 201, submitted.text
    code = submitted.json()["code"]
    assert submitted.json()["status"] == 1 and len(submitted.json()["lookup_code"]) == 8
    before = await dossier(reception, code)
    assert before["status_name"] == "Mới đăng ký" and before["appointment_at"] is None
    assert before["intake_channel"] == 2

    received = await reception.http.post(f"/dossiers/{code}/receive", headers=reception.officer())
    assert received.status_code == 200, received.text
    assert received.json()["status"] == 2 and received.json()["appointment_at"]
    again = await reception.http.post(f"/dossiers/{code}/receive", headers=reception.officer())
    assert again.status_code == 409 and "status 2" in again.json()["message"]
    await wait_events(reception, code, ["DossierSubmitted", "DossierReceived"])


async def test_online_submission_to_an_unknown_centre_is_refused_clearly(reception: Reception) -> None:
    r = await reception.http.post("/online/dossiers", json=land_request(centre_code="000.99.99.H56"))
    assert r.status_code == 422 and "not a centre" in r.json()["message"]


async def test_counter_supplement_before_receipt_then_complete_dossier_is_received(reception: Reception) -> None:
    body = land_request(documents=[], outcome="request_supplement", reasons=["Thiếu đơn đăng ký theo Mẫu 04/ĐK"])
    r = await reception.http.post("/dossiers", json=body, headers=reception.officer())
    assert r.status_code == 201, r.text
    code = r.json()["code"]
    assert r.json()["status"] == 5 and r.json()["appointment_at"] is None
    partial = await reception.http.post(
        f"/dossiers/{code}/supplement",
        json={"documents": [{"name": "Giấy tờ khác", "originals": 1}]},
        headers=reception.officer(),
    )
    assert partial.status_code == 422 and "thiếu giấy tờ bắt buộc" in partial.text
    complete = await reception.http.post(
        f"/dossiers/{code}/supplement", json={"documents": land_request()["documents"]}, headers=reception.officer()
    )
    assert complete.status_code == 200, complete.text
    assert complete.json()["status"] == 2 and complete.json()["appointment_at"]
    await wait_events(reception, code, ["SupplementRequested", "SupplementReceived", "DossierReceived"])


async def test_a_supplement_pause_moves_the_appointment_by_the_paused_working_time(reception: Reception) -> None:
    officer = Principal(subject="officer-1", role=Role.COUNTER_OFFICER, scope=CENTRE)
    request = IntakeRequest.model_validate(land_request(return_channel="counter"))
    received_at = datetime(2026, 12, 4, 9, 32, tzinfo=VN)  # Friday
    received, _ = await intake.receive_at_counter(
        intake.ReceiveAtCounter(officer, request.draft(), lookup_base_url="http://x/lookup", now=received_at),
        reception.rt.uow(),
    )
    doc = store.document_of(received)
    code, appointment = doc["_id"], doc["appointment_at"]
    # Paused Monday 10:00, resumed Wednesday 10:00: two working days, over nothing else.
    await desk.request_supplement(
        desk.RequestSupplement(
            officer, code, ("Bản sao sổ hộ khẩu bị mờ",), now=datetime(2026, 12, 7, 10, 0, tzinfo=VN)
        ),
        reception.rt.uow(),
    )
    assert (await dossier(reception, code))["status"] == 5
    resumed = store.document_of(
        await desk.receive_supplement(
            desk.ReceiveSupplement(
                officer,
                code,
                (DocumentIn(name="Bản sao sổ hộ khẩu", copies=1).document(),),
                note=None,
                now=datetime(2026, 12, 9, 10, 0, tzinfo=VN),
            ),
            reception.rt.uow(),
        )
    )
    assert resumed["status"] == 2
    assert resumed["paused_working_hours"] == pytest.approx(16.0)
    # 160 working hours from Fri 04/12 09:32 end on Mon 04/01/2027 09:32 (1/1 is a holiday);
    # the 16 paused hours move it two working days later.
    assert appointment.astimezone(VN) == datetime(2027, 1, 4, 9, 32, tzinfo=VN)
    assert resumed["appointment_at"].astimezone(VN) == datetime(2027, 1, 6, 9, 32, tzinfo=VN)

    records = await read_topic(reception.stack.bootstrap, reception.prefix + "reception.dossiers", idle_seconds=0.3)
    event = next(
        SupplementReceived.model_validate_json(x.value)
        for x in records
        if x.key.decode() == code and Envelope.from_headers(x.headers).event_type == "SupplementReceived"
    )
    assert event.paused_working_hours == 16.0 and event.appointment_at == resumed["appointment_at"]


async def test_refusal_withdrawal_and_illegal_transitions(reception: Reception) -> None:
    refused = await reception.http.post(
        "/dossiers",
        json=land_request(outcome="refuse", reasons=["Thửa đất đang có tranh chấp"]),
        headers=reception.officer(),
    )
    assert refused.status_code == 201 and refused.json()["status"] == 3
    assert refused.json()["refusal_reasons"] == ["Thửa đất đang có tranh chấp"]
    received = (await reception.http.post("/dossiers", json=land_request(), headers=reception.officer())).json()
    code = received["code"]
    bad = await reception.http.post(
        f"/dossiers/{code}/refuse", json={"reasons": ["Không hợp lệ"]}, headers=reception.officer()
    )
    assert bad.status_code == 409 and "cannot refuse" in bad.json()["message"]
    early_return = await reception.http.post(f"/dossiers/{code}/return", json={}, headers=reception.officer())
    assert early_return.status_code == 409
    other = await reception.http.post(
        f"/dossiers/{code}/withdraw", json={"reason": "Công dân xin rút"}, headers=reception.officer(OTHER_CENTRE)
    )
    assert other.status_code == 404
    withdrawn = await reception.http.post(
        f"/dossiers/{code}/withdraw", json={"reason": "Công dân xin rút hồ sơ"}, headers=reception.officer()
    )
    assert withdrawn.json()["status"] == 7
    again = await reception.http.post(
        f"/dossiers/{code}/withdraw", json={"reason": "Công dân xin rút hồ sơ"}, headers=reception.officer()
    )
    assert again.status_code == 409
    empty = await reception.http.post(f"/dossiers/{code}/refuse", json={"reasons": []}, headers=reception.officer())
    assert empty.status_code == 422 and "reasons" in empty.json()["message"]
    await wait_events(reception, code, ["DossierReceived", "DossierWithdrawn"])


async def test_the_register_follows_processing_and_the_counter_return_then_the_citizen_rates(
    reception: Reception,
) -> None:
    created = (await reception.http.post("/dossiers", json=land_request(), headers=reception.officer())).json()
    code = created["code"]
    at = datetime.fromisoformat(created["received_at"])
    # The resolution is read before the case opening (another topic partition may lag): no going back.
    await produce_event(
        reception.stack.bootstrap,
        reception.prefix,
        DossierResolved(
            dossier_code=code,
            agency_code="000.00.45.H56",
            resolved_at=at + timedelta(days=3),
            resolved_by="leader-1",
            result_summary="Đã cấp Giấy chứng nhận",
        ),
    )
    opened = CaseOpened(
        dossier_code=code, steps=[CaseStep(position=1, agency_code="000.00.13.H56", due_at=at)], deadline_at=at
    )
    envelope = await produce_event(reception.stack.bootstrap, reception.prefix, opened)

    async def resolved_with_case() -> bool:
        d = await dossier(reception, code)
        return d["status"] == 9 and any(h["note"] == "Chuyển xử lý: 000.00.13.H56" for h in d["history"])

    await eventually(resolved_with_case, message="resolved, and the late case opening in the history")
    await produce_event(reception.stack.bootstrap, reception.prefix, opened, envelope)  # redelivered: no change
    await produce_event(
        reception.stack.bootstrap,
        reception.prefix,
        NotificationSent(
            dossier_code=code,
            notification_id="n1",
            trigger_event_type="DossierReceived",
            channel="sms",
            provider="sms-gateway",
            sent_at=at + timedelta(seconds=2),
        ),
    )

    async def sms_in_history() -> bool:
        return any(h["note"] == "Đã gửi SMS cho công dân" for h in (await dossier(reception, code))["history"])

    await eventually(sms_in_history, message="notification in the history")
    history = (await dossier(reception, code))["history"]
    assert sum(h["note"] == "Chuyển xử lý: 000.00.13.H56" for h in history) == 1
    assert [h["at"] for h in history] == sorted(h["at"] for h in history)

    returned = await reception.http.post(
        f"/dossiers/{code}/return", json={"recipient_name": "Nguyễn Thị Hoa"}, headers=reception.officer()
    )
    assert returned.status_code == 200 and returned.json()["status"] == 10
    rating = {"code": code, "phone": "0905 123 456", "overall": "very_satisfied", "criteria": {"attitude": "satisfied"}}
    assert (await reception.http.post("/lookup/rating", json=rating)).status_code == 201
    twice = await reception.http.post("/lookup/rating", json=rating)
    assert twice.status_code == 409 and twice.json()["error"] == "already_rated"
    await wait_events(reception, code, ["DossierReceived", "ResultReturned", "DossierRated"])


async def test_postal_hand_over_registers_the_dossier_with_the_clock_from_the_signed_minutes(
    reception: Reception,
) -> None:
    handed_over_at = datetime.now(UTC).replace(microsecond=123000) - timedelta(minutes=5)  # MongoDB keeps ms
    body = land_request()
    pickup = PickupHandedOver(
        pickup_id="PU-0001",
        centre_code=CENTRE,
        procedure_code=LAND,
        applicant=body["applicant"],
        documents=body["documents"],
        return_channel="post",
        delivery_address="12 Trần Phú, phường Nha Trang",
        notify_channels=["sms"],
        handed_over_at=handed_over_at,
        officer="officer-7",
        postal_worker="bd-15",
    )
    envelope = await produce_event(reception.stack.bootstrap, reception.prefix, pickup)
    incomplete = pickup.model_copy(update={"pickup_id": "PU-0002", "documents": []})
    await produce_event(reception.stack.bootstrap, reception.prefix, incomplete)
    await produce_event(reception.stack.bootstrap, reception.prefix, pickup, envelope)  # redelivered

    async def registered() -> list[dict[str, Any]]:
        page = await reception.http.get(
            "/dossiers", params={"applicant": "nguyen thi hoa"}, headers=reception.officer()
        )
        items = page.json()["items"]
        return items if len(items) == 2 else []

    items = await eventually(registered, message="both pickups registered")
    by_status = {i["status"]: i for i in items}
    assert set(by_status) == {1, 2}
    complete = await dossier(reception, by_status[2]["code"])
    assert complete["intake_channel"] == 3
    assert datetime.fromisoformat(complete["received_at"]) == handed_over_at
    waiting = await dossier(reception, by_status[1]["code"])
    assert "cần cán bộ kiểm tra" in waiting["history"][0]["note"]

    code = complete["code"]
    await produce_event(
        reception.stack.bootstrap,
        reception.prefix,
        DossierResolved(
            dossier_code=code,
            agency_code="000.00.45.H56",
            resolved_at=datetime.now(UTC),
            resolved_by="leader-1",
            result_summary="Đã cấp Giấy chứng nhận",
        ),
    )
    await produce_event(
        reception.stack.bootstrap,
        reception.prefix,
        ResultDelivered(
            dossier_code=code, tracking_number="EB123456785VN", delivered_at=datetime.now(UTC), recipient_checked=True
        ),
    )

    async def returned_by_post() -> bool:
        return (await dossier(reception, code))["status"] == 10

    await eventually(returned_by_post, message="returned by post")
    await wait_events(reception, code, ["DossierReceived", "ResultReturned"])


async def test_lookup_needs_a_second_factor_and_never_tells_which_part_was_wrong(
    reception_env: Any, local_stack: Any
) -> None:
    from motcua_devstack.testing import running_app, seed_catalogue, token
    from reception.main import create_app
    from reception.settings import ReceptionSettings

    reception_env(LOOKUP_PER_CLIENT_PER_MINUTE=12, LOOKUP_FAILURES_PER_CODE_PER_HOUR=3)
    app = create_app(ReceptionSettings())
    async with running_app(app) as http:
        await http.post("/catalogue/import", json=seed_catalogue(), headers=token(local_stack, "centre_admin", CENTRE))
        officer = token(local_stack, "counter_officer", CENTRE)
        created = (await http.post("/dossiers", json=land_request(), headers=officer)).json()
        code, lookup_code = created["code"], created["lookup_code"]

        by_phone = await http.post("/lookup", json={"code": code, "phone": "84905123456"})
        assert by_phone.status_code == 200, by_phone.text
        view = by_phone.json()
        assert view["status_name"] == "Được tiếp nhận" and view["appointment_at"] == created["appointment_at"]
        assert "applicant" not in view and "0905123456" not in by_phone.text
        assert (await http.post("/lookup", json={"code": code, "lookup_code": lookup_code.lower()})).status_code == 200
        assert (await http.post("/lookup", json={"code": code, "id_number": "056190001234"})).status_code == 200
        assert (await http.post("/lookup", json={"code": code})).status_code == 422  # never by code alone

        wrong_code = await http.post("/lookup", json={"code": code[:-4] + "9999", "phone": "0905123456"})
        wrong_phone = await http.post("/lookup", json={"code": code, "phone": "0905000000"})
        assert wrong_code.status_code == wrong_phone.status_code == 404
        assert wrong_code.json() == wrong_phone.json()
        for _ in range(3):
            await http.post("/lookup", json={"code": code, "phone": "0905000001"})
        locked = await http.post("/lookup", json={"code": code, "phone": "0905123456"})
        assert locked.status_code == 404 and locked.json() == wrong_phone.json()  # too many guesses: no answer

        statuses = [(await http.post("/lookup", json={"code": code, "phone": "0"})).status_code for _ in range(6)]
        assert statuses[-1] == 429
        limited = await http.post("/lookup", json={"code": code, "phone": "0"})
        assert limited.headers["Retry-After"] == "60"


async def test_search_is_scoped_to_the_officers_centre(reception: Reception) -> None:
    own = (await reception.http.post("/dossiers", json=land_request(), headers=reception.officer())).json()["code"]
    other_body = land_request(
        applicant={"full_name": "Đặng Văn Đức", "phone": "0912345678"},
        notify_channels=["sms"],
        return_channel="counter",
    )
    other = await reception.http.post("/dossiers", json=other_body, headers=reception.officer(OTHER_CENTRE))
    assert other.status_code == 201, other.text
    page = (await reception.http.get("/dossiers", params={"applicant": "đặng"}, headers=reception.officer())).json()
    assert page["total"] == 0
    mine = (await reception.http.get("/dossiers", params={"phone": "84905123456"}, headers=reception.officer())).json()
    assert [i["code"] for i in mine["items"]] == [own]
    theirs = await reception.http.get(
        "/dossiers", params={"applicant": "dang van duc"}, headers=reception.officer(OTHER_CENTRE)
    )
    assert theirs.json()["items"][0]["applicant_name"] == "Đặng Văn Đức"
    forbidden = await reception.http.get("/dossiers", params={"centre": OTHER_CENTRE}, headers=reception.officer())
    assert forbidden.status_code == 403
    auditor = await reception.http.get("/dossiers", headers=reception.staff("auditor", "H56"))
    assert auditor.json()["total"] == 2
    bad = await reception.http.get("/dossiers", params={"status": 11}, headers=reception.officer())
    assert bad.status_code == 422 and "status" in bad.json()["message"]


async def test_codes_never_repeat_nor_skip_with_parallel_intakes_on_two_replicas(
    reception: Reception, local_stack: Any
) -> None:
    from motcua_devstack.testing import running_app
    from reception.main import create_app

    second = create_app(reception.settings)
    async with running_app(second) as other_replica:
        officers = [reception.officer(subject=f"officer-{i}") for i in range(12)]

        async def intake_on(client: Any, i: int) -> str:
            r = await client.post("/dossiers", json=land_request(), headers=officers[i % len(officers)])
            assert r.status_code == 201, r.text
            return str(r.json()["code"])

        codes = await asyncio.gather(*(intake_on(reception.http if i % 2 else other_replica, i) for i in range(24)))
    day = datetime.now(VN).strftime("%y%m%d")
    assert sorted(codes) == [f"{CENTRE}-{day}-{n:04d}" for n in range(1, 25)]
