"""Postal's pure rules: addresses, transit targets, report ordering, failed attempts, signatures."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from motcua_kit.values import normalise_phone
from motcua_worktime import WorkCalendar
from postal.domain.addresses import AddressProblem, parse_address, place_key
from postal.domain.tracking import Report, confirmation_problem, failed_attempt, is_ahead, status_after
from postal.domain.transit import TransitRules, add_postal_days, relation, target_date
from postal.service.tracking import verify_signature

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def test_an_address_splits_into_street_commune_and_province() -> None:
    a = parse_address("12  Trần Phú, Tổ 3, phường Nha Trang ,  tỉnh Khánh Hòa")
    assert (a.street, a.commune, a.province) == ("12 Trần Phú, Tổ 3", "phường Nha Trang", "tỉnh Khánh Hòa")
    assert parse_address("Thôn 2, xã Cam Lâm, Tỉnh Khánh Hòa").commune == "xã Cam Lâm"
    assert parse_address("1 Lê Lợi, đặc khu Trường Sa, tỉnh Khánh Hòa").commune == "đặc khu Trường Sa"
    assert parse_address("8 Nguyễn Huệ, phường Sài Gòn, TP. Hồ Chí Minh").province == "TP. Hồ Chí Minh"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "empty"),
        ("12 Trần Phú, Nha Trang", "'<house and street>, <commune>, <province>'"),
        ("12 Trần Phú, phường Nha Trang, Khánh Hòa", "province"),
        ("12 Trần Phú, Nha Trang, tỉnh Khánh Hòa", "commune"),
    ],
)
def test_an_address_without_commune_or_province_is_a_problem_that_says_why(text: str, says: str) -> None:
    with pytest.raises(AddressProblem, match=says):
        parse_address(text)


def test_place_names_compare_without_prefix_case_or_accents() -> None:
    assert place_key("TP. Hồ Chí Minh") == place_key("thành phố Hồ Chí Minh") == place_key("Thành Phố Hồ Chí Minh")
    assert place_key("tỉnh Khánh Hòa") == place_key("Khánh Hoà")  # old and new accent placement
    assert place_key("phường Nha Trang") != place_key("phường Cam Ranh")


@pytest.mark.parametrize(
    ("raw", "national"),
    [
        ("0905 123 456", "0905123456"),
        ("+84 905.123.456", "0905123456"),
        ("84905123456", "0905123456"),
        ("0258 3568 686", "02583568686"),
        ("0123 456 789", None),
        ("12345", None),
        (None, None),
    ],
)
def test_phones_are_normalised_before_they_reach_the_carrier(raw: str | None, national: str | None) -> None:
    assert normalise_phone(raw) == national


def test_transit_targets_count_postal_days_by_origin_and_destination() -> None:
    centre = parse_address("26 Hoàng Hoa Thám, phường Nha Trang, tỉnh Khánh Hòa")
    same = parse_address("12 Trần Phú, phường Nha Trang, tỉnh Khánh Hòa")
    province = parse_address("5 Hùng Vương, phường Cam Ranh, tỉnh Khánh Hòa")
    far = parse_address("1 Tràng Tiền, phường Hoàn Kiếm, thành phố Hà Nội")
    assert [relation(centre, d) for d in (same, province, far)] == ["same_commune", "same_province", "other_province"]
    rules = TransitRules()
    thursday = date(2026, 12, 3)
    assert target_date(thursday, centre, same, rules) == date(2026, 12, 4)  # J+1
    assert target_date(thursday, centre, province, rules) == date(2026, 12, 5)  # J+2, Saturday counts
    assert target_date(thursday, centre, far, rules) == date(2026, 12, 7)  # J+3, Sunday skipped
    assert target_date(thursday, centre, far, rules, with_appointment_slip=True) == date(2026, 12, 8)  # J+4


def test_public_holidays_are_not_postal_days() -> None:
    # 29/4/2026 + 1 day: 30/4 and 1/5 are holidays, 2/5 is a Saturday (counted), 3/5 a Sunday.
    assert add_postal_days(date(2026, 4, 29), 1) == date(2026, 5, 2)
    assert add_postal_days(date(2026, 4, 29), 2) == date(2026, 5, 4)


def r(status: str, attempt: int | None = None) -> Report:
    return Report(status=status, at=datetime(2026, 12, 3, 3, tzinfo=UTC), attempt=attempt)  # type: ignore[arg-type]


def test_reports_move_a_shipment_only_forward() -> None:
    assert is_ahead(r("picked_up"), None, None)
    assert is_ahead(r("in_transit"), "picked_up", None)
    assert not is_ahead(r("picked_up"), "in_transit", None)
    assert not is_ahead(r("in_transit"), "in_transit", None)  # the same step again
    assert is_ahead(r("out_for_delivery", 1), "in_transit", None)
    assert is_ahead(r("delivery_failed", 1), "out_for_delivery", 1)
    assert is_ahead(r("out_for_delivery", 2), "delivery_failed", 1)  # a new attempt
    assert not is_ahead(r("delivery_failed", 1), "out_for_delivery", 2)  # a late report of the first
    assert is_ahead(r("delivered", 2), "out_for_delivery", 2)
    assert is_ahead(r("returned_to_sender"), "delivery_failed", 2)
    for late in ("in_transit", "out_for_delivery", "delivery_failed", "returned_to_sender"):
        assert not is_ahead(r(late, 1), "delivered", 1)  # delivered is final
    assert not is_ahead(r("delivered", 1), "returned_to_sender", None)


def test_a_collection_that_reached_the_centre_has_arrived() -> None:
    assert status_after("pickup", r("delivered")) == "arrived"
    assert status_after("delivery", r("delivered")) == "delivered"


def test_a_failed_attempt_schedules_the_next_two_working_days_later_then_gives_up() -> None:
    calendar = WorkCalendar()
    friday_evening = Report(status="delivery_failed", at=datetime(2026, 12, 4, 18, 30, tzinfo=VN), attempt=1)
    first = failed_attempt(friday_evening, 0, calendar, max_attempts=2, redelivery_working_days=2)
    assert (first.attempt, first.failures, first.give_up) == (1, 1, False)
    assert first.next_attempt_after == datetime(2026, 12, 8, 7, 0, tzinfo=VN)  # Mon 1, Tue 2
    second = failed_attempt(
        Report(status="delivery_failed", at=datetime(2026, 12, 8, 10, tzinfo=VN), attempt=2),
        1,
        calendar,
        max_attempts=2,
        redelivery_working_days=2,
    )
    assert second.give_up and second.failures == 2
    refused = Report(status="delivery_failed", at=friday_evening.at, attempt=1, failure_kind="refused")
    assert failed_attempt(refused, 0, calendar, max_attempts=2, redelivery_working_days=2).give_up


def test_the_next_attempt_skips_tet() -> None:
    calendar = WorkCalendar()
    before_tet = Report(status="delivery_failed", at=datetime(2026, 2, 13, 9, tzinfo=VN), attempt=1)
    # Off from Sat 14 to Sun 22 February 2026: Mon 23 is the first working day, Tue 24 the second.
    nxt = failed_attempt(before_tet, 0, calendar, max_attempts=2, redelivery_working_days=2).next_attempt_after
    assert nxt == datetime(2026, 2, 24, 7, 0, tzinfo=VN)


def test_minutes_are_confirmed_by_the_side_that_did_not_prepare_them() -> None:
    assert confirmation_problem("centre", "postal") is None
    assert confirmation_problem("postal", "centre") is None
    assert "postal partner must confirm" in (confirmation_problem("centre", "centre") or "")
    assert "counter officer" in (confirmation_problem("postal", "postal") or "")


def test_a_webhook_signature_covers_the_timestamp_and_body() -> None:
    body = b'{"status":"delivered"}'
    good = hmac.new(b"s3cret", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert verify_signature("s3cret", "1700000000", body, good, tolerance=300, now=1700000100) is None
    assert verify_signature("s3cret", "1700000000", body, good, tolerance=300, now=1700000400) == "expired"
    assert verify_signature("s3cret", "1700000000", body + b" ", good, tolerance=300, now=1700000100) == "bad_signature"
    assert verify_signature("other", "1700000000", body, good, tolerance=300, now=1700000100) == "bad_signature"
    assert verify_signature("s3cret", "1700000001", body, good, tolerance=300, now=1700000100) == "bad_signature"
    assert verify_signature("s3cret", "", body, "", tolerance=300, now=1700000100) == "bad_signature"
