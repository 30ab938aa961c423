"""The citizen's view: lookup by dossier code plus a second factor, and the rating after return.

A wrong code and a wrong second factor get the same answer, with the same work done, and both
are rate-limited (per client, and per code for wrong factors), so codes cannot be enumerated
and factors cannot be guessed.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from motcua_kit.errors import AppError, NotFound
from motcua_kit.uow import use_case
from reception import metrics
from reception.domain.dossier import STATUS_NAMES, Dossier, DossierRuleError, HistoryEntry, Status, normalise_phone
from reception.service import UoW, as_app_error

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


@dataclass(frozen=True)
class SecondFactor:
    """The dossier code plus one thing printed on the receipt (exactly one of the three)."""

    code: str
    phone: str | None = None
    id_number: str | None = None
    lookup_code: str | None = None


@dataclass(frozen=True)
class RateDossier:
    factor: SecondFactor
    overall: str
    criteria: dict[str, str] = field(default_factory=dict)
    client: str = "unknown"
    now: datetime | None = None


class TooManyRequests(AppError):
    status_code = 429
    code = "too_many_requests"


@dataclass(frozen=True)
class Limits:
    per_client_per_minute: int
    failures_per_code_per_hour: int


async def _limit_client(uow: UoW, client: str, limits: Limits, now: datetime) -> None:
    hits = await uow.repos.rate_limits.hit(f"lookup:client:{client}", window_seconds=60, now=now)
    if hits > limits.per_client_per_minute:
        metrics.record_lookup("limited")
        raise TooManyRequests(
            "too many lookups from this address; try again in a minute", headers={"Retry-After": "60"}
        )


async def find_for_citizen(
    uow: UoW, factor: SecondFactor, *, client: str, limits: Limits, now: datetime | None = None
) -> Dossier:
    """The dossier, if the code and the second factor match; otherwise the one and only 404."""
    at = now or datetime.now(UTC)
    await _limit_client(uow, client, limits, at)
    code = factor.code.strip()
    dossier = await uow.repos.dossiers.get(code)
    matched = _matches(dossier, factor)
    failures_key = f"lookup:fail:{code}"
    if not matched:
        await uow.repos.rate_limits.hit(failures_key, window_seconds=3600, now=at)
        metrics.record_lookup("not_found")
        raise NotFound(NOT_FOUND)
    if await uow.repos.rate_limits.hits(failures_key, window_seconds=3600, now=at) > limits.failures_per_code_per_hour:
        metrics.record_lookup("limited")
        raise NotFound(NOT_FOUND)  # too many wrong factors for this code: answer as if it did not match
    metrics.record_lookup("found")
    assert dossier is not None
    return dossier


def _matches(dossier: Dossier | None, factor: SecondFactor) -> bool:
    applicant = dossier.applicant if dossier else None
    if factor.phone is not None:
        stored = applicant.phone if applicant else None
        expected, given = normalise_phone(stored) or "", normalise_phone(factor.phone) or ""
    elif factor.id_number is not None:
        expected, given = (applicant.id_number if applicant else None) or "", factor.id_number.strip()
    else:
        expected, given = (dossier.lookup_code if dossier else None) or "", (factor.lookup_code or "").strip().upper()
    # Compare even when the dossier does not exist, so both failures cost the same.
    same = hmac.compare_digest(expected.encode() or b"\0", given.encode() or b"\1")
    return dossier is not None and bool(expected) and same


def citizen_view(dossier: Dossier) -> dict[str, Any]:
    """Status, appointment, steps done and what is expected from the citizen: nothing more."""
    status = Status(dossier.status)
    steps = [
        {"at": h.at, "status": h.status, "status_name": STATUS_NAMES[Status(h.status)], "note": _public_note(h)}
        for h in dossier.history
        if h.event in PUBLIC_EVENTS
    ]
    return {
        "code": dossier.code,
        "procedure_name": dossier.procedure.name,
        "centre_name": dossier.centre_name,
        "status": int(status),
        "status_name": STATUS_NAMES[status],
        "received_at": dossier.received_at,
        "appointment_at": dossier.appointment_at,
        "steps": steps,
        "expected_from_citizen": expected_from_citizen(dossier),
    }


def _public_note(entry: HistoryEntry) -> str | None:
    """The history note as the citizen reads it; an agency's internal routing becomes a plain sentence."""
    if entry.event == "CaseOpened":
        return "Hồ sơ được chuyển đến cơ quan xử lý"
    return entry.note


def expected_from_citizen(dossier: Dossier) -> str | None:
    status = Status(dossier.status)
    if status is Status.SUBMITTED:
        return "Chờ cán bộ một cửa kiểm tra và tiếp nhận hồ sơ"
    if status is Status.SUPPLEMENT_REQUESTED and dossier.supplement_requests:
        reasons = "; ".join(dossier.supplement_requests[-1].reasons)
        return f"Đề nghị bổ sung, hoàn thiện hồ sơ: {reasons}"
    if status is Status.PAYMENT_REQUESTED:
        return "Đề nghị thực hiện nghĩa vụ tài chính theo thông báo của cơ quan giải quyết"
    if status is Status.RESOLVED:
        if dossier.return_channel == "post":
            return "Kết quả sẽ được chuyển phát qua bưu chính đến địa chỉ đã đăng ký"
        return f"Mời Ông/Bà đến nhận kết quả tại {dossier.centre_name}"
    if status is Status.REFUSED:
        return "Hồ sơ không được tiếp nhận: " + "; ".join(dossier.refusal_reasons)
    return None


async def rate(cmd: RateDossier, uow: UoW, *, limits: Limits) -> dict[str, Any]:
    """The citizen rates a returned dossier, once (the lookup's limits and second factor first)."""
    at = cmd.now or datetime.now(UTC)
    found = await find_for_citizen(uow, cmd.factor, client=cmd.client, limits=limits, now=at)
    return await _record_rating(found.code, cmd, uow, at=at)


@use_case
async def _record_rating(code: str, cmd: RateDossier, uow: UoW, *, at: datetime) -> dict[str, Any]:
    async with uow:
        dossier = await uow.repos.dossiers.get(code)
        if dossier is None:
            raise NotFound(NOT_FOUND)
        try:
            uow.publish(*dossier.rate(cmd.overall, cmd.criteria, at=at))
        except DossierRuleError as exc:
            raise as_app_error(exc) from exc
        await uow.repos.dossiers.save(dossier)
        await uow.commit()
    assert dossier.rating is not None
    return {"overall": dossier.rating.overall, "criteria": dossier.rating.criteria, "rated_at": dossier.rating.rated_at}


async def limit_online_submissions(uow: UoW, client: str, per_hour: int) -> None:
    hits = await uow.repos.rate_limits.hit(f"online:client:{client}", window_seconds=3600, now=datetime.now(UTC))
    if hits > per_hour:
        raise TooManyRequests(
            "too many online submissions from this address; try again later", headers={"Retry-After": "3600"}
        )
