# ruff: noqa: E501  # message templates read as the citizen reads them
"""What notify tells the citizen, as data: one built-in template per (template key, channel).

Templates are ``str.format`` strings with named placeholders only (:func:`notify.domain.rules.placeholders`).
SMS templates are plain ASCII, GSM-7 (the rendered text is unaccented as well) and name the dossier code and
the lookup link; e-mails are full Vietnamese with diacritics, as a subject, a text part and an HTML part
(user data is HTML-escaped when rendered). The built-ins are version 1 of each template; staff edits are
stored as later versions.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from notify.domain import rules
from notify.domain.text import GSM7_BASIC, GSM7_EXTENSION

Channel = Literal["sms", "email"]
CHANNELS: tuple[Channel, ...] = ("sms", "email")


@dataclass(frozen=True)
class Template:
    text: str
    subject: str | None = None
    html: str | None = None
    version: int = 1


# --- e-mail building blocks ----------------------------------------------------------------------

_GREETING = "Kính gửi {full_name},\n\n"

_FOOTER = """
Tra cứu tình trạng hồ sơ tại: {lookup_url}
Khi tra cứu, Ông/Bà nhập mã hồ sơ cùng số điện thoại hoặc số giấy tờ tùy thân (CCCD) ghi trên Giấy tiếp nhận hồ sơ và hẹn trả kết quả.

Đây là thư gửi tự động, xin vui lòng không trả lời thư này.
{centre_name}
"""

_HTML_FOOTER = """<p>Tra cứu tình trạng hồ sơ tại: <a href="{lookup_url}">{lookup_url}</a></p>
<p>Khi tra cứu, Ông/Bà nhập mã hồ sơ cùng số điện thoại hoặc số giấy tờ tùy thân (CCCD) ghi trên
Giấy tiếp nhận hồ sơ và hẹn trả kết quả.</p>
<p><small>Đây là thư gửi tự động, xin vui lòng không trả lời thư này.<br>{centre_name}</small></p>
</body>
</html>
"""


def _email(subject: str, text_body: str, html_body: str) -> Template:
    """An e-mail template: greeting, ``text_body`` / ``html_body``, then the lookup footer."""
    html = (
        '<!DOCTYPE html>\n<html lang="vi">\n'
        f'<head><meta charset="utf-8"><title>{subject}</title></head>\n<body>\n'
        "<p>Kính gửi {full_name},</p>\n" + html_body + _HTML_FOOTER
    )
    return Template(subject=subject, text=_GREETING + text_body + _FOOTER, html=html)


def _rows(*rows: tuple[str, str]) -> str:
    cells = "".join(f"<tr><td>{label}</td><td>{value}</td></tr>\n" for label, value in rows)
    return f"<table>\n{cells}</table>\n"


# --- the built-ins -------------------------------------------------------------------------------

RECEIVED_SMS = "Ho so {code} da duoc tiep nhan. Ngay hen tra: {appointment_date}. Tra cuu: {lookup_url}"

RECEIVED_EMAIL = _email(
    "Hồ sơ {code} đã được tiếp nhận",
    """{centre_name} đã tiếp nhận hồ sơ {code} của Ông/Bà.

Thủ tục: {procedure_name}
Thời điểm tiếp nhận: {received}
Ngày hẹn trả kết quả: {appointment}
""",
    "<p>{centre_name} đã tiếp nhận hồ sơ <strong>{code}</strong> của Ông/Bà.</p>\n"
    + _rows(
        ("Thủ tục:", "{procedure_name}"),
        ("Thời điểm tiếp nhận:", "{received}"),
        ("Ngày hẹn trả kết quả:", "<strong>{appointment}</strong>"),
    ),
)

SUPPLEMENT_EMAIL = _email(
    "Hồ sơ {code} cần bổ sung giấy tờ",
    """Hồ sơ {code} của Ông/Bà cần bổ sung, hoàn thiện giấy tờ.

Thủ tục: {procedure_name}
Ngày yêu cầu: {requested_date}
Nội dung cần bổ sung: {reasons}

Ông/Bà vui lòng bổ sung giấy tờ tại {centre_name}. Thời gian giải quyết hồ sơ được tính tiếp khi hồ sơ đã được bổ sung đầy đủ.
""",
    "<p>Hồ sơ <strong>{code}</strong> của Ông/Bà cần bổ sung, hoàn thiện giấy tờ.</p>\n"
    + _rows(
        ("Thủ tục:", "{procedure_name}"),
        ("Ngày yêu cầu:", "{requested_date}"),
        ("Nội dung cần bổ sung:", "<strong>{reasons}</strong>"),
    )
    + "<p>Ông/Bà vui lòng bổ sung giấy tờ tại {centre_name}. Thời gian giải quyết hồ sơ được tính tiếp khi hồ sơ"
    " đã được bổ sung đầy đủ.</p>\n",
)

REFUSED_EMAIL = _email(
    "Hồ sơ {code} không được tiếp nhận",
    """{centre_name} rất tiếc không thể tiếp nhận hồ sơ {code} của Ông/Bà.

Thủ tục: {procedure_name}
Ngày từ chối: {refused_date}
Lý do: {reasons}
""",
    "<p>{centre_name} rất tiếc không thể tiếp nhận hồ sơ <strong>{code}</strong> của Ông/Bà.</p>\n"
    + _rows(("Thủ tục:", "{procedure_name}"), ("Ngày từ chối:", "{refused_date}"), ("Lý do:", "{reasons}")),
)

APOLOGY_EMAIL = _email(
    "Thư xin lỗi và hẹn lại ngày trả kết quả hồ sơ {code}",
    """{centre_name} chân thành xin lỗi Ông/Bà vì hồ sơ {code} không thể trả kết quả đúng hẹn.

Thủ tục: {procedure_name}
Ngày hẹn trả trước đây: {previous_appointment}
Lý do: {reason}
Ngày hẹn trả kết quả mới: {new_appointment}

Mong Ông/Bà thông cảm.
""",
    "<p>{centre_name} chân thành xin lỗi Ông/Bà vì hồ sơ <strong>{code}</strong> không thể trả kết quả đúng hẹn.</p>\n"
    + _rows(
        ("Thủ tục:", "{procedure_name}"),
        ("Ngày hẹn trả trước đây:", "{previous_appointment}"),
        ("Lý do:", "{reason}"),
        ("Ngày hẹn trả kết quả mới:", "<strong>{new_appointment}</strong>"),
    )
    + "<p>Mong Ông/Bà thông cảm.</p>\n",
)

PAYMENT_EMAIL = _email(
    "Hồ sơ {code}: đề nghị thực hiện nghĩa vụ tài chính",
    """Để tiếp tục giải quyết hồ sơ {code}, Ông/Bà vui lòng thực hiện nghĩa vụ tài chính.

Thủ tục: {procedure_name}
Nội dung: {description}
Số tiền: {amount} đồng
""",
    "<p>Để tiếp tục giải quyết hồ sơ <strong>{code}</strong>, Ông/Bà vui lòng thực hiện nghĩa vụ tài chính.</p>\n"
    + _rows(
        ("Thủ tục:", "{procedure_name}"), ("Nội dung:", "{description}"), ("Số tiền:", "<strong>{amount} đồng</strong>")
    ),
)

RESULT_READY_EMAIL = _email(
    "Kết quả hồ sơ {code} đã có",
    """Kết quả giải quyết hồ sơ {code} của Ông/Bà đã có.

Thủ tục: {procedure_name}
Thời điểm có kết quả: {resolved}
Kết quả: {result_summary}

Hình thức nhận kết quả: {return_method}.
""",
    "<p>Kết quả giải quyết hồ sơ <strong>{code}</strong> của Ông/Bà đã có.</p>\n"
    + _rows(("Thủ tục:", "{procedure_name}"), ("Thời điểm có kết quả:", "{resolved}"), ("Kết quả:", "{result_summary}"))
    + "<p>Hình thức nhận kết quả: {return_method}.</p>\n",
)

HANDED_TO_POST_EMAIL = _email(
    "Kết quả hồ sơ {code} đã được chuyển cho bưu điện",
    """Kết quả hồ sơ {code} đã được giao cho bưu điện để phát đến địa chỉ Ông/Bà đã đăng ký.

Thủ tục: {procedure_name}
Thời điểm giao cho bưu điện: {handed_over}
Số hiệu bưu gửi: {tracking_number}
Ngày phát dự kiến: {target_date}

Khi nhận kết quả, Ông/Bà vui lòng xuất trình CCCD, hộ chiếu hoặc giấy ủy quyền.
""",
    "<p>Kết quả hồ sơ <strong>{code}</strong> đã được giao cho bưu điện để phát đến địa chỉ Ông/Bà đã đăng ký.</p>\n"
    + _rows(
        ("Thủ tục:", "{procedure_name}"),
        ("Thời điểm giao cho bưu điện:", "{handed_over}"),
        ("Số hiệu bưu gửi:", "<strong>{tracking_number}</strong>"),
        ("Ngày phát dự kiến:", "{target_date}"),
    )
    + "<p>Khi nhận kết quả, Ông/Bà vui lòng xuất trình CCCD, hộ chiếu hoặc giấy ủy quyền.</p>\n",
)

OUT_FOR_DELIVERY_EMAIL = _email(
    "Bưu điện đang phát kết quả hồ sơ {code}",
    """Bưu điện đang phát kết quả hồ sơ {code} đến địa chỉ của Ông/Bà.

Số hiệu bưu gửi: {tracking_number}

Khi nhận kết quả, Ông/Bà vui lòng xuất trình CCCD, hộ chiếu hoặc giấy ủy quyền.
""",
    "<p>Bưu điện đang phát kết quả hồ sơ <strong>{code}</strong> đến địa chỉ của Ông/Bà.</p>\n"
    + _rows(("Số hiệu bưu gửi:", "<strong>{tracking_number}</strong>"))
    + "<p>Khi nhận kết quả, Ông/Bà vui lòng xuất trình CCCD, hộ chiếu hoặc giấy ủy quyền.</p>\n",
)

DELIVERED_EMAIL = _email(
    "Kết quả hồ sơ {code} đã được phát thành công",
    """Kết quả hồ sơ {code} đã được phát thành công.

Thủ tục: {procedure_name}
Số hiệu bưu gửi: {tracking_number}
Thời điểm phát: {delivered}
""",
    "<p>Kết quả hồ sơ <strong>{code}</strong> đã được phát thành công.</p>\n"
    + _rows(
        ("Thủ tục:", "{procedure_name}"), ("Số hiệu bưu gửi:", "{tracking_number}"), ("Thời điểm phát:", "{delivered}")
    ),
)

DELIVERY_FAILED_EMAIL = _email(
    "Phát không thành công lần {attempt} kết quả hồ sơ {code}",
    """Bưu điện phát không thành công lần {attempt} kết quả hồ sơ {code}.

Số hiệu bưu gửi: {tracking_number}
Lý do: {reason}
Lần phát tiếp theo: {next_attempt_date}
""",
    "<p>Bưu điện phát không thành công lần {attempt} kết quả hồ sơ <strong>{code}</strong>.</p>\n"
    + _rows(
        ("Số hiệu bưu gửi:", "{tracking_number}"),
        ("Lý do:", "{reason}"),
        ("Lần phát tiếp theo:", "<strong>{next_attempt_date}</strong>"),
    ),
)

RETURNED_EMAIL = _email(
    "Kết quả hồ sơ {code} đã chuyển hoàn về Trung tâm",
    """Bưu điện đã phát {attempts} lần không thành công. Kết quả hồ sơ {code} đã chuyển hoàn về Trung tâm.

Số hiệu bưu gửi: {tracking_number}
Ngày chuyển hoàn: {returned_date}
Lý do: {reason}

Ông/Bà vui lòng đến nhận kết quả tại {centre_name}.
""",
    "<p>Bưu điện đã phát {attempts} lần không thành công. Kết quả hồ sơ <strong>{code}</strong> đã chuyển hoàn về Trung tâm.</p>\n"
    + _rows(("Số hiệu bưu gửi:", "{tracking_number}"), ("Ngày chuyển hoàn:", "{returned_date}"), ("Lý do:", "{reason}"))
    + "<p>Ông/Bà vui lòng đến nhận kết quả tại {centre_name}.</p>\n",
)

WITHDRAWN_EMAIL = _email(
    "Hồ sơ {code} đã được rút",
    """{centre_name} xác nhận hồ sơ {code} đã được rút theo đề nghị của Ông/Bà.

Thủ tục: {procedure_name}
Ngày rút hồ sơ: {withdrawn_date}
Lý do: {reason}
""",
    "<p>{centre_name} xác nhận hồ sơ <strong>{code}</strong> đã được rút theo đề nghị của Ông/Bà.</p>\n"
    + _rows(("Thủ tục:", "{procedure_name}"), ("Ngày rút hồ sơ:", "{withdrawn_date}"), ("Lý do:", "{reason}")),
)

DEFAULTS: Mapping[tuple[str, Channel], Template] = {
    ("received", "sms"): Template(text=RECEIVED_SMS),
    ("received", "email"): RECEIVED_EMAIL,
    ("supplement_requested", "sms"): Template(text="Ho so {code} can bo sung giay to. Chi tiet tai: {lookup_url}"),
    ("supplement_requested", "email"): SUPPLEMENT_EMAIL,
    ("refused", "sms"): Template(text="Ho so {code} khong duoc tiep nhan. Ly do xem tai: {lookup_url}"),
    ("refused", "email"): REFUSED_EMAIL,
    ("apology", "sms"): Template(
        text="Xin loi: ho so {code} chua the tra dung hen. Ngay hen tra moi: {new_appointment_date}. Tra cuu: {lookup_url}"
    ),
    ("apology", "email"): APOLOGY_EMAIL,
    ("payment_requested", "sms"): Template(
        text="Ho so {code} can nop phi, le phi {amount} dong. Chi tiet tai: {lookup_url}"
    ),
    ("payment_requested", "email"): PAYMENT_EMAIL,
    ("result_ready", "sms"): Template(text="Ket qua ho so {code} da co. Tra cuu: {lookup_url}"),
    ("result_ready", "email"): RESULT_READY_EMAIL,
    ("handed_to_post", "sms"): Template(
        text="Ket qua ho so {code} da chuyen buu dien, so hieu {tracking_number}, du kien phat {target_date}. Tra cuu: {lookup_url}"
    ),
    ("handed_to_post", "email"): HANDED_TO_POST_EMAIL,
    ("out_for_delivery", "sms"): Template(
        text="Buu dien dang phat ket qua ho so {code}. Vui long chuan bi CCCD khi nhan. Tra cuu: {lookup_url}"
    ),
    ("out_for_delivery", "email"): OUT_FOR_DELIVERY_EMAIL,
    ("delivered", "sms"): Template(text="Ket qua ho so {code} da duoc phat thanh cong. Tra cuu: {lookup_url}"),
    ("delivered", "email"): DELIVERED_EMAIL,
    ("delivery_failed", "sms"): Template(
        text="Phat khong thanh cong lan {attempt} ket qua ho so {code}. Lan phat tiep theo: {next_attempt_date}. Tra cuu: {lookup_url}"
    ),
    ("delivery_failed", "email"): DELIVERY_FAILED_EMAIL,
    ("returned_to_centre", "sms"): Template(
        text="Ket qua ho so {code} da chuyen hoan ve Trung tam, moi den nhan tai Trung tam. Tra cuu: {lookup_url}"
    ),
    ("returned_to_centre", "email"): RETURNED_EMAIL,
    ("withdrawn", "sms"): Template(text="Ho so {code} da duoc rut theo de nghi cua Ong/Ba. Tra cuu: {lookup_url}"),
    ("withdrawn", "email"): WITHDRAWN_EMAIL,
}

RETURN_METHODS: Mapping[str, str] = {
    "counter": "nhận trực tiếp tại {centre_name}",
    "post": "qua dịch vụ bưu chính công ích, phát đến địa chỉ Ông/Bà đã đăng ký",
}
"""The ``{return_method}`` placeholder, by the return channel chosen on the dossier."""

SAMPLE_VALUES: Mapping[str, str] = {
    "code": "000.00.06.H56-261123-0001",
    "full_name": "Nguyễn Thị Đào",
    "centre_name": "Trung tâm Phục vụ hành chính công tỉnh Khánh Hòa",
    "procedure_name": "Cấp giấy phép xây dựng nhà ở riêng lẻ",
    "lookup_url": "https://dichvucong.khanhhoa.gov.vn/tra-cuu",
    "appointment": "08:00 ngày 01/12/2026",
    "appointment_date": "01/12/2026",
    "return_method": "nhận trực tiếp tại Trung tâm Phục vụ hành chính công tỉnh Khánh Hòa",
    "received": "09:15 ngày 23/11/2026",
    "reasons": "Thiếu bản vẽ thiết kế; Bản sao giấy chứng nhận quyền sử dụng đất chưa được chứng thực",
    "reason": "Cần xác minh thêm hiện trạng thửa đất",
    "requested_date": "24/11/2026",
    "refused_date": "23/11/2026",
    "previous_appointment": "08:00 ngày 01/12/2026",
    "new_appointment": "08:00 ngày 08/12/2026",
    "new_appointment_date": "08/12/2026",
    "amount": "1.500.000",
    "description": "Lệ phí cấp giấy phép xây dựng",
    "resolved": "14:20 ngày 30/11/2026",
    "result_summary": "Giấy phép xây dựng số 123/GPXD",
    "tracking_number": "EL123456789VN",
    "handed_over": "15:00 ngày 30/11/2026",
    "target_date": "02/12/2026",
    "delivered": "10:05 ngày 02/12/2026",
    "attempt": "1",
    "next_attempt_date": "04/12/2026",
    "returned_date": "08/12/2026",
    "attempts": "2",
    "withdrawn_date": "25/11/2026",
}
"""Sample data for previews: one value for every placeholder a rule can give."""


def known(key: str, channel: str) -> bool:
    return (key, channel) in DEFAULTS


def default(key: str, channel: Channel) -> Template:
    return DEFAULTS[(key, channel)]


class TemplateError(ValueError):
    """A template staff wrote cannot be used; ``problems`` says every reason, one line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _placeholders_in(part: str, name: str, problems: list[str]) -> list[str] | None:
    """The placeholder names used in ``part`` (None when it cannot be read); problems are appended."""
    try:
        parsed = list(string.Formatter().parse(part))
    except ValueError as exc:
        problems.append(f"{name}: unbalanced braces ({exc}); write a literal brace as {{{{ or }}}}")
        return None
    names: list[str] = []
    for _, field_name, spec, conversion in parsed:
        if field_name is None:
            continue
        if not field_name.isidentifier() or spec or conversion:
            problems.append(f"{name}: placeholder {{{field_name}}} must be a plain name like {{code}}")
            continue
        names.append(field_name)
    return names


def validate(key: str, channel: Channel, template: Template) -> None:
    """Raises :class:`TemplateError` unless ``template`` can be used for ``key`` on ``channel``."""
    problems: list[str] = []
    allowed = set(rules.placeholders(key))
    parts = {"text": template.text, "subject": template.subject, "html": template.html}
    if channel == "sms":
        for extra in ("subject", "html"):
            if parts[extra] is not None:
                problems.append(f"{extra}: an SMS has no {extra}")
        bad = sorted({ch for ch in template.text if not (ch.isascii() and (ch in GSM7_BASIC or ch in GSM7_EXTENSION))})
        if bad:
            problems.append(
                "text: an SMS template must be plain ASCII in the GSM-7 alphabet (no diacritics); "
                f"not allowed: {' '.join(repr(ch) for ch in bad)}"
            )
    else:
        for needed in ("subject", "html"):
            if not (parts[needed] or "").strip():
                problems.append(f"{needed}: an e-mail needs a {needed}")
    if not template.text.strip():
        problems.append("text: must not be empty")
    used: dict[str, list[str]] = {}
    for name, part in parts.items():
        if part is not None and (names := _placeholders_in(part, name, problems)) is not None:
            used[name] = names
    for name, names in used.items():
        unknown = sorted(set(names) - allowed)
        if unknown:
            problems.append(
                f"{name}: unknown placeholder(s) {', '.join('{' + n + '}' for n in unknown)}; "
                f"allowed: {', '.join('{' + n + '}' for n in rules.placeholders(key))}"
            )
    if channel == "sms" and "text" in used:
        missing = [p for p in ("code", "lookup_url") if p not in used["text"]]
        if missing:
            problems.append(f"text: an SMS must name {' and '.join('{' + p + '}' for p in missing)}")
    if problems:
        raise TemplateError(problems)


@dataclass(frozen=True)
class TemplateVersion:
    """One version of a (key, channel) template: a staff edit, or the built-in (version 1)."""

    key: str
    channel: Channel
    template: Template
    builtin: bool
    created_at: datetime | None = None
    created_by: str | None = None

    @classmethod
    def builtin_of(cls, key: str, channel: Channel) -> TemplateVersion:
        return cls(key=key, channel=channel, template=default(key, channel), builtin=True)
