"""The rules not walked through in test_notify_steps: each event, through the real broker and stand-ins,
gives its SMS with the right text (and a shipment step that is not 'out for delivery' gives nothing)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI

from motcua_devstack.standins.runner import RunningStandins
from motcua_devstack.testing import LocalStack, eventually
from motcua_kit.events import (
    AgencySupplementRequested,
    DeliveryAttemptFailed,
    DossierEvent,
    DossierReceived,
    DossierRefused,
    DossierWithdrawn,
    PaymentRequested,
    ShipmentReturned,
    ShipmentStatusChanged,
)
from notify.settings import NotifySettings

from .conftest import envelope_for, notifications, produce, settled, sms_at_gateway

pytestmark = pytest.mark.integration

LOOKUP = "https://dichvucong.khanhhoa.gov.vn/tra-cuu"
PHONE = "0912345678"
TRACKING = "EB123456785VN"


def at(day: int, hour: int = 3) -> datetime:
    return datetime(2026, 12, day, hour, tzinfo=UTC)


def code(n: int) -> str:
    return f"000.00.06.H56-261201-{n:04d}"


CASES: list[tuple[str, Callable[[str], DossierEvent], str]] = [
    (
        "refused",
        lambda c: DossierRefused(dossier_code=c, reasons=["Thiếu giấy tờ"], refused_at=at(1), refused_by="o"),
        "Ho so {code} khong duoc tiep nhan. Ly do xem tai: {lookup}",
    ),
    (
        "agency supplement",
        lambda c: AgencySupplementRequested(
            dossier_code=c,
            position=1,
            agency_code="000.00.13.H56",
            reasons=["Bản đồ địa chính"],
            requested_at=at(2),
            requested_by="a",
        ),
        "Ho so {code} can bo sung giay to. Chi tiet tai: {lookup}",
    ),
    (
        "payment",
        lambda c: PaymentRequested(
            dossier_code=c,
            agency_code="000.00.13.H56",
            amount_vnd=1_250_000,
            description="Lệ phí trước bạ",
            requested_at=at(2),
        ),
        "Ho so {code} can nop phi, le phi 1.250.000 dong. Chi tiet tai: {lookup}",
    ),
    (
        "out for delivery",
        lambda c: ShipmentStatusChanged(
            dossier_code=c, tracking_number=TRACKING, status="out_for_delivery", at=at(3), attempt=1
        ),
        "Buu dien dang phat ket qua ho so {code}. Vui long chuan bi CCCD khi nhan. Tra cuu: {lookup}",
    ),
    (
        "delivery failed",
        lambda c: DeliveryAttemptFailed(
            dossier_code=c,
            tracking_number=TRACKING,
            attempt=1,
            reason="Người nhận vắng nhà",
            failed_at=at(3),
            next_attempt_after=at(7, 0),
        ),
        "Phat khong thanh cong lan 1 ket qua ho so {code}. Lan phat tiep theo: 07/12/2026. Tra cuu: {lookup}",
    ),
    (
        "returned",
        lambda c: ShipmentReturned(
            dossier_code=c, tracking_number=TRACKING, returned_at=at(9), reason="Hết số lần phát", attempts=2
        ),
        "Ket qua ho so {code} da chuyen hoan ve Trung tam, moi den nhan tai Trung tam. Tra cuu: {lookup}",
    ),
    (
        "withdrawn",
        lambda c: DossierWithdrawn(dossier_code=c, reason="Công dân xin rút", withdrawn_at=at(2), recorded_by="o"),
        "Ho so {code} da duoc rut theo de nghi cua Ong/Ba. Tra cuu: {lookup}",
    ),
]


async def test_every_remaining_rule_sends_its_sms(
    app: FastAPI,
    settings: NotifySettings,
    standins: RunningStandins,
    local_stack: LocalStack,
    received: Callable[..., DossierReceived],
) -> None:
    for n, (_, make, _) in enumerate(CASES, start=1):
        dossier = code(n)
        first = received(dossier, notify_channels=["sms"])
        await produce(local_stack, settings, first, envelope_for(first))
        await eventually(lambda c=dossier: settled(app, 1, c), message=f"{dossier} received")
        event = make(dossier)
        await produce(local_stack, settings, event, envelope_for(event))
    # A shipment step other than "out for delivery" says nothing.
    quiet = received(code(99), notify_channels=["sms"])
    await produce(local_stack, settings, quiet, envelope_for(quiet))
    in_transit = ShipmentStatusChanged(dossier_code=code(99), tracking_number=TRACKING, status="in_transit", at=at(3))
    await produce(local_stack, settings, in_transit, envelope_for(in_transit))

    for n, (what, _, expected) in enumerate(CASES, start=1):
        dossier = code(n)
        docs = await eventually(lambda c=dossier: settled(app, 2, c), message=f"{what} told")
        texts = {
            m["text"]
            for m in await sms_at_gateway(standins, phone=PHONE)
            if m["client_ref"] in {d["_id"] for d in docs}
        }
        assert expected.format(code=dossier, lookup=LOOKUP) in texts, what
    await eventually(lambda: settled(app, 1, code(99)), message="the quiet dossier received")
    assert len(await notifications(app, code(99))) == 1
