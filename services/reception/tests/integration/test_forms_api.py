"""The printable forms over HTTP, against the real local broker and database."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from pypdf import PdfReader

from motcua_devstack.testing import LocalStack, token

from .conftest import CENTRE, OTHER_CENTRE, Reception
from .conftest import land_request as base_request

pytestmark = pytest.mark.integration

VN = ZoneInfo("Asia/Ho_Chi_Minh")
BOM = "\ufeff"


@pytest.fixture
def client(reception: Reception) -> httpx.AsyncClient:
    return reception.http


def land_request(**overrides: Any) -> dict[str, Any]:
    defaults: dict[str, Any] = {
        "applicant": {
            "full_name": "Đặng Thị Đào",
            "id_number": "056190001234",
            "phone": "0905123456",
            "email": "dao.dang@example.vn",
            "address": "12 Trần Phú, phường Nha Trang",
        },
        "return_channel": "counter",
        "notify_channels": ["sms"],
    }
    return base_request(**(defaults | overrides))


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


async def register(client: httpx.AsyncClient, stack: LocalStack, **overrides: Any) -> dict[str, Any]:
    r = await client.post("/dossiers", json=land_request(**overrides), headers=token(stack, "counter_officer", CENTRE))
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def today() -> str:
    return datetime.now(VN).date().isoformat()


async def test_receipt_of_a_received_dossier(client: httpx.AsyncClient, local_stack: LocalStack) -> None:
    dossier = await register(client, local_stack)
    code = dossier["code"]
    r = await client.get(f"/dossiers/{code}/receipt.pdf", headers=token(local_stack, "counter_officer", CENTRE))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    assert r.headers["content-disposition"] == f'attachment; filename="giay-tiep-nhan-{code}.pdf"'
    text = pdf_text(r.content)
    assert f"Mã hồ sơ: {code}" in text and "Đặng Thị Đào" in text
    assert "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ" in text and "Tỉnh Khánh Hòa".upper() in text
    appointment = datetime.fromisoformat(dossier["appointment_at"]).astimezone(VN)
    assert f"{appointment:%H:%M} ngày {appointment:%d/%m/%Y}" in text
    auditor = await client.get(f"/dossiers/{code}/receipt.pdf", headers=token(local_stack, "auditor", "H56"))
    assert auditor.status_code == 200


async def test_forms_of_another_centre_are_not_found(client: httpx.AsyncClient, local_stack: LocalStack) -> None:
    code = (await register(client, local_stack))["code"]
    stranger = token(local_stack, "counter_officer", OTHER_CENTRE)
    for form in ("receipt.pdf", "supplement-request.pdf", "refusal.pdf"):
        r = await client.get(f"/dossiers/{code}/{form}", headers=stranger)
        assert r.status_code == 404 and r.json()["message"] == f"no dossier {code} in your centre"
    missing = await client.get(f"/dossiers/{CENTRE}-000101-9999/receipt.pdf", headers=stranger)
    assert missing.status_code == 404 and missing.json()["message"] == f"no dossier {CENTRE}-000101-9999 in your centre"
    assert (await client.get(f"/dossiers/{code}/receipt.pdf")).status_code == 401
    leader = token(local_stack, "agency_leader", "000.00.13.H56")
    assert (await client.get(f"/dossiers/{code}/receipt.pdf", headers=leader)).status_code == 403


async def test_forms_that_do_not_fit_the_dossier_conflict(client: httpx.AsyncClient, local_stack: LocalStack) -> None:
    officer = token(local_stack, "counter_officer", CENTRE)
    received = (await register(client, local_stack))["code"]
    r = await client.get(f"/dossiers/{received}/refusal.pdf", headers=officer)
    assert r.status_code == 409 and r.json()["message"] == "no refusal: the dossier was not refused"
    r = await client.get(f"/dossiers/{received}/supplement-request.pdf", headers=officer)
    assert r.status_code == 409 and "no supplement request" in r.json()["message"]

    refused = (await register(client, local_stack, outcome="refuse", reasons=["Không thuộc thẩm quyền"]))["code"]
    r = await client.get(f"/dossiers/{refused}/receipt.pdf", headers=officer)
    assert r.status_code == 409 and r.json()["message"] == "no receipt: the dossier was not received"


async def test_refusal_and_supplement_request_forms(client: httpx.AsyncClient, local_stack: LocalStack) -> None:
    officer = token(local_stack, "counter_officer", CENTRE)
    refused = await register(client, local_stack, outcome="refuse", reasons=["Hồ sơ không thuộc thẩm quyền"])
    r = await client.get(f"/dossiers/{refused['code']}/refusal.pdf", headers=officer)
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    text = pdf_text(r.content)
    assert "PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ" in text and "1. Hồ sơ không thuộc thẩm quyền" in text

    incomplete = await register(
        client, local_stack, outcome="request_supplement", reasons=["Tờ khai: chưa ký, ghi rõ họ tên"]
    )
    r = await client.get(f"/dossiers/{incomplete['code']}/supplement-request.pdf", headers=officer)
    assert r.status_code == 200, r.text
    text = pdf_text(r.content)
    assert "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ" in text and "chưa ký, ghi rõ họ tên" in text
    assert "0258 3568 686" in text  # the centre's phone, for guidance


async def test_log_book_csv_of_today_lists_the_dossier(client: httpx.AsyncClient, local_stack: LocalStack) -> None:
    code = (await register(client, local_stack))["code"]
    officer = token(local_stack, "counter_officer", CENTRE)
    r = await client.get("/logbook", params={"date_from": today(), "date_to": today()}, headers=officer)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    day = today().replace("-", "")
    assert r.headers["content-disposition"] == f'attachment; filename="so-theo-doi-{CENTRE}-{day}-{day}.csv"'
    assert r.content.startswith(BOM.encode())
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8").removeprefix(BOM))))
    assert rows[0][:4] == ["STT", "Mã hồ sơ", "Nội dung", "Chủ hồ sơ"]
    [row] = [row for row in rows[1:] if row[1] == code]
    assert row[3] == "Đặng Thị Đào" and row[10] == "Được tiếp nhận"

    pdf = await client.get(
        "/logbook", params={"date_from": today(), "date_to": today(), "format": "pdf"}, headers=officer
    )
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert code.split("-", 1)[1] in pdf_text(pdf.content) and "SỔ THEO DÕI HỒ SƠ" in pdf_text(pdf.content)

    other = await client.get(
        "/logbook",
        params={"date_from": today(), "date_to": today()},
        headers=token(local_stack, "counter_officer", OTHER_CENTRE),
    )
    assert other.status_code == 200 and code not in other.text


@pytest.mark.parametrize(
    ("params", "status", "needle"),
    [
        ({"date_from": "2026-11-30", "date_to": "2026-11-01"}, 422, "date_from 2026-11-30 is after date_to 2026-11-01"),
        ({"date_from": "2025-01-01", "date_to": "2026-06-30"}, 422, "at most 366 days"),
        ({"date_from": "2026-11-01"}, 422, "date_to"),
        ({"date_from": "2026-13-01", "date_to": "2026-11-30"}, 422, "date_from"),
        ({"date_from": "2026-11-01", "date_to": "2026-11-30", "format": "xlsx"}, 422, "format"),
        ({"date_from": "2026-11-01", "date_to": "2026-11-30", "centre": OTHER_CENTRE}, 403, "your own centre"),
    ],
)
async def test_log_book_refuses_a_bad_request_with_a_clear_message(
    client: httpx.AsyncClient, local_stack: LocalStack, params: dict[str, str], status: int, needle: str
) -> None:
    r = await client.get("/logbook", params=params, headers=token(local_stack, "counter_officer", CENTRE))
    assert r.status_code == status, r.text
    assert needle in r.json()["message"]


async def test_auditor_prints_any_centres_log_book(client: httpx.AsyncClient, local_stack: LocalStack) -> None:
    code = (await register(client, local_stack))["code"]
    auditor = token(local_stack, "auditor", "H56")
    week_ago = (datetime.now(VN).date() - timedelta(days=7)).isoformat()
    r = await client.get(
        "/logbook", params={"centre": CENTRE, "date_from": week_ago, "date_to": today()}, headers=auditor
    )
    assert r.status_code == 200 and code in r.text
    unknown = await client.get("/logbook", params={"date_from": today(), "date_to": today()}, headers=auditor)
    assert unknown.status_code == 404 and "no centre H56" in unknown.json()["message"]
