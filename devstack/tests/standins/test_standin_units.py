"""Pure functions behind the stand-ins (no servers)."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging

import pytest

from motcua_devstack.standins.__main__ import build_parser
from motcua_devstack.standins._delivery import DeliveryPolicy
from motcua_devstack.standins._faults import RateLimiter
from motcua_devstack.standins.carrier import (
    STATUS_RANK,
    CarrierLife,
    CarrierState,
    HistoryEntry,
    OrderRequest,
    make_tracking_number,
    s10_check_digit,
    sign_webhook,
    transition_error,
    verify_webhook,
)
from motcua_devstack.standins.logs import JsonLogFormatter, redact
from motcua_devstack.standins.phones import normalize_vn_mobile, normalize_vn_phone
from motcua_devstack.standins.runner import StandinsConfig
from motcua_devstack.standins.sms_encoding import count_segments
from motcua_kit.values import mask_email, mask_phone


def test_segment_counting_edge_cases() -> None:
    assert count_segments("€" * 80).segments == 1  # extension chars cost two septets
    assert count_segments("€" * 81).segments == 2
    assert count_segments("a" * 158 + "€").segments == 1  # 160 septets
    assert count_segments("a" * 159 + "€").segments == 2  # 161 septets
    assert count_segments("a" * 152 + "€" + "a" * 152).segments == 3  # the escape pair is not split
    assert count_segments("èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉÄÖÑÜ§¿äöñüà").encoding == "GSM-7"
    assert count_segments("ế").encoding == "UCS-2"
    assert count_segments("😀" * 35).segments == 1  # 70 UTF-16 units
    assert count_segments("😀" * 36).segments == 2


def test_rate_limiter_window_slides() -> None:
    now = [100.0]
    limiter = RateLimiter(2, clock=lambda: now[0])

    assert [limiter.allow(), limiter.allow(), limiter.allow()] == [True, True, False]
    now[0] += 1.0
    assert limiter.allow() is True
    assert RateLimiter(None).allow() is True


@pytest.mark.parametrize(
    ("raw", "mobile", "any_phone"),
    [
        ("0912345678", "0912345678", "0912345678"),
        ("84912345678", "0912345678", "0912345678"),
        ("02438251234", None, "02438251234"),
        ("842438251234", None, "02438251234"),
        ("+84912345678", None, None),
        ("0412345678", None, None),
    ],
)
def test_phone_normalisation(raw: str, mobile: str | None, any_phone: str | None) -> None:
    assert normalize_vn_mobile(raw) == mobile
    assert normalize_vn_phone(raw) == any_phone


def test_masking() -> None:
    # Issue 12: one masking rule for every log, the stand-ins' too (the kit's).
    assert mask_phone("0912345678") == "*******678"
    assert mask_email("nguyen.van.a@example.vn") == "n***@e***"
    line = redact('GET /_control/mails?to=citizen%40example.vn&phone=84912345678 "EB123456785VN" 0912345678')
    assert "citizen" not in line
    assert "84912345678" not in line
    assert "0912345678" not in line
    assert "EB123456785VN" in line


def test_json_formatter_writes_one_masked_object_per_line() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLogFormatter())
    log = logging.getLogger("standin-test-formatter")
    log.propagate = False
    log.addHandler(handler)
    try:
        log.warning("sent to %s", "0912345678", extra={"fields": {"to": "a.b@example.vn", "n": 2}})
    finally:
        log.removeHandler(handler)

    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert record["level"] == "WARNING"
    assert record["msg"] == "sent to *******678"
    assert record["to"] == "a***@e***"
    assert record["n"] == 2


def test_s10_tracking_numbers() -> None:
    assert s10_check_digit("12345678") == 5
    assert make_tracking_number(12345678) == "EB123456785VN"
    assert make_tracking_number(7) == f"EB00000007{s10_check_digit('00000007')}VN"


@pytest.mark.parametrize(
    ("current", "target", "allowed"),
    [
        ("created", "picked_up", True),
        ("in_transit", "in_transit", True),
        ("out_for_delivery", "delivery_failed", True),
        ("delivery_failed", "out_for_delivery", True),
        ("delivery_failed", "returned_to_sender", True),
        ("in_transit", "picked_up", False),
        ("picked_up", "created", False),
        ("delivered", "delivery_failed", False),
        ("returned_to_sender", "delivered", False),
    ],
)
def test_order_transitions(current: str, target: str, allowed: bool) -> None:
    assert (transition_error(current, target) is None) is allowed  # type: ignore[arg-type]


def _position(entry: HistoryEntry) -> tuple[int, int]:
    """(delivery attempt, rank in it): how postal's client orders the steps it is told about."""
    before_delivery = entry.status in ("created", "picked_up", "in_transit")
    return (0 if before_delivery else entry.attempt or 0), STATUS_RANK[entry.status]


@pytest.mark.parametrize("purpose", ["delivery", "pickup"])
def test_carrier_life_moves_forward_in_the_status_order(purpose: str) -> None:
    state = CarrierState(
        webhook_secret="s",
        life=CarrierLife(auto_advance=True, step_delay_seconds=0.0, failure_rate=0.5, max_attempts=3),
        fault_delay_seconds=0.0,
        delivery_policy=DeliveryPolicy(),
        seed=12,
    )
    party = {"name": "Nguyễn Văn Ánh", "phone": "0912345678", "address": "Số 1", "province": "Hà Nội", "commune": "X"}
    for number in range(40):
        request = OrderRequest.model_validate(
            {
                "order_number": f"ORDER-{number}",
                "purpose": purpose,
                "service_type": "EMS",
                "sender": party,
                "recipient": party,
                "cod_amount": 0,
                "weight_grams": 250,
            }
        )
        order, _ = state.create(request)
        while (entry := state._life_step(order)) is not None:
            assert transition_error(order.status, entry.status) is None
            state._record(order, entry)

        *steps, last = order.history
        assert last.status in ("delivered", "returned_to_sender")
        positions = [_position(step) for step in steps]
        assert positions == sorted(set(positions)), [step.status for step in order.history]
        if last.status == "delivered":
            assert _position(last) > positions[-1]


def test_webhook_signature_formula() -> None:
    body = '{"status":"delivered","reason":"Người nhận vắng nhà"}'.encode()
    expected = hmac.new(b"s3cret", b"1700000000." + body, hashlib.sha256).hexdigest()

    assert sign_webhook("s3cret", "1700000000", body) == expected
    assert verify_webhook("s3cret", "1700000000", body, expected, now=1_700_000_100)
    assert not verify_webhook("s3cret", "1700000000", body, expected, now=1_700_001_000)
    assert not verify_webhook("other", "1700000000", body, expected, now=1_700_000_100)
    assert not verify_webhook("s3cret", "not-a-number", body, expected)


def test_cli_carrier_life_defaults_make_parcels_move() -> None:
    args = build_parser().parse_args([])

    assert args.carrier_auto_advance is True
    assert (args.carrier_step_delay, args.carrier_failure_rate, args.carrier_redelivery_delay) == (5.0, 0.1, 20.0)


def test_cli_carrier_life_flags() -> None:
    args = build_parser().parse_args(
        [
            "--no-carrier-auto-advance",
            "--carrier-step-delay",
            "0.5",
            "--carrier-failure-rate",
            "1",
            "--carrier-redelivery-delay",
            "0",
        ]
    )

    assert args.carrier_auto_advance is False
    assert (args.carrier_step_delay, args.carrier_failure_rate, args.carrier_redelivery_delay) == (0.5, 1.0, 0.0)


@pytest.mark.parametrize(
    "argv",
    [
        ["--carrier-failure-rate", "1.5"],
        ["--carrier-failure-rate", "-0.1"],
        ["--carrier-step-delay", "-1"],
        ["--carrier-redelivery-delay", "soon"],
    ],
)
def test_cli_refuses_bad_carrier_life_flags(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(argv)

    assert exited.value.code == 2
    assert argv[0] in capsys.readouterr().err


def test_backup_port_defaults() -> None:
    assert StandinsConfig().sms_backup_port == 8094
    assert StandinsConfig().sms_backup_api_key == "local-sms-backup-key"
    assert StandinsConfig(sms_port=0).sms_backup_port == 0
    assert StandinsConfig(sms_port=0, sms_backup_port=9000).sms_backup_port == 9000
    assert StandinsConfig().mail_bounce_webhook_url is None


def test_cli_flags_for_the_backup_gateway_and_the_bounce_webhook() -> None:
    defaults = build_parser().parse_args([])
    args = build_parser().parse_args(
        ["--sms-backup-port", "9100", "--sms-backup-api-key", "k", "--mail-bounce-webhook-url", "http://h:1/b"]
    )

    assert (defaults.sms_backup_port, defaults.sms_backup_api_key) == (8094, "local-sms-backup-key")
    assert defaults.mail_bounce_webhook_url is None
    assert (args.sms_backup_port, args.sms_backup_api_key, args.mail_bounce_webhook_url) == (9100, "k", "http://h:1/b")
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--mail-bounce-webhook-url", "not a url"])
