"""The mailbox's bounces: a DSN mail back to the envelope sender and a bounce webhook, over real SMTP and HTTP."""

from __future__ import annotations

import email
import email.policy
import email.utils
import logging
import uuid
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import aiosmtplib
import httpx
import pytest
import pytest_asyncio

from motcua_devstack.standins import DeliveryPolicy, MailStore, create_mailbox_app
from motcua_devstack.standins.mailbox import MailboxController, bare_message_id, domain_bounces

pytestmark = [pytest.mark.timeout(60)]  # async tests run in asyncio mode "auto"

FAST_POLICY = DeliveryPolicy(timeout_seconds=2.0, attempts=3, backoff_seconds=0.01)
BOUNCES = "bounces@motcua.local"
UNKNOWN = "someone@example.invalid"
CITIZEN = "nguyen.van.anh@example.vn"
REASON = "550 5.1.1 <{}>: Recipient address rejected: User unknown"


@pytest_asyncio.fixture
async def mailbox(serve_app: Any, store: MailStore, receiver: Any) -> str:
    app = create_mailbox_app(store, receiver.url, delivery_policy=FAST_POLICY)
    return str((await serve_app(app)).url)


def notice(to: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Bộ phận Một cửa <mot-cua@motcua.local>"
    message["To"] = to
    message["Subject"] = "Hồ sơ đã có kết quả"
    message["Message-ID"] = email.utils.make_msgid(idstring=uuid.uuid4().hex, domain="notify.motcua.local")
    message.set_content("Hồ sơ 000.00.06.H56-261123-0001 đã có kết quả.")
    return message


async def send(smtp: MailboxController, message: EmailMessage, recipients: list[str], sender: str = BOUNCES) -> None:
    """Send with an explicit envelope (``sender=""`` is the null sender ``MAIL FROM:<>``)."""
    async with aiosmtplib.SMTP(hostname="127.0.0.1", port=smtp.port, timeout=5) as client:
        await client.sendmail(sender, recipients, message.as_bytes())


async def get_json(http: httpx.AsyncClient, url: str, **params: str) -> Any:
    response = await http.get(url, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def delivered_bounces(http: httpx.AsyncClient, base: str, count: int) -> list[dict[str, Any]] | None:
    bounces: list[dict[str, Any]] = await get_json(http, f"{base}/_control/bounces")
    done = [bounce for bounce in bounces if bounce["webhook"] and bounce["webhook"]["finished_at"]]
    return bounces if len(done) >= count else None


async def test_mail_to_an_invalid_domain_is_stored_and_bounced_with_a_dsn_and_a_webhook(
    smtp: MailboxController,
    mailbox: str,
    receiver: Any,
    http: httpx.AsyncClient,
    wait_until: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="motcua_devstack.standins")
    message = notice(UNKNOWN)

    await send(smtp, message, [UNKNOWN])
    await wait_until(lambda: receiver.accepted, message="no bounce webhook arrived")

    event = receiver.accepted[0].json()
    assert set(event) == {"event_id", "message_id", "recipient", "kind", "reason", "at"}
    assert str(uuid.UUID(event["event_id"])) == event["event_id"]
    assert event["message_id"] == message["Message-ID"].strip("<>")
    assert "<" not in event["message_id"]
    assert event["recipient"] == UNKNOWN
    assert event["kind"] == "hard"
    assert event["reason"] == REASON.format(UNKNOWN)
    assert datetime.fromisoformat(event["at"]).tzinfo is not None
    assert receiver.accepted[0].headers["content-type"] == "application/json"

    original = await get_json(http, f"{mailbox}/_control/mails", to=UNKNOWN)
    assert [mail["message_id"] for mail in original] == [message["Message-ID"]]

    dsns = await get_json(http, f"{mailbox}/_control/mails", to=BOUNCES)
    assert len(dsns) == 1
    dsn = dsns[0]
    assert dsn["subject"] == "Undelivered Mail Returned to Sender"
    assert dsn["mail_from"] == "<>"  # the null envelope sender of every bounce
    assert message["Message-ID"] in dsn["text"]
    assert REASON.format(UNKNOWN) in dsn["text"]
    raw = (await http.get(f"{mailbox}/_control/mails/{dsn['id']}/raw")).content
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert email.utils.parseaddr(str(parsed["From"]))[1] == "MAILER-DAEMON@motcua.local"
    assert str(parsed["To"]) == BOUNCES
    assert parsed.get_content_type() == "multipart/report"
    assert parsed.get_param("report-type") == "delivery-status"
    assert b"Final-Recipient: rfc822; someone@example.invalid" in raw
    assert b"Status: 5.1.1" in raw
    assert Path(dsn["eml_path"]).read_bytes() == raw

    bounces = await wait_until(lambda: delivered_bounces(http, mailbox, 1), message="bounce never listed")
    assert len(bounces) == 1
    bounce = bounces[0]
    assert (bounce["event_id"], bounce["mail_id"], bounce["dsn_mail_id"]) == (
        event["event_id"],
        original[0]["id"],
        dsn["id"],
    )
    assert bounce["webhook"]["kind"] == "email_bounce"
    assert bounce["webhook"]["url"] == receiver.url
    assert bounce["webhook"]["payload"] == event
    assert (bounce["webhook"]["delivered"], bounce["webhook"]["attempts"]) == (True, 1)

    logged = [record for record in caplog.records if record.name.startswith("motcua_devstack.standins")]
    assert "mail bounced" in [record.getMessage() for record in logged]
    assert not [record for record in logged if UNKNOWN in repr(getattr(record, "fields", None))]


async def test_a_configured_address_bounces_and_the_other_recipients_do_not(
    smtp: MailboxController, mailbox: str, receiver: Any, http: httpx.AsyncClient, wait_until: Any
) -> None:
    configured = "tran.thi.binh@example.vn"
    response = await http.post(
        f"{mailbox}/_control/bounce-addresses", json={"addresses": ["Tran.Thi.Binh@Example.VN", "x@example.vn"]}
    )
    assert response.status_code == 200
    assert response.json() == {"addresses": [configured, "x@example.vn"]}
    assert await get_json(http, f"{mailbox}/_control/bounce-addresses") == {"addresses": [configured, "x@example.vn"]}
    message = notice(configured)

    await send(smtp, message, [CITIZEN, configured])
    await wait_until(lambda: receiver.accepted, message="no bounce webhook arrived")

    event = receiver.accepted[0].json()
    assert (event["recipient"], event["message_id"]) == (configured, bare_message_id(message["Message-ID"]))
    assert event["reason"] == REASON.format(configured)
    dsn = (await get_json(http, f"{mailbox}/_control/mails", to=BOUNCES))[0]
    assert REASON.format(configured) in dsn["text"]
    assert CITIZEN not in dsn["text"]
    assert len(await get_json(http, f"{mailbox}/_control/mails", to=CITIZEN)) == 1

    await http.post(f"{mailbox}/_control/bounce-addresses", json={"addresses": []})
    await send(smtp, notice(configured), [configured])
    await send(smtp, notice(UNKNOWN), [UNKNOWN])  # a sentinel: once its webhook is in, nothing else is coming
    await wait_until(lambda: len(receiver.accepted) >= 2, message="sentinel bounce missing")
    assert [call.json()["recipient"] for call in receiver.accepted] == [configured, UNKNOWN]


async def test_a_normal_mail_bounces_nothing(
    smtp: MailboxController, mailbox: str, receiver: Any, http: httpx.AsyncClient, wait_until: Any, store: MailStore
) -> None:
    await send(smtp, notice(CITIZEN), [CITIZEN, "bcc@example.vn"])
    assert store.bounces() == []  # the SMTP reply comes after the bounce decision
    await send(smtp, notice(UNKNOWN), [UNKNOWN])  # sentinel

    await wait_until(lambda: delivered_bounces(http, mailbox, 1), message="sentinel bounce missing")

    assert [call.json()["recipient"] for call in receiver.accepted] == [UNKNOWN]
    assert len(await get_json(http, f"{mailbox}/_control/bounces")) == 1
    assert len(await get_json(http, f"{mailbox}/_control/mails", to=BOUNCES)) == 1
    assert len(await get_json(http, f"{mailbox}/_control/mails")) == 3


async def test_a_refused_webhook_is_retried(
    smtp: MailboxController, mailbox: str, receiver: Any, http: httpx.AsyncClient, wait_until: Any
) -> None:
    receiver.fail_next = 1

    await send(smtp, notice(UNKNOWN), [UNKNOWN])
    bounces = await wait_until(lambda: delivered_bounces(http, mailbox, 1), message="bounce never finished")

    assert len(receiver.refused) == 1
    assert receiver.refused[0].body == receiver.accepted[0].body
    webhook = bounces[0]["webhook"]
    assert (webhook["delivered"], webhook["attempts"], webhook["last_status"]) == (True, 2, 204)


async def test_a_null_sender_gets_no_dsn_but_the_webhook_still_reports(
    smtp: MailboxController, mailbox: str, receiver: Any, http: httpx.AsyncClient, wait_until: Any
) -> None:
    await send(smtp, notice(UNKNOWN), [UNKNOWN], sender="")

    await wait_until(lambda: receiver.accepted, message="no bounce webhook arrived")

    bounce = (await get_json(http, f"{mailbox}/_control/bounces"))[0]
    assert bounce["dsn_mail_id"] is None
    mails = await get_json(http, f"{mailbox}/_control/mails")
    assert [mail["rcpt_tos"] for mail in mails] == [[UNKNOWN]]


async def test_without_a_webhook_url_bounces_are_listed_and_still_produce_a_dsn(
    serve_app: Any, smtp: MailboxController, store: MailStore, http: httpx.AsyncClient, wait_until: Any
) -> None:
    base = str((await serve_app(create_mailbox_app(store))).url)

    await send(smtp, notice("a@b.INVALID"), ["a@b.INVALID"])

    bounces = await get_json(http, f"{base}/_control/bounces")
    assert [(bounce["recipient"], bounce["webhook"]) for bounce in bounces] == [("a@b.INVALID", None)]
    assert len(await get_json(http, f"{base}/_control/mails", to=BOUNCES)) == 1
    assert (await http.delete(f"{base}/_control/mails")).json() == {"deleted": 2}
    assert await get_json(http, f"{base}/_control/bounces") == []


async def test_a_stopped_app_reports_no_more_bounces(
    serve_app: Any, smtp: MailboxController, store: MailStore, receiver: Any
) -> None:
    handle = await serve_app(create_mailbox_app(store, receiver.url, delivery_policy=FAST_POLICY))
    await handle.stop()

    await send(smtp, notice(UNKNOWN), [UNKNOWN])

    assert [(bounce.recipient, bounce.webhook) for bounce in store.bounces()] == [(UNKNOWN, None)]
    assert receiver.accepted == []


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"addresses": "a@example.vn"},
        {"addresses": ["not-an-address"]},
        {"addresses": ["@example.vn"]},
        {"addresses": ["a@"]},
        {"addresses": ["a b@example.vn"]},
        {"addresses": ["<a@example.vn>"]},
        {"addresses": [42]},
        {"addresses": ["a@example.vn"], "extra": True},
        {"addresses": [f"{'a' * 250}@example.vn"]},
    ],
)
async def test_bounce_rules_are_validated(mailbox: str, http: httpx.AsyncClient, body: dict[str, Any]) -> None:
    await http.post(f"{mailbox}/_control/bounce-addresses", json={"addresses": ["kept@example.vn"]})

    response = await http.post(f"{mailbox}/_control/bounce-addresses", json=body)

    assert response.status_code == 422
    assert response.json()["error"] == "validation_error"
    assert await get_json(http, f"{mailbox}/_control/bounce-addresses") == {"addresses": ["kept@example.vn"]}


def test_which_domains_bounce() -> None:
    assert domain_bounces("someone@example.invalid")
    assert domain_bounces("someone@EXAMPLE.Invalid.")
    assert domain_bounces("someone@invalid")
    assert not domain_bounces("someone@invalid.example.vn")
    assert not domain_bounces("someone@notinvalid")
    assert not domain_bounces("invalid")
    assert bare_message_id(" <abc.123@notify.motcua.local> ") == "abc.123@notify.motcua.local"
    assert bare_message_id("abc@host") == "abc@host"
    assert bare_message_id(None) is None


def test_create_mailbox_app_refuses_a_bad_webhook_url() -> None:
    with pytest.raises(ValueError, match="absolute http"):
        create_mailbox_app(MailStore(), "ftp://example.vn/hook")
