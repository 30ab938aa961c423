"""Every rule fires with the right words; channels, conditions and segments."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from motcua_kit.events import (
    AgencySupplementRequested,
    ApologyIssued,
    DeliveryAttemptFailed,
    DossierEvent,
    DossierReceived,
    DossierRefused,
    DossierResolved,
    DossierWithdrawn,
    PaymentRequested,
    ResultDelivered,
    ResultHandedToPost,
    ShipmentReturned,
    ShipmentStatusChanged,
    SupplementRequested,
)
from notify.domain import rules, templates
from notify.domain.contacts import DossierContacts
from notify.domain.messages import OutgoingMessage, plan
from notify.domain.templates import Template, default
from notify.domain.text import sms_segments

VN = ZoneInfo("Asia/Ho_Chi_Minh")
CODE = "000.00.06.H56-261123-0001"
LOOKUP = "https://dichvucong.khanhhoa.gov.vn/tra-cuu"
Make = Callable[..., DossierReceived]
# 17:30 UTC is already the next day in Vietnam: the dates below prove the time zone is applied.
LATE_EVENING = datetime(2026, 12, 3, 17, 30, tzinfo=UTC)  # 00:30 on 04/12/2026 in Vietnam


def at(day: int, hour: int = 3) -> datetime:
    return datetime(2026, 12, day, hour, 0, tzinfo=UTC)


EVENTS: dict[str, DossierEvent] = {
    "supplement_counter": SupplementRequested(
        dossier_code=CODE,
        reasons=["Thiếu bản vẽ thiết kế", "Bản sao sổ đỏ chưa chứng thực"],
        requested_at=LATE_EVENING,
        requested_by="officer",
        clock_paused=True,
    ),
    "supplement_agency": AgencySupplementRequested(
        dossier_code=CODE,
        position=1,
        agency_code="000.00.11.H56",
        reasons=["Thiếu bản vẽ thiết kế"],
        requested_at=LATE_EVENING,
        requested_by="specialist",
    ),
    "refused": DossierRefused(
        dossier_code=CODE, reasons=["Thủ tục không thuộc thẩm quyền"], refused_at=LATE_EVENING, refused_by="officer"
    ),
    "apology": ApologyIssued(
        dossier_code=CODE,
        agency_code="000.00.11.H56",
        previous_appointment_at=at(1),
        new_appointment_at=LATE_EVENING,
        reason="Cần xác minh hiện trạng thửa đất",
        issued_at=at(1),
        issued_by="leader",
    ),
    "payment": PaymentRequested(
        dossier_code=CODE,
        agency_code="000.00.11.H56",
        amount_vnd=1_500_000,
        description="Lệ phí cấp giấy phép",
        requested_at=at(1),
    ),
    "resolved": DossierResolved(
        dossier_code=CODE,
        agency_code="000.00.11.H56",
        resolved_at=LATE_EVENING,
        resolved_by="leader",
        result_summary="Giấy phép xây dựng số 123/GPXD",
    ),
    "handed_to_post": ResultHandedToPost(
        dossier_code=CODE, tracking_number="EL123456789VN", handed_over_at=LATE_EVENING, target_date=date(2026, 12, 6)
    ),
    "out_for_delivery": ShipmentStatusChanged(
        dossier_code=CODE, tracking_number="EL123456789VN", status="out_for_delivery", at=at(5)
    ),
    "delivered": ResultDelivered(
        dossier_code=CODE, tracking_number="EL123456789VN", delivered_at=LATE_EVENING, recipient_checked=True
    ),
    "delivery_failed": DeliveryAttemptFailed(
        dossier_code=CODE,
        tracking_number="EL123456789VN",
        attempt=1,
        reason="Người nhận vắng nhà",
        failed_at=at(3),
        next_attempt_after=LATE_EVENING,
    ),
    "returned": ShipmentReturned(
        dossier_code=CODE, tracking_number="EL123456789VN", returned_at=LATE_EVENING, reason="Vắng nhà", attempts=2
    ),
    "withdrawn": DossierWithdrawn(
        dossier_code=CODE, reason="Không còn nhu cầu", withdrawn_at=LATE_EVENING, recorded_by="officer"
    ),
}

# case -> (SMS must contain, e-mail subject must contain, e-mail text must contain)
EXPECTED: dict[str, tuple[list[str], str, list[str]]] = {
    "supplement_counter": (
        ["can bo sung giay to"],
        f"Hồ sơ {CODE} cần bổ sung giấy tờ",
        ["Ngày yêu cầu: 04/12/2026", "Thiếu bản vẽ thiết kế; Bản sao sổ đỏ chưa chứng thực"],
    ),
    "supplement_agency": (
        ["can bo sung giay to"],
        f"Hồ sơ {CODE} cần bổ sung giấy tờ",
        ["Ngày yêu cầu: 04/12/2026", "Nội dung cần bổ sung: Thiếu bản vẽ thiết kế"],
    ),
    "refused": (
        ["khong duoc tiep nhan"],
        f"Hồ sơ {CODE} không được tiếp nhận",
        ["Ngày từ chối: 04/12/2026", "Lý do: Thủ tục không thuộc thẩm quyền"],
    ),
    "apology": (
        ["Xin loi", "Ngay hen tra moi: 04/12/2026"],
        f"Thư xin lỗi và hẹn lại ngày trả kết quả hồ sơ {CODE}",
        ["chân thành xin lỗi", "Ngày hẹn trả kết quả mới: 00:30 ngày 04/12/2026", "10:00 ngày 01/12/2026"],
    ),
    "payment": (
        ["can nop phi, le phi 1.500.000 dong"],
        f"Hồ sơ {CODE}: đề nghị thực hiện nghĩa vụ tài chính",
        ["Số tiền: 1.500.000 đồng", "Nội dung: Lệ phí cấp giấy phép"],
    ),
    "resolved": (
        [f"Ket qua ho so {CODE} da co"],
        f"Kết quả hồ sơ {CODE} đã có",
        [
            "Thời điểm có kết quả: 00:30 ngày 04/12/2026",
            "Giấy phép xây dựng số 123/GPXD",
            "Hình thức nhận kết quả: nhận trực tiếp tại Trung tâm Phục vụ hành chính công tỉnh Khánh Hòa.",
        ],
    ),
    "handed_to_post": (
        ["da chuyen buu dien", "EL123456789VN", "du kien phat 06/12/2026"],
        f"Kết quả hồ sơ {CODE} đã được chuyển cho bưu điện",
        ["Số hiệu bưu gửi: EL123456789VN", "Ngày phát dự kiến: 06/12/2026", "00:30 ngày 04/12/2026"],
    ),
    "out_for_delivery": (
        ["Buu dien dang phat ket qua ho so"],
        f"Bưu điện đang phát kết quả hồ sơ {CODE}",
        ["Số hiệu bưu gửi: EL123456789VN", "CCCD"],
    ),
    "delivered": (
        ["da duoc phat thanh cong"],
        f"Kết quả hồ sơ {CODE} đã được phát thành công",
        ["Thời điểm phát: 00:30 ngày 04/12/2026"],
    ),
    "delivery_failed": (
        ["Phat khong thanh cong lan 1", "Lan phat tiep theo: 04/12/2026"],
        f"Phát không thành công lần 1 kết quả hồ sơ {CODE}",
        ["Lý do: Người nhận vắng nhà", "Lần phát tiếp theo: 04/12/2026"],
    ),
    "returned": (
        ["da chuyen hoan ve Trung tam"],
        f"Kết quả hồ sơ {CODE} đã chuyển hoàn về Trung tâm",
        ["Bưu điện đã phát 2 lần không thành công", "Ngày chuyển hoàn: 04/12/2026", "Lý do: Vắng nhà"],
    ),
    "withdrawn": (
        ["da duoc rut"],
        f"Hồ sơ {CODE} đã được rút",
        ["đã được rút theo đề nghị của Ông/Bà", "Ngày rút hồ sơ: 04/12/2026", "Lý do: Không còn nhu cầu"],
    ),
}


@pytest.fixture
def contacts(received: Make) -> DossierContacts:
    return DossierContacts.from_event(received(CODE))


def by_channel(messages: list[OutgoingMessage]) -> dict[str, OutgoingMessage]:
    return {m.channel: m for m in messages}


@pytest.mark.parametrize("case", sorted(EVENTS))
def test_every_rule_fires_with_its_words(case: str, contacts: DossierContacts) -> None:
    event = EVENTS[case]
    sms_words, subject, mail_words = EXPECTED[case]
    messages = by_channel(plan(event, contacts, VN, default))
    assert set(messages) == {"sms", "email"}
    sms, mail = messages["sms"], messages["email"]

    assert sms.recipient == "0912345678" and sms.subject is None and sms.html is None
    assert sms.text.isascii(), sms.text  # no diacritics
    assert CODE in sms.text and LOOKUP in sms.text
    for words in sms_words:
        assert words in sms.text
    assert sms.segments == sms_segments(sms.text) == 1, sms.text

    assert mail.recipient == "dao.nguyen@example.vn" and mail.segments is None
    assert mail.subject == subject
    assert mail.html is not None and mail.text.startswith("Kính gửi Nguyễn Thị Đào,")
    for body in (mail.text, mail.html):
        assert CODE in body and LOOKUP in body and "Trung tâm Phục vụ hành chính công tỉnh Khánh Hòa" in body
    for words in mail_words:
        assert words in mail.text
    assert mail.template_key == rules.match(event.event_type, event).template  # type: ignore[union-attr]
    assert mail.template_version == sms.template_version == 1


def test_received_keeps_its_texts(received: Make) -> None:
    event = received(CODE)
    messages = by_channel(plan(event, DossierContacts.from_event(event), VN, default))
    assert messages["sms"].text == (f"Ho so {CODE} da duoc tiep nhan. Ngay hen tra: 01/12/2026. Tra cuu: {LOOKUP}")
    assert messages["email"].subject == f"Hồ sơ {CODE} đã được tiếp nhận"
    assert messages["sms"].template_key == "received"


def test_every_step_of_the_domain_has_a_rule() -> None:
    assert {rule.event_type for rule in rules.RULES} == {
        "DossierReceived",
        "SupplementRequested",
        "AgencySupplementRequested",
        "DossierRefused",
        "ApologyIssued",
        "PaymentRequested",
        "DossierResolved",
        "ResultHandedToPost",
        "ShipmentStatusChanged",
        "ResultDelivered",
        "DeliveryAttemptFailed",
        "ShipmentReturned",
        "DossierWithdrawn",
    }
    for key in rules.template_keys():
        for channel in templates.CHANNELS:
            templates.validate(key, channel, default(key, channel))  # the built-ins pass their own checks


@pytest.mark.parametrize("status", ["created", "picked_up", "in_transit", "delivered", "returned_to_sender"])
def test_other_shipment_statuses_say_nothing(status: str, contacts: DossierContacts) -> None:
    event = ShipmentStatusChanged(dossier_code=CODE, tracking_number="EL1", status=status, at=at(5))  # type: ignore[arg-type]
    assert rules.match(event.event_type, event) is None
    assert plan(event, contacts, VN, default) == []


def test_an_event_without_a_rule_or_for_an_unknown_dossier_gives_nothing(contacts: DossierContacts) -> None:
    assert plan(EVENTS["resolved"], None, VN, default) == []
    assert rules.match("StepAssigned", object()) is None


def test_result_by_post_says_so(received: Make) -> None:
    contacts = DossierContacts.from_event(received(CODE, return_channel="post", delivery_address="12 Trần Phú"))
    mail = by_channel(plan(EVENTS["resolved"], contacts, VN, default))["email"]
    assert "Hình thức nhận kết quả: qua dịch vụ bưu chính công ích, phát đến địa chỉ Ông/Bà đã đăng ký." in mail.text


def test_last_failed_attempt_says_no_attempt_is_left(contacts: DossierContacts) -> None:
    event = DeliveryAttemptFailed(
        dossier_code=CODE, tracking_number="EL1", attempt=2, reason="Vắng nhà", failed_at=at(5), next_attempt_after=None
    )
    mail = by_channel(plan(event, contacts, VN, default))["email"]
    assert "Lần phát tiếp theo: không còn (kết quả sẽ được chuyển hoàn về Trung tâm)" in mail.text


@pytest.mark.parametrize(
    ("channels", "applicant", "expected"),
    [
        (["sms", "email"], {}, ["sms", "email"]),
        (["email"], {}, ["email"]),
        (["sms"], {}, ["sms"]),
        ([], {}, []),
        (["sms", "email"], {"phone": None}, ["email"]),
        (["sms", "email"], {"email": " "}, ["sms"]),
    ],
)
def test_later_steps_use_only_the_chosen_channels_with_an_address(
    received: Make, channels: list[str], applicant: dict[str, str | None], expected: list[str]
) -> None:
    contacts = DossierContacts.from_event(received(CODE, notify_channels=channels, applicant=applicant))
    assert [m.channel for m in plan(EVENTS["resolved"], contacts, VN, default)] == expected


def test_user_data_is_escaped_in_html_only(received: Make) -> None:
    contacts = DossierContacts.from_event(received(CODE, applicant={"full_name": "<b>Đào</b> & Co"}))
    event = DossierRefused(dossier_code=CODE, reasons=['<script>alert("x")</script>'], refused_at=at(1), refused_by="o")
    mail = by_channel(plan(event, contacts, VN, default))["email"]
    assert mail.html is not None and "<script>" not in mail.html and "<b>Đào</b>" not in mail.html
    assert (
        "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in mail.html
        and "&lt;b&gt;Đào&lt;/b&gt; &amp; Co" in mail.html
    )
    assert '<script>alert("x")</script>' in mail.text


def test_a_long_sms_is_still_rendered_and_counts_its_segments(contacts: DossierContacts) -> None:
    long = Template(text="Ho so {code}: " + "x" * 150 + " {lookup_url}")
    messages = by_channel(plan(EVENTS["resolved"], contacts, VN, lambda key, channel: long))
    assert messages["sms"].segments == 2
    assert messages["email"].text.startswith("Ho so ")  # the same template source answered for e-mail


def test_the_stored_version_is_used_and_recorded(contacts: DossierContacts) -> None:
    edited = Template(text="Ho so {code} xong roi. {lookup_url}", version=3)
    source = {("result_ready", "sms"): edited}
    messages = by_channel(plan(EVENTS["resolved"], contacts, VN, lambda k, c: source.get((k, c)) or default(k, c)))
    assert messages["sms"].text == f"Ho so {CODE} xong roi. {LOOKUP}"
    assert messages["sms"].template_version == 3 and messages["email"].template_version == 1


def test_a_placeholder_no_rule_gives_stays_as_written(contacts: DossierContacts) -> None:
    old = Template(text="Ho so {code} {retired_field} {lookup_url}")
    [sms] = plan(EVENTS["resolved"], replace(contacts, notify_channels=["sms"]), VN, lambda key, channel: old)
    assert sms.text == f"Ho so {CODE} {{retired_field}} {LOOKUP}"


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("[" * 80, 1),  # extension characters count double
        ("a" * 159 + "~", 2),
        ("a" * 158 + "€", 1),
    ],
)
def test_gsm7_segments(text: str, segments: int) -> None:
    assert sms_segments(text) == segments


# --- template validation -------------------------------------------------------------------------


def problems(key: str, channel: str, template: Template) -> list[str]:
    with pytest.raises(templates.TemplateError) as info:
        templates.validate(key, channel, template)  # type: ignore[arg-type]
    return info.value.problems


def test_sms_template_must_be_plain_gsm7_ascii() -> None:
    [problem] = problems("result_ready", "sms", Template(text="Hồ sơ {code} đã có kết quả. {lookup_url}"))
    assert "plain ASCII in the GSM-7 alphabet" in problem and "'ồ'" in problem
    [problem] = problems("result_ready", "sms", Template(text="Ho so {code} `da co` {lookup_url}"))
    assert "'`'" in problem  # ASCII but not GSM-7


def test_template_with_unknown_placeholder_is_refused() -> None:
    [problem] = problems("result_ready", "sms", Template(text="Ho so {code} {tracking_number} {lookup_url}"))
    assert "unknown placeholder(s) {tracking_number}" in problem
    templates.validate("delivery_failed", "sms", Template(text="Lan {attempt} {code} {lookup_url}"))  # known there


def test_template_with_unbalanced_braces_is_refused() -> None:
    for text in ("Ho so {code {lookup_url}", "Ho so code} {code} {lookup_url}"):
        [problem] = problems("result_ready", "sms", Template(text=text))
        assert "unbalanced braces" in problem


def test_template_fields_must_be_plain_names() -> None:
    for text in (
        "{code.__class__} {lookup_url}",
        "{code!r} {lookup_url}",
        "{code:>20} {lookup_url}",
        "{} {code} {lookup_url}",
    ):
        found = problems("result_ready", "sms", Template(text=text))
        assert any("must be a plain name" in p for p in found), found


def test_sms_must_name_the_code_and_lookup_link() -> None:
    [problem] = problems("result_ready", "sms", Template(text="Ket qua da co"))
    assert problem == "text: an SMS must name {code} and {lookup_url}"


def test_email_needs_subject_and_html_and_sms_has_neither() -> None:
    found = problems("result_ready", "email", Template(text="Kết quả hồ sơ {code} đã có"))
    assert found == ["subject: an e-mail needs a subject", "html: an e-mail needs a html"]
    found = problems("result_ready", "sms", Template(text="{code} {lookup_url}", subject="x", html="<p>x</p>"))
    assert found == ["subject: an SMS has no subject", "html: an SMS has no html"]


def test_email_template_may_use_diacritics_and_event_placeholders() -> None:
    templates.validate(
        "delivery_failed",
        "email",
        Template(
            subject="Phát không thành công lần {attempt}",
            text="Hồ sơ {code}: lần phát tiếp theo {next_attempt_date}",
            html="<p>{{literal}} {reason}</p>",
        ),
    )
