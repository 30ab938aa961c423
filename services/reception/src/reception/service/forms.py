"""Printable forms: each use case reads the stored dossier (or the centre's register), builds the form's
model with a pure ``*_of`` function, and renders it off the event loop.

Mẫu 01 receipt, Mẫu 02 supplement request, Mẫu 03 refusal, Mẫu 06 log book (CSV or PDF).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal, overload
from zoneinfo import ZoneInfo

from motcua_kit.auth import Principal
from motcua_kit.errors import Conflict, Forbidden, Invalid, NotFound
from motcua_kit.mongo import Document
from motcua_kit.values import MAX_PERIOD_DAYS, ReportPeriod
from reception.domain.dossier import STATUS_NAMES, Status
from reception.forms import (
    VN,
    Applicant,
    DocumentRow,
    Issuer,
    LogBook,
    LogBookRow,
    Receipt,
    Refusal,
    SupplementItem,
    SupplementRequest,
    log_book_csv,
    log_book_pdf,
    receipt_pdf,
    refusal_pdf,
    supplement_request_pdf,
)
from reception.service import UoW
from reception.service.intake import get_dossier_document

LogBookFormat = Literal["csv", "pdf"]
PDF = "application/pdf"
CSV = "text/csv; charset=utf-8"
MAX_LOG_BOOK_ROWS: dict[LogBookFormat, int] = {"csv": 50_000, "pdf": 2_000}
MISSING_PREFIX = "thiếu giấy tờ bắt buộc:"  # how reception.domain.dossier.missing_documents words it
CHANNEL_NOTES = {2: "nộp trực tuyến", 3: "qua bưu chính"}


# --- use cases ----------------------------------------------------------------------------------------


async def receipt(uow: UoW, *, code: str, viewer: Principal) -> bytes:
    """Mẫu 01 of a received dossier (staff of its centre; auditors)."""
    dossier = await get_dossier_document(uow, code=code, viewer=viewer)
    if dossier["status"] < Status.RECEIVED or dossier.get("received_at") is None:
        raise Conflict("no receipt: the dossier was not received", code="not_received")
    model = receipt_of(dossier, await _issuer(uow, dossier["centre_code"], dossier["centre_name"]))
    return await asyncio.to_thread(receipt_pdf, model, tz=await _timezone(uow))


async def supplement_request(uow: UoW, *, code: str, viewer: Principal) -> bytes:
    """Mẫu 02 of the dossier's latest supplement request."""
    dossier = await get_dossier_document(uow, code=code, viewer=viewer)
    if not dossier.get("supplement_requests"):
        raise Conflict("no supplement request: none was made for this dossier", code="no_supplement_request")
    model = supplement_request_of(dossier, await _issuer(uow, dossier["centre_code"], dossier["centre_name"]))
    return await asyncio.to_thread(supplement_request_pdf, model, tz=await _timezone(uow))


async def refusal(uow: UoW, *, code: str, viewer: Principal) -> bytes:
    """Mẫu 03 of a refused dossier."""
    dossier = await get_dossier_document(uow, code=code, viewer=viewer)
    if dossier["status"] != Status.REFUSED or not dossier.get("refusal_reasons"):
        raise Conflict("no refusal: the dossier was not refused", code="not_refused")
    model = refusal_of(dossier, await _issuer(uow, dossier["centre_code"], dossier["centre_name"]))
    return await asyncio.to_thread(refusal_pdf, model, tz=await _timezone(uow))


async def log_book(
    uow: UoW,
    *,
    centre_code: str,
    date_from: date,
    date_to: date,
    viewer: Principal,
    fmt: LogBookFormat,
) -> tuple[bytes | str, str]:
    """Mẫu 06 of a centre for the days ``date_from``..``date_to`` (the province's days): the content and
    its media type. Officers and centre admins see their own centre's book; auditors any centre's."""
    check_period(date_from, date_to)
    if viewer.role.value != "auditor" and viewer.scope != centre_code:
        raise Forbidden("you may only print the log book of your own centre")
    centre = await uow.repos.centres.get(centre_code)
    if centre is None:
        raise NotFound(f"no centre {centre_code} in this province")
    tz = await _timezone(uow)
    dossiers = await _dossiers_in_period(uow, centre_code, _bounds(date_from, date_to, tz), MAX_LOG_BOOK_ROWS[fmt])
    issuer = await _issuer(uow, centre_code, centre["name"])
    return await asyncio.to_thread(_render_log_book, dossiers, issuer, date_from, date_to, fmt, tz)


def check_period(date_from: date, date_to: date) -> None:
    """The kit's report period rule, in the log book's words."""
    try:
        ReportPeriod.checked(date_from, date_to)
    except Invalid as exc:
        if exc.code == "period_reversed":
            raise Invalid(f"date_from {date_from} is after date_to {date_to}", code="invalid_period") from exc
        if exc.code == "period_too_long":
            days = (date_to - date_from).days + 1
            raise Invalid(
                f"the log book covers at most {MAX_PERIOD_DAYS} days; {date_from} to {date_to} is {days} days",
                code="invalid_period",
            ) from exc
        raise Invalid(exc.message, code="invalid_period") from exc


def _render_log_book(
    dossiers: list[Document], issuer: Issuer, date_from: date, date_to: date, fmt: LogBookFormat, tz: ZoneInfo
) -> tuple[bytes | str, str]:
    book = log_book_of(dossiers, issuer, date_from, date_to)
    if fmt == "csv":
        return log_book_csv(book, tz=tz), CSV
    return log_book_pdf(book, tz=tz), PDF


# --- models from the stored documents (pure) ---------------------------------------------------------


def receipt_of(dossier: Document, issuer: Issuer) -> Receipt:
    return Receipt(
        issuer=issuer,
        number=dossier["_id"],
        lookup_url=dossier.get("lookup_url") or "",
        lookup_code=dossier.get("lookup_code"),
        applicant=_applicant(dossier),
        content=dossier.get("content"),
        procedure_name=dossier["procedure"]["name"],
        documents=tuple(
            DocumentRow(name=d["name"], originals=d.get("originals", 0), copies=d.get("copies", 0))
            for d in dossier.get("documents", [])
        ),
        time_limit=time_limit_text(dossier),
        received_at=_aware(dossier["received_at"]),
        appointment_at=_aware(dossier.get("original_appointment_at") or dossier["appointment_at"]),
        return_channel=dossier.get("return_channel") or "counter",
        delivery_address=dossier.get("delivery_address"),
        officer_name=dossier.get("officer_name"),
    )


def supplement_request_of(dossier: Document, issuer: Issuer) -> SupplementRequest:
    latest = dossier["supplement_requests"][-1]
    reasons = latest.get("reasons") or ["Bổ sung, hoàn thiện hồ sơ theo hướng dẫn của cán bộ tiếp nhận"]
    return SupplementRequest(
        issuer=issuer,
        dossier_code=dossier["_id"],
        applicant=_applicant(dossier),
        content=dossier.get("content"),
        procedure_name=dossier["procedure"]["name"],
        items=tuple(supplement_item(r) for r in reasons),
        officer_name=_officer(dossier, latest.get("requested_by")),
        issued_at=_aware(latest["requested_at"]),
    )


def refusal_of(dossier: Document, issuer: Issuer) -> Refusal:
    entry: Document = next((h for h in reversed(dossier.get("history", [])) if h["status"] == Status.REFUSED), {})
    at: datetime = dossier.get("refused_at") or entry.get("at") or dossier["submitted_at"]
    return Refusal(
        issuer=issuer,
        dossier_code=dossier["_id"],
        applicant=_applicant(dossier),
        content=dossier.get("content"),
        procedure_name=dossier["procedure"]["name"],
        reasons=tuple(dossier["refusal_reasons"]),
        officer_name=_officer(dossier, entry.get("by")),
        issued_at=_aware(at),
    )


def log_book_of(dossiers: Iterable[Document], issuer: Issuer, date_from: date, date_to: date) -> LogBook:
    """The rows in order of receipt (or of submission, for a dossier never received)."""
    ordered = sorted(dossiers, key=lambda d: (_aware(_entered_at(d)), d["_id"]))
    rows = tuple(_log_book_row(n, d) for n, d in enumerate(ordered, start=1))
    return LogBook(issuer=issuer, date_from=date_from, date_to=date_to, rows=rows)


def _log_book_row(number: int, dossier: Document) -> LogBookRow:
    applicant = dossier.get("applicant") or {}
    return LogBookRow(
        number=number,
        dossier_code=dossier["_id"],
        content=_content(dossier),
        owner_name=applicant.get("full_name") or "",
        address=applicant.get("address"),
        phone=applicant.get("phone"),
        received_at=_aware(_entered_at(dossier)),
        appointment_at=_aware(dossier.get("appointment_at")),
        returned_at=_aware(dossier.get("returned_at")),
        officer=dossier.get("officer_name") or dossier.get("received_by"),
        note=_note(dossier),
    )


def supplement_item(reason: str) -> SupplementItem:
    """Splits a stored reason into the paper and why: "Tờ khai: chưa ký" is ("Tờ khai", "chưa ký")."""
    text = reason.strip()
    if text.casefold().startswith(MISSING_PREFIX):
        return SupplementItem(item=text[len(MISSING_PREFIX) :].strip(), reason="Thiếu giấy tờ bắt buộc")
    item, sep, why = text.partition(": ")
    if sep and item.strip() and why.strip():
        return SupplementItem(item=item.strip(), reason=why.strip())
    return SupplementItem(item=text)


def time_limit_text(dossier: Document) -> str:
    """The legal time limit as the procedure states it ("20 ngày làm việc"), online value when online."""
    limit = (dossier.get("procedure_snapshot") or {}).get("limit")
    if limit:
        online = dossier.get("intake_channel") == 2 and limit.get("online_value")
        value = limit["online_value"] if online else limit["value"]
        unit = "ngày làm việc" if limit.get("unit") == "working_days" else "giờ làm việc"
        return f"{_number(value)} {unit}"
    hours = dossier.get("limit_working_hours")
    return f"{_number(hours)} giờ làm việc" if hours else ""


# --- helpers ------------------------------------------------------------------------------------------


def _applicant(dossier: Document) -> Applicant:
    a = dossier.get("applicant") or {}
    return Applicant(
        full_name=a.get("full_name") or "",
        id_number=a.get("id_number"),
        phone=a.get("phone"),
        email=a.get("email"),
        address=a.get("address"),
    )


def _officer(dossier: Document, subject: str | None) -> str | None:
    """The acting officer's name when the register knows it (the officer who registered the dossier)."""
    return dossier.get("officer_name") if subject and subject == dossier.get("received_by") else None


def _content(dossier: Document) -> str:
    procedure = dossier["procedure"]["name"]
    content = (dossier.get("content") or "").strip()
    return f"{procedure}: {content}" if content and content != procedure else procedure


def _note(dossier: Document) -> str:
    status = STATUS_NAMES[Status(dossier["status"])]
    channel = CHANNEL_NOTES.get(dossier.get("intake_channel", 1))
    return f"{status} ({channel})" if channel else status


def _entered_at(dossier: Document) -> datetime:
    at: datetime = dossier.get("received_at") or dossier["submitted_at"]
    return at


def _number(value: float) -> str:
    return f"{value:g}".replace(".", ",")


@overload
def _aware(at: datetime) -> datetime: ...
@overload
def _aware(at: None) -> None: ...
def _aware(at: datetime | None) -> datetime | None:
    """Stored times come back aware from the service's client; a naive one is UTC."""
    return at.replace(tzinfo=UTC) if at is not None and at.tzinfo is None else at


def _bounds(date_from: date, date_to: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """From the start of ``date_from`` to the start of the day after ``date_to``, in the province."""
    return datetime.combine(date_from, time.min, tz), datetime.combine(date_to + timedelta(days=1), time.min, tz)


# --- reads --------------------------------------------------------------------------------------------


async def _issuer(uow: UoW, centre_code: str, name: str) -> Issuer:
    centre = await uow.repos.centres.get(centre_code) or {}
    province = await uow.repos.province.province() or {}
    return Issuer(
        name=name,
        province_name=province.get("name") or "",
        address=centre.get("address"),
        phone=centre.get("phone"),
        email=centre.get("email"),
    )


async def _timezone(uow: UoW) -> ZoneInfo:
    config = await uow.repos.calendar.config() or {}
    return ZoneInfo(config["timezone"]) if config.get("timezone") else VN


async def _dossiers_in_period(
    uow: UoW, centre_code: str, bounds: tuple[datetime, datetime], limit: int
) -> list[Document]:
    """The centre's dossiers received in the period, and those never received but submitted in it."""
    start, end = bounds
    total, dossiers = await uow.repos.dossiers.log_book(centre_code, start, end, limit=limit)
    if total > limit:
        raise Invalid(
            f"the period holds {total} dossiers, more than the {limit} one log book lists; choose a shorter period",
            code="log_book_too_large",
        )
    return dossiers
