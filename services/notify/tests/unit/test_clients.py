"""Error classification of the provider clients (status codes only; the wire is tested against the stand-ins)."""

from __future__ import annotations

import email
import email.policy
import json

import aiosmtplib
import httpx
import pytest

from notify.clients.email import build_message, classify_smtp_error, message_id_for
from notify.clients.errors import PermanentSendError, RetryableSendError
from notify.clients.sms import SmsGatewayClient
from notify.settings import SmsSettings


def gateway(status: int, body: object, headers: dict[str, str] | None = None) -> SmsGatewayClient:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=body, headers=headers)

    return SmsGatewayClient(SmsSettings(url="http://gateway.test"), transport=httpx.MockTransport(answer))


async def test_accepted_and_duplicate_return_the_message_id() -> None:
    for status in (202, 200):
        client = gateway(status, {"message_id": "m-1", "status": "accepted", "segments": 1, "duplicate": status == 200})
        assert await client.send("0912345678", "hello", "ref-1") == "m-1"
        await client.aclose()


async def test_request_follows_the_gateway_contract() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(202, json={"message_id": "m-1"})

    settings = SmsSettings(url="http://gateway.test", api_key="k-123", sender="MOTCUA")
    client = SmsGatewayClient(settings, transport=httpx.MockTransport(answer))
    await client.send("0912345678", "hello", "ref-1")
    await client.aclose()
    request = seen[0]
    assert request.method == "POST" and str(request.url) == "http://gateway.test/v1/sms"
    assert request.headers["Authorization"] == "Bearer k-123"
    assert json.loads(request.content) == {
        "sender": "MOTCUA",
        "phone": "0912345678",
        "text": "hello",
        "client_ref": "ref-1",
        "callback_url": None,
    }


@pytest.mark.parametrize(
    ("status", "body", "kind"),
    [
        (400, {"error": "invalid_phone", "message": "phone must be a Vietnamese mobile number"}, "invalid_phone"),
        (401, {"error": "unauthorized", "message": "missing or invalid bearer token"}, "unauthorized"),
        (403, {"error": "forbidden", "message": "no"}, "forbidden"),
        (422, {"error": "validation_error", "message": "text: too short"}, "validation_error"),
    ],
)
async def test_refusals_are_permanent(status: int, body: dict[str, str], kind: str) -> None:
    client = gateway(status, body)
    with pytest.raises(PermanentSendError) as raised:
        await client.send("0123", "hello", "ref-1")
    assert raised.value.kind == kind
    await client.aclose()


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_server_errors_are_retryable(status: int) -> None:
    client = gateway(status, {"error": "internal_error", "message": "boom"})
    with pytest.raises(RetryableSendError) as raised:
        await client.send("0912345678", "hello", "ref-1")
    assert raised.value.kind == "server_error"
    await client.aclose()


async def test_throttling_is_retryable_and_keeps_retry_after() -> None:
    client = gateway(429, {"error": "rate_limited", "message": "slow down"}, {"Retry-After": "3"})
    with pytest.raises(RetryableSendError) as raised:
        await client.send("0912345678", "hello", "ref-1")
    assert raised.value.kind == "throttled" and raised.value.retry_after_seconds == 3.0
    await client.aclose()


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (httpx.ConnectError("refused"), "connection"),
        (httpx.ReadTimeout("slow"), "timeout"),
        (httpx.ConnectTimeout("slow"), "timeout"),
    ],
)
async def test_transport_failures_are_retryable(error: Exception, kind: str) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise error

    client = SmsGatewayClient(SmsSettings(url="http://gateway.test"), transport=httpx.MockTransport(fail))
    with pytest.raises(RetryableSendError) as raised:
        await client.send("0912345678", "hello", "ref-1")
    assert raised.value.kind == kind
    await client.aclose()


@pytest.mark.parametrize(
    ("error", "permanent"),
    [
        (aiosmtplib.SMTPRecipientsRefused([aiosmtplib.SMTPRecipientRefused(550, "no such user", "a@b.vn")]), True),
        (aiosmtplib.SMTPRecipientsRefused([aiosmtplib.SMTPRecipientRefused(450, "mailbox busy", "a@b.vn")]), False),
        (aiosmtplib.SMTPRecipientRefused(550, "no such user", "a@b.vn"), True),
        (aiosmtplib.SMTPDataError(554, "rejected"), True),
        (aiosmtplib.SMTPAuthenticationError(535, "bad credentials"), True),
        (aiosmtplib.SMTPSenderRefused(451, "try later", "no-reply@motcua.local"), False),
        (aiosmtplib.SMTPResponseException(421, "closing"), False),
        (aiosmtplib.SMTPConnectError("refused"), False),
        (aiosmtplib.SMTPServerDisconnected("gone"), False),
        (aiosmtplib.SMTPTimeoutError("slow"), False),
        (aiosmtplib.SMTPConnectTimeoutError("slow"), False),
        (ConnectionRefusedError(111, "refused"), False),
    ],
)
def test_smtp_errors_are_classified(error: Exception, permanent: bool) -> None:
    classified = classify_smtp_error(error)
    assert isinstance(classified, PermanentSendError if permanent else RetryableSendError)


def test_email_has_text_and_html_utf8_subject_and_our_message_id() -> None:
    message = build_message(
        sender="Một cửa Khánh Hòa <no-reply@motcua.local>",
        recipient="dao@example.vn",
        subject="Hồ sơ 000.00.06.H56-261123-0001 đã được tiếp nhận",
        text="Kính gửi bà Đào",
        html="<p>Kính gửi bà Đào</p>",
        message_id=message_id_for("sms-abc"),
    )
    parsed = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    assert parsed["Subject"] == "Hồ sơ 000.00.06.H56-261123-0001 đã được tiếp nhận"
    assert parsed["Message-ID"] == "<sms-abc@motcua>"
    assert parsed.get_content_type() == "multipart/alternative"
    assert parsed.get_body(("plain",)).get_content().strip() == "Kính gửi bà Đào"  # type: ignore[union-attr]
    assert parsed.get_body(("html",)).get_content().strip() == "<p>Kính gửi bà Đào</p>"  # type: ignore[union-attr]
