"""The dossier register follows each dossier through the other services' events.

Each handler runs in the consumer's transaction (the inbox makes a redelivery a no-op). Events come
from several topics, so they can be read out of their real order: statuses only move forward
(``next_status``) and every fact lands in the history with the time it happened.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from motcua_kit.consumer import PermanentError
from motcua_kit.events import (
    AgencySupplementRequested,
    ApologyIssued,
    CaseHandedOver,
    CaseOpened,
    DeliveryAttemptFailed,
    DossierResolved,
    NotificationDelivered,
    NotificationFailed,
    NotificationSent,
    PaymentConfirmed,
    PaymentRequested,
    ProcessingStopped,
    ResultDelivered,
    ResultDeliveryPlanned,
    ResultHandedToPost,
    ResultReturned,
    ShipmentReturned,
    StepAssigned,
    StepCompleted,
)
from motcua_kit.events.base import DossierEvent
from motcua_kit.mongo import Document
from reception import metrics, store
from reception.domain.dossier import Status, next_status
from reception.service import Tx

CHANNEL_LABELS = {"sms": "SMS", "email": "thư điện tử"}
RESULT_LABELS = {"early": "trước hạn", "on_time": "đúng hạn", "late": "quá hạn"}


async def _update(tx: Tx, event: DossierEvent, apply: Callable[[Document], Awaitable[None] | None]) -> None:
    dossier = await tx.repos.db[store.DOSSIERS].find_one({"_id": event.dossier_code}, session=tx.repos.session)
    if dossier is None:
        raise PermanentError(f"{event.event_type} for a dossier the register does not know")
    result = apply(dossier)
    if result is not None:
        await result
    await tx.repos.db[store.DOSSIERS].replace_one({"_id": dossier["_id"]}, dossier, session=tx.repos.session)


def _record(
    dossier: Document, event: DossierEvent, at: datetime, by: str, agency: str, note: str, status: Status | None = None
) -> None:
    """Adds a history row; moves the status when the fact calls for it and the order allows it."""
    new = next_status(dossier["status"], status) if status is not None else Status(dossier["status"])
    dossier["status"] = int(new)
    dossier["history"].append(
        {"status": int(new), "at": at, "by": by, "agency": agency, "note": note, "event": event.event_type}
    )
    dossier["history"].sort(key=lambda h: h["at"])


# --- processing -----------------------------------------------------------------------------------


async def case_opened(tx: Tx, e: CaseOpened) -> None:
    first = e.steps[0].agency_code if e.steps else ""
    await _update(
        tx, e, lambda d: _record(d, e, _opened_at(d), "processing", first, f"Chuyển xử lý: {first}", Status.PROCESSING)
    )


def _opened_at(dossier: Document) -> datetime:
    return dossier["received_at"] or dossier["history"][-1]["at"]


async def step_assigned(tx: Tx, e: StepAssigned) -> None:
    await _update(
        tx,
        e,
        lambda d: _record(d, e, e.assigned_at, e.assigned_by, e.agency_code, f"Phân công xử lý bước {e.position}"),
    )


async def step_completed(tx: Tx, e: StepCompleted) -> None:
    note = f"Hoàn thành bước {e.position} ({RESULT_LABELS[e.result]})"
    await _update(tx, e, lambda d: _record(d, e, e.completed_at, e.completed_by, e.agency_code, note))


async def handed_over(tx: Tx, e: CaseHandedOver) -> None:
    note = f"Chuyển hồ sơ từ {e.from_agency} sang {e.to_agency}"
    await _update(tx, e, lambda d: _record(d, e, e.handed_over_at, e.handed_over_by, e.from_agency, note))


async def agency_supplement(tx: Tx, e: AgencySupplementRequested) -> None:
    def apply(d: Document) -> None:
        if Status(d["status"]) not in (Status.RECEIVED, Status.PROCESSING):
            _record(d, e, e.requested_at, e.requested_by, e.agency_code, "Cơ quan yêu cầu bổ sung (không áp dụng)")
            return
        d["supplement_requests"].append(
            {
                "requested_at": e.requested_at,
                "requested_by": e.requested_by,
                "origin": "agency",
                "agency_code": e.agency_code,
                "position": e.position,
                "reasons": e.reasons,
                "clock_running": True,
                "resumed_at": None,
            }
        )
        d["paused_at"] = e.requested_at
        _record(d, e, e.requested_at, e.requested_by, e.agency_code, "; ".join(e.reasons), Status.SUPPLEMENT_REQUESTED)
        metrics.record_supplement(d["centre_code"], "agency")

    await _update(tx, e, apply)


async def payment_requested(tx: Tx, e: PaymentRequested) -> None:
    note = f"Yêu cầu thực hiện nghĩa vụ tài chính: {e.amount_vnd:,} đồng ({e.description})".replace(",", ".")
    await _update(
        tx, e, lambda d: _record(d, e, e.requested_at, "processing", e.agency_code, note, Status.PAYMENT_REQUESTED)
    )


async def payment_confirmed(tx: Tx, e: PaymentConfirmed) -> None:
    await _update(
        tx,
        e,
        lambda d: _record(
            d, e, e.confirmed_at, "processing", e.agency_code, "Đã hoàn thành nghĩa vụ tài chính", Status.PROCESSING
        ),
    )


async def apology(tx: Tx, e: ApologyIssued) -> None:
    def apply(d: Document) -> None:
        d["appointment_at"] = e.new_appointment_at
        d["apology"] = {
            "issued_at": e.issued_at,
            "previous": e.previous_appointment_at,
            "new": e.new_appointment_at,
            "reason": e.reason,
            "agency_code": e.agency_code,
        }
        _record(d, e, e.issued_at, e.issued_by, e.agency_code, f"Xin lỗi và hẹn lại ngày trả kết quả: {e.reason}")

    await _update(tx, e, apply)


async def stopped(tx: Tx, e: ProcessingStopped) -> None:
    def apply(d: Document) -> None:
        d["stopped_at"] = e.stopped_at
        _record(d, e, e.stopped_at, e.stopped_by, e.agency_code, e.reason, Status.STOPPED)

    await _update(tx, e, apply)


async def resolved(tx: Tx, e: DossierResolved) -> None:
    def apply(d: Document) -> None:
        d["resolved_at"] = e.resolved_at
        d["result"] = {"summary": e.result_summary, "document_ref": e.result_document_ref, "agency_code": e.agency_code}
        _record(
            d, e, e.resolved_at, e.resolved_by, e.agency_code, f"Đã xử lý xong: {e.result_summary}", Status.RESOLVED
        )

    await _update(tx, e, apply)


# --- postal ---------------------------------------------------------------------------------------


async def delivery_planned(tx: Tx, e: ResultDeliveryPlanned) -> None:
    await _update(
        tx, e, lambda d: _record(d, e, e.planned_at, "postal", d["centre_code"], "Đăng ký trả kết quả qua bưu chính")
    )


async def handed_to_post(tx: Tx, e: ResultHandedToPost) -> None:
    await _update(
        tx,
        e,
        lambda d: _record(
            d,
            e,
            e.handed_over_at,
            "postal",
            d["centre_code"],
            f"Đã chuyển kết quả cho bưu chính, số hiệu {e.tracking_number}",
        ),
    )


async def attempt_failed(tx: Tx, e: DeliveryAttemptFailed) -> None:
    await _update(
        tx,
        e,
        lambda d: _record(
            d, e, e.failed_at, "postal", d["centre_code"], f"Phát kết quả không thành công lần {e.attempt}: {e.reason}"
        ),
    )


async def delivered(tx: Tx, e: ResultDelivered) -> None:
    async def apply(d: Document) -> None:
        before = Status(d["status"])
        d["returned_at"] = e.delivered_at
        _record(
            d, e, e.delivered_at, "postal", d["centre_code"], "Bưu chính đã phát kết quả cho công dân", Status.RETURNED
        )
        if before is not Status.RETURNED and d["status"] == Status.RETURNED:
            tx.publish(
                ResultReturned(dossier_code=d["_id"], returned_at=e.delivered_at, channel="post", recorded_by="postal")
            )
            metrics.record_returned("post")

    await _update(tx, e, apply)


async def shipment_returned(tx: Tx, e: ShipmentReturned) -> None:
    def apply(d: Document) -> None:
        d["return_channel"] = "counter"
        _record(
            d,
            e,
            e.returned_at,
            "postal",
            d["centre_code"],
            f"Bưu chính chuyển hoàn kết quả về trung tâm sau {e.attempts} lần phát: {e.reason}",
        )

    await _update(tx, e, apply)


# --- notify ---------------------------------------------------------------------------------------


async def notification_sent(tx: Tx, e: NotificationSent) -> None:
    await _update(
        tx,
        e,
        lambda d: _record(
            d, e, e.sent_at, "notify", d["centre_code"], f"Đã gửi {CHANNEL_LABELS[e.channel]} cho công dân"
        ),
    )


async def notification_delivered(tx: Tx, e: NotificationDelivered) -> None:
    label = CHANNEL_LABELS[e.channel]
    note = f"{label[:1].upper()}{label[1:]} đã đến công dân"  # the provider's receipt: on the phone, in the mailbox
    await _update(tx, e, lambda d: _record(d, e, e.delivered_at, "notify", d["centre_code"], note))


async def notification_failed(tx: Tx, e: NotificationFailed) -> None:
    await _update(
        tx,
        e,
        lambda d: _record(
            d, e, e.failed_at, "notify", d["centre_code"], f"Không gửi được {CHANNEL_LABELS[e.channel]} cho công dân"
        ),
    )


HANDLERS: dict[type[Any], Callable[[Tx, Any], Awaitable[None]]] = {
    CaseOpened: case_opened,
    StepAssigned: step_assigned,
    StepCompleted: step_completed,
    CaseHandedOver: handed_over,
    AgencySupplementRequested: agency_supplement,
    PaymentRequested: payment_requested,
    PaymentConfirmed: payment_confirmed,
    ApologyIssued: apology,
    ProcessingStopped: stopped,
    DossierResolved: resolved,
    ResultDeliveryPlanned: delivery_planned,
    ResultHandedToPost: handed_to_post,
    DeliveryAttemptFailed: attempt_failed,
    ResultDelivered: delivered,
    ShipmentReturned: shipment_returned,
    NotificationSent: notification_sent,
    NotificationDelivered: notification_delivered,
    NotificationFailed: notification_failed,
}
