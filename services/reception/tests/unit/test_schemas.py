"""The intake request shapes: what the API refuses with a 422 before any use case runs."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from reception.api.schemas import IntakeRequest, OnlineSubmission

LANDLINE = "0258 3822 222"


def body(**changes: Any) -> dict[str, Any]:
    return {
        "procedure_code": "1.012753.000.00.00.H56",
        "applicant": {"full_name": "Lê Văn An", "phone": LANDLINE},
        "notify_channels": ["sms"],
    } | changes


@pytest.mark.parametrize("outcome", ["request_supplement", "refuse"])
def test_sms_to_a_landline_is_refused_at_the_counter_whatever_the_outcome(outcome: str) -> None:
    with pytest.raises(ValidationError, match="mobile phone number"):
        IntakeRequest.model_validate(body(outcome=outcome, reasons=["Bản sao sổ hộ khẩu bị mờ"]))


def test_sms_to_a_landline_is_refused_online() -> None:
    with pytest.raises(ValidationError, match="mobile phone number"):
        OnlineSubmission.model_validate(body(centre_code="000.00.06.H56"))


def test_a_landline_without_sms_is_a_contact_in_the_national_form() -> None:
    request = IntakeRequest.model_validate(
        body(
            notify_channels=["email"], applicant={"full_name": "Lê Văn An", "phone": LANDLINE, "email": "an@example.vn"}
        )
    )
    assert request.applicant.phone == "02583822222"
    mobile = IntakeRequest.model_validate(body(applicant={"full_name": "Lê Văn An", "phone": "+84 905 123 456"}))
    assert mobile.applicant.phone == "0905123456"
