"""Phone numbers and report periods: one rule for every service."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from pydantic import BaseModel, ValidationError

from motcua_kit.errors import Invalid
from motcua_kit.values import PhoneNumber, ReportPeriod, is_mobile, mask_email, mask_phone, normalise_phone


@pytest.mark.parametrize(
    ("raw", "national"),
    [
        ("0912345678", "0912345678"),
        ("091 234 5678", "0912345678"),
        ("091.234.5678", "0912345678"),
        ("(091) 234-5678", "0912345678"),
        ("+84912345678", "0912345678"),
        ("84912345678", "0912345678"),
        ("+84 91 234 5678", "0912345678"),
        ("02438251234", "02438251234"),
        ("842438251234", "02438251234"),
    ],
)
def test_phone_numbers_are_written_in_national_form(raw: str, national: str) -> None:
    assert normalise_phone(raw) == national


@pytest.mark.parametrize("raw", ["", None, "12345", "0112345678", "091234567", "09123456789", "abc0912345678"])
def test_what_is_not_a_vietnamese_number_is_none(raw: str | None) -> None:
    assert normalise_phone(raw) is None


def test_mobile_or_landline() -> None:
    assert is_mobile("0912345678") and not is_mobile("02438251234")


def test_a_phone_field_normalises_or_says_what_is_wrong() -> None:
    class Form(BaseModel):
        phone: PhoneNumber

    assert Form(phone="+84 912 345 678").phone == "0912345678"
    with pytest.raises(ValidationError, match="not a Vietnamese phone number"):
        Form(phone="12345")


def test_masking_is_one_rule() -> None:
    assert mask_phone("0912345123") == "*******123"
    assert mask_email("nguyen.van.a@gmail.com") == "n***@g***"
    assert mask_email("0912345123") == "*******123"


def test_report_period_bounds() -> None:
    period = ReportPeriod.checked(date(2026, 1, 1), date(2026, 12, 31))
    assert period.days == 365
    zone = ZoneInfo("Asia/Ho_Chi_Minh")
    assert period.start(zone) == datetime(2026, 1, 1, tzinfo=zone)
    assert period.end(zone) == datetime(2027, 1, 1, tzinfo=zone)
    assert ReportPeriod.checked(date(2028, 1, 1), date(2028, 12, 31)).days == 366  # a leap year is allowed
    with pytest.raises(Invalid) as too_long:
        ReportPeriod.checked(date(2026, 1, 1), date(2027, 1, 2))
    assert too_long.value.code == "period_too_long" and "367 days" in too_long.value.message
    for first, last in ((date(1, 1, 1), date(1, 1, 2)), (date(9999, 12, 30), date(9999, 12, 31))):
        with pytest.raises(Invalid) as out_of_range:  # local midnight there does not fit a UTC datetime
            ReportPeriod.checked(first, last)
        assert out_of_range.value.code == "period_out_of_range"
    with pytest.raises(Invalid) as reversed_:
        ReportPeriod.checked(date(2026, 2, 1), date(2026, 1, 31))
    assert reversed_.value.code == "period_reversed"
