from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from motcua_kit.values import mask_email, mask_phone
from notify.api.preferences import OptOutIn
from notify.api.schemas import NotificationView


def test_recipients_are_masked() -> None:
    assert mask_phone("0912345123") == "*******123"
    assert mask_email("nguyen.van.a@gmail.com") == "n***@g***"


def test_view_leaves_out_bodies_and_masks_errors() -> None:
    now = datetime(2026, 11, 23, tzinfo=UTC)
    doc = {
        "_id": "sms-1",
        "dossier_code": "C-1",
        "trigger_event_type": "DossierReceived",
        "channel": "email",
        "recipient": "dao.nguyen@example.vn",
        "subject": "Hồ sơ C-1",
        "text": "Kính gửi Nguyễn Thị Đào",
        "html": "<p>Kính gửi Nguyễn Thị Đào</p>",
        "status": "failed",
        "attempts": 1,
        "created_at": now,
        "next_attempt_at": now,
        "sent_at": None,
        "provider": "smtp",
        "provider_reference": None,
        "last_error": "recipient_refused: 550 <dao.nguyen@example.vn> unknown",
        "history": [
            {"status": "pending", "at": now, "note": None},
            {"status": "failed", "at": now, "note": "550 <dao.nguyen@example.vn> unknown"},
        ],
    }
    dumped = NotificationView.from_doc(doc).model_dump_json()
    assert "dao.nguyen" not in dumped and "Nguyễn" not in dumped and "Kính gửi" not in dumped
    assert '"recipient":"d***@e***"' in dumped


@pytest.mark.parametrize(
    ("channel", "recipient", "accepted"),
    [
        ("sms", "0912345678", True),
        ("sms", "+84 912 345 678", True),
        ("sms", "84.912.345.678", True),
        ("sms", "(091) 234-5678", True),
        ("sms", "02438251234", False),  # a landline gets no SMS
        ("sms", "091234567", False),
        ("sms", "0612345678", False),
        ("sms", "dao@example.vn", False),
        ("email", "dao@example.vn", True),
        ("email", "0912345678", False),
    ],
)
def test_an_opt_out_names_a_mobile_for_sms_and_an_address_for_email(
    channel: str, recipient: str, accepted: bool
) -> None:
    body = {"channel": channel, "recipient": recipient}
    if accepted:
        assert OptOutIn.model_validate(body).recipient == recipient
    else:
        with pytest.raises(ValidationError):
            OptOutIn.model_validate(body)
