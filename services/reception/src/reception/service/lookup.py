"""The citizen's view: lookup by dossier code plus a second factor, and the rating after return.

A wrong code and a wrong second factor get the same answer, with the same work done, and both
are rate-limited (per client, and per code for wrong factors), so codes cannot be enumerated
and factors cannot be guessed.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from motcua_kit.errors import AppError, Conflict, NotFound
from motcua_kit.events import DossierRated
from motcua_kit.mongo import Document
from reception import metrics, store
from reception.api.schemas import RatingIn, SecondFactor
from reception.domain.dossier import STATUS_NAMES, Status, normalise_phone
from reception.service import Tx, transaction

NOT_FOUND = "Không tìm thấy hồ sơ với mã hồ sơ và thông tin đã nhập"
PUBLIC_EVENTS = {
    None,
    "CaseOpened",
    "AgencySupplementRequested",
    "PaymentRequested",
    "PaymentConfirmed",
    "ApologyIssued",
    "ProcessingStopped",
    "DossierResolved",
    "ResultHandedToPost",
    "DeliveryAttemptFailed",
    "ResultDelivered",
    "ShipmentReturned",
}


class TooManyRequests(AppError):
    status_code = 429
    code = "too_many_requests"


@dataclass(frozen=True)
class Limits:
    per_client_per_minute: int
    failures_per_code_per_hour: int


async def _limit_client(db: AsyncDatabase[Document], client: str, limits: Limits, now: datetime) -> None:
    if await store.hit(db, f"lookup:client:{client}", window_seconds=60, now=now) > limits.per_client_per_minute:
        metrics.record_lookup("limited")
        raise TooManyRequests(
            "too many lookups from this address; try again in a minute", headers={"Retry-After": "60"}
        )


async def find_for_citizen(
    db: AsyncDatabase[Document], factor: SecondFactor, *, client: str, limits: Limits, now: datetime | None = None
) -> Document:
    """The dossier, if the code and the second factor match; otherwise the one and only 404."""
    at = now or datetime.now(UTC)
    await _limit_client(db, client, limits, at)
    code = factor.code.strip()
    dossier = await store.get_dossier(db, code)
    matched = _matches(dossier, factor)
    failures_key = f"lookup:fail:{code}"
    if not matched:
        await store.hit(db, failures_key, window_seconds=3600, now=at)
        metrics.record_lookup("not_found")
        raise NotFound(NOT_FOUND)
    if await store.hits(db, failures_key, window_seconds=3600, now=at) > limits.failures_per_code_per_hour:
        metrics.record_lookup("limited")
        raise NotFound(NOT_FOUND)  # too many wrong factors for this code: answer as if it did not match
    metrics.record_lookup("found")
    assert dossier is not None
    return dossier


def _matches(dossier: Document | None, factor: SecondFactor) -> bool:
    applicant = (dossier or {}).get("applicant") or {}
    if factor.phone is not None:
        expected, given = normalise_phone(applicant.get("phone") or ""), normalise_phone(factor.phone)
    elif factor.id_number is not None:
        expected, given = applicant.get("id_number") or "", factor.id_number.strip()
    else:
        expected, given = (dossier or {}).get("lookup_code") or "", (factor.lookup_code or "").strip().upper()
    # Compare even when the dossier does not exist, so both failures cost the same.
    same = hmac.compare_digest(expected.encode() or b"\0", given.encode() or b"\1")
    return dossier is not None and bool(expected) and same


def citizen_view(dossier: Document) -> dict[str, Any]:
    """Status, appointment, steps done and what is expected from the citizen: nothing more."""
    status = Status(dossier["status"])
    steps = [
        {
            "at": h["at"],
            "status": h["status"],
            "status_name": STATUS_NAMES[Status(h["status"])],
            "note": _public_note(h),
        }
        for h in dossier["history"]
        if h.get("event") in PUBLIC_EVENTS
    ]
    return {
        "code": dossier["_id"],
        "procedure_name": dossier["procedure"]["name"],
        "centre_name": dossier["centre_name"],
        "status": int(status),
        "status_name": STATUS_NAMES[status],
        "received_at": dossier.get("received_at"),
        "appointment_at": dossier.get("appointment_at"),
        "steps": steps,
        "expected_from_citizen": expected_from_citizen(dossier),
    }


def _public_note(entry: dict[str, Any]) -> str | None:
    """The history note as the citizen reads it; an agency's internal routing becomes a plain sentence."""
    if entry.get("event") == "CaseOpened":
        return "Hồ sơ được chuyển đến cơ quan xử lý"
    return entry.get("note")


def expected_from_citizen(dossier: Document) -> str | None:
    status = Status(dossier["status"])
    if status is Status.SUBMITTED:
        return "Chờ cán bộ một cửa kiểm tra và tiếp nhận hồ sơ"
    if status is Status.SUPPLEMENT_REQUESTED and dossier["supplement_requests"]:
        reasons = "; ".join(dossier["supplement_requests"][-1]["reasons"])
        return f"Đề nghị bổ sung, hoàn thiện hồ sơ: {reasons}"
    if status is Status.PAYMENT_REQUESTED:
        return "Đề nghị thực hiện nghĩa vụ tài chính theo thông báo của cơ quan giải quyết"
    if status is Status.RESOLVED:
        if dossier["return_channel"] == "post":
            return "Kết quả sẽ được chuyển phát qua bưu chính đến địa chỉ đã đăng ký"
        return f"Mời Ông/Bà đến nhận kết quả tại {dossier['centre_name']}"
    if status is Status.REFUSED:
        return "Hồ sơ không được tiếp nhận: " + "; ".join(dossier.get("refusal_reasons") or [])
    return None


async def rate(uow: Tx, rating: RatingIn, *, client: str, limits: Limits, now: datetime | None = None) -> Document:
    """The citizen rates a returned dossier, once."""
    at = now or datetime.now(UTC)
    dossier = await find_for_citizen(uow.repos.db, rating, client=client, limits=limits, now=at)
    if dossier["status"] != Status.RETURNED:
        raise Conflict("a dossier can be rated once its result was returned", code="not_returned")

    async def work(tx: Tx) -> Document:
        entry = {"overall": rating.overall, "criteria": dict(rating.criteria), "rated_at": at}
        result = await tx.repos.db[store.DOSSIERS].update_one(
            {"_id": dossier["_id"], "rating": None}, {"$set": {"rating": entry}}, session=tx.repos.session
        )
        if result.modified_count == 0:
            raise Conflict("this dossier was already rated", code="already_rated")
        tx.publish(
            DossierRated(
                dossier_code=dossier["_id"], overall=rating.overall, criteria=dict(rating.criteria), rated_at=at
            )
        )
        return entry

    return await transaction(uow, work)


async def limit_online_submissions(db: AsyncDatabase[Document], client: str, per_hour: int) -> None:
    if await store.hit(db, f"online:client:{client}", window_seconds=3600, now=datetime.now(UTC)) > per_hour:
        raise TooManyRequests(
            "too many online submissions from this address; try again later", headers={"Retry-After": "3600"}
        )
