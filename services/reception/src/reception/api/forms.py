"""Routes: the printable forms (Mẫu 01, 02, 03 as PDF; the log book Mẫu 06 as CSV or PDF)."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from reception.api.deps import CentreStaff, UoW
from reception.domain.catalogue import unaccent
from reception.service import forms
from reception.service.forms import LogBookFormat

router = APIRouter(tags=["forms"])

_PDF_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {forms.PDF: {}}, "description": "The form as a PDF attachment."}
}
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def attachment(content: bytes | str, media_type: str, filename: str) -> Response:
    """The content as a download named ``filename`` (ASCII only), never cached: forms carry personal data."""
    safe = _UNSAFE.sub("_", unaccent(filename)).strip("._") or "form"
    headers = {"Content-Disposition": f'attachment; filename="{safe}"', "Cache-Control": "no-store"}
    return Response(content=content, media_type=media_type, headers=headers)


@router.get("/dossiers/{code}/receipt.pdf", response_class=Response, responses=_PDF_RESPONSE)
async def receipt(code: str, uow: UoW, viewer: CentreStaff) -> Response:
    """Mẫu 01 Giấy tiếp nhận hồ sơ và hẹn trả kết quả of a received dossier, with its QR code."""
    pdf = await forms.receipt(uow, code=code, viewer=viewer)
    return attachment(pdf, forms.PDF, f"giay-tiep-nhan-{code}.pdf")


@router.get("/dossiers/{code}/supplement-request.pdf", response_class=Response, responses=_PDF_RESPONSE)
async def supplement_request(code: str, uow: UoW, viewer: CentreStaff) -> Response:
    """Mẫu 02 Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ of the dossier's latest supplement request."""
    pdf = await forms.supplement_request(uow, code=code, viewer=viewer)
    return attachment(pdf, forms.PDF, f"phieu-yeu-cau-bo-sung-{code}.pdf")


@router.get("/dossiers/{code}/refusal.pdf", response_class=Response, responses=_PDF_RESPONSE)
async def refusal(code: str, uow: UoW, viewer: CentreStaff) -> Response:
    """Mẫu 03 Phiếu từ chối tiếp nhận giải quyết hồ sơ of a refused dossier."""
    pdf = await forms.refusal(uow, code=code, viewer=viewer)
    return attachment(pdf, forms.PDF, f"phieu-tu-choi-{code}.pdf")


@router.get(
    "/logbook",
    response_class=Response,
    responses={200: {"content": {forms.CSV: {}, forms.PDF: {}}, "description": "The log book as an attachment."}},
)
async def log_book(
    uow: UoW,
    viewer: CentreStaff,
    date_from: Annotated[date, Query(description="First day of the period (the province's calendar).")],
    date_to: Annotated[date, Query(description="Last day, included; at most 366 days after date_from.")],
    centre: Annotated[str | None, Query(max_length=20, description="Default: your centre; auditors any.")] = None,
    fmt: Annotated[LogBookFormat, Query(alias="format")] = "csv",
) -> Response:
    """Mẫu 06 Sổ theo dõi hồ sơ: the centre's dossiers received (or, never received, submitted) in the period."""
    centre_code = centre or viewer.scope
    content, media_type = await forms.log_book(
        uow, centre_code=centre_code, date_from=date_from, date_to=date_to, viewer=viewer, fmt=fmt
    )
    return attachment(content, media_type, f"so-theo-doi-{centre_code}-{date_from:%Y%m%d}-{date_to:%Y%m%d}.{fmt}")
