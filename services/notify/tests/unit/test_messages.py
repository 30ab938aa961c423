from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo

import pytest

from motcua_kit.events import DossierReceived
from notify.domain.contacts import DossierContacts, gateway_phone
from notify.domain.messages import OutgoingMessage, notification_id, plan
from notify.domain.templates import default
from notify.domain.text import sms_segments

VN = ZoneInfo("Asia/Ho_Chi_Minh")
Make = Callable[..., DossierReceived]


def render_received(event: DossierReceived, tz: ZoneInfo) -> list[OutgoingMessage]:
    return plan(event, DossierContacts.from_event(event), tz, default)


def by_channel(messages: list[OutgoingMessage]) -> dict[str, OutgoingMessage]:
    return {m.channel: m for m in messages}


def test_sms_text_is_exact_unaccented_and_one_segment(received: Make) -> None:
    sms = by_channel(render_received(received(), VN))["sms"]
    assert sms.text == (
        "Ho so 000.00.06.H56-261123-0001 da duoc tiep nhan. Ngay hen tra: 01/12/2026. "
        "Tra cuu: https://dichvucong.khanhhoa.gov.vn/tra-cuu"
    )
    assert sms.recipient == "0912345678"
    assert sms.subject is None and sms.html is None
    assert sms.text.isascii()
    assert len(sms.text) <= 160
    assert sms_segments(sms.text) == 1


def test_sms_fits_one_segment_with_a_long_but_normal_lookup_url(received: Make) -> None:
    url = "https://dichvucong.khanhhoa.gov.vn/tra-cuu?ma=000.00.06.H56-261123-0001"
    sms = by_channel(render_received(received(lookup_url=url), VN))["sms"]
    assert sms_segments(sms.text) == 1


def test_email_is_full_vietnamese_with_appointment_in_local_time(received: Make) -> None:
    mail = by_channel(render_received(received(), VN))["email"]
    assert mail.recipient == "dao.nguyen@example.vn"
    assert mail.subject == "Hồ sơ 000.00.06.H56-261123-0001 đã được tiếp nhận"
    for body in (mail.text, mail.html):
        assert body is not None
        assert "Kính gửi Nguyễn Thị Đào" in body
        assert "Trung tâm Phục vụ hành chính công tỉnh Khánh Hòa" in body
        assert "Cấp giấy phép xây dựng nhà ở riêng lẻ" in body
        assert "00:30 ngày 01/12/2026" in body  # 17:30 UTC on 30/11 is 00:30 on 01/12 in Vietnam
        assert "09:15 ngày 23/11/2026" in body  # received at
        assert "https://dichvucong.khanhhoa.gov.vn/tra-cuu" in body
        assert "mã hồ sơ cùng số điện thoại hoặc số giấy tờ tùy thân" in body
    assert '<a href="https://dichvucong.khanhhoa.gov.vn/tra-cuu">' in (mail.html or "")


def test_html_escapes_user_data(received: Make) -> None:
    event = received(applicant={"full_name": '<script>alert("x")</script> & Co'}, centre_name="Trung tâm <b>A</b>")
    mail = by_channel(render_received(event, VN))["email"]
    assert mail.html is not None
    assert "<script>" not in mail.html and "<b>A</b>" not in mail.html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co" in mail.html
    assert "Trung tâm &lt;b&gt;A&lt;/b&gt;" in mail.html
    assert '<script>alert("x")</script> & Co' in mail.text  # the text part stays as typed


@pytest.mark.parametrize(
    ("channels", "applicant", "expected"),
    [
        (["sms", "email"], {}, ["sms", "email"]),
        (["email", "sms"], {}, ["email", "sms"]),
        (["sms"], {}, ["sms"]),
        (["email"], {}, ["email"]),
        ([], {}, []),
        (["sms", "sms", "email"], {}, ["sms", "email"]),
        (["sms", "email"], {"phone": None}, ["email"]),
        (["sms", "email"], {"email": None}, ["sms"]),
        (["sms", "email"], {"phone": "  ", "email": ""}, []),
        (["email"], {"email": None}, []),
    ],
)
def test_only_chosen_channels_with_an_address_get_a_message(
    received: Make, channels: list[str], applicant: dict[str, str | None], expected: list[str]
) -> None:
    event = received(notify_channels=channels, applicant=applicant)
    assert [m.channel for m in render_received(event, VN)] == expected


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("0912345678", "0912345678"),
        ("0912 345 678", "0912345678"),
        ("091.234.5678", "0912345678"),
        ("+84 912 345 678", "0912345678"),
        ("84912345678", "0912345678"),
        ("0123", "0123"),  # kept: the gateway refuses it and staff see why
    ],
)
def test_phone_is_normalized_for_the_gateway(raw: str, normalized: str) -> None:
    assert gateway_phone(raw) == normalized


def test_notification_id_is_deterministic_short_and_hides_the_recipient() -> None:
    event_id = "6f1c1a55-7b0e-4f7e-9a1a-0c2f4f0e9d11"
    first = notification_id(event_id, "sms", "0912345678")
    assert first == notification_id(event_id, "sms", "0912345678")
    assert len(first) <= 64
    assert "0912345678" not in first and "345678" not in first
    assert notification_id(event_id, "sms", "0912345679") != first
    assert notification_id(event_id, "email", "0912345678") != first
    assert notification_id("another-event", "sms", "0912345678") != first
    mail_id = notification_id(event_id, "email", "Dao.Nguyen@Example.vn")
    assert "dao" not in mail_id.lower() and "example" not in mail_id.lower()
    assert len(mail_id) <= 64
