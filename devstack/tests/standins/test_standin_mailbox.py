"""The SMTP mailbox stand-in: real SMTP in, HTTP inspection out."""

from __future__ import annotations

import asyncio
import email
import email.policy
import email.utils
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import aiosmtplib
import httpx
import pytest
import pytest_asyncio

from motcua_devstack.standins import MailStore, create_mailbox_app, start_mailbox_smtp
from motcua_devstack.standins.mailbox import MailboxController

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(60)]

SUBJECT = "Hồ sơ Đã tiếp nhận"
CITIZEN = "nguyen.van.anh@example.vn"
OFFICE = "mot-cua@phuong-hoankiem.hanoi.gov.vn"


@pytest_asyncio.fixture
async def mailbox_http(serve_app: Any, store: MailStore) -> str:
    return str((await serve_app(create_mailbox_app(store))).url)


def receipt_mail(to: str = CITIZEN, attachment: bytes | None = None) -> EmailMessage:
    message = EmailMessage()
    message["From"] = f"Bộ phận Một cửa <{OFFICE}>"
    message["To"] = to
    message["Subject"] = SUBJECT
    message["Message-ID"] = email.utils.make_msgid(domain="motcua.local")
    message.set_content("Kính gửi ông Nguyễn Văn Ánh,\nHồ sơ 000.00.01.H26-250101-0001 đã được tiếp nhận.")
    message.add_alternative("<p>Kính gửi ông <b>Nguyễn Văn Ánh</b>, hồ sơ đã được tiếp nhận.</p>", subtype="html")
    if attachment is not None:
        message.add_attachment(attachment, maintype="application", subtype="pdf", filename="biên-nhận.pdf")
    return message


async def send(smtp: MailboxController, message: EmailMessage, recipients: list[str] | None = None) -> None:
    await aiosmtplib.send(message, hostname="127.0.0.1", port=smtp.port, recipients=recipients, timeout=5)


async def mails(http: httpx.AsyncClient, base: str, **params: str) -> list[dict[str, Any]]:
    response = await http.get(f"{base}/_control/mails", params=params)
    assert response.status_code == 200
    result: list[dict[str, Any]] = response.json()
    return result


async def test_utf8_mail_with_text_and_html_survives_the_round_trip(
    smtp: MailboxController, mailbox_http: str, http: httpx.AsyncClient, wait_until: Any, store: MailStore
) -> None:
    message = receipt_mail()

    await send(smtp, message)
    received = await wait_until(lambda: mails(http, mailbox_http, to=CITIZEN), message="mail never arrived")

    mail = received[0]
    assert mail["subject"] == SUBJECT
    assert mail["mail_from"] == OFFICE
    assert mail["rcpt_tos"] == [CITIZEN]
    assert mail["message_id"] == message["Message-ID"]
    assert "Hồ sơ 000.00.01.H26-250101-0001 đã được tiếp nhận." in mail["text"]
    assert "<b>Nguyễn Văn Ánh</b>" in mail["html"]
    assert mail["attachments"] == []

    eml = Path(mail["eml_path"])
    assert eml.parent == store.directory
    assert eml.suffix == ".eml"
    from_disk = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert str(from_disk["Subject"]) == SUBJECT

    raw = await http.get(f"{mailbox_http}/_control/mails/{mail['id']}/raw")
    assert raw.status_code == 200
    assert raw.headers["content-type"].startswith("message/rfc822")
    assert raw.content == eml.read_bytes()


async def test_attachments_are_listed(
    smtp: MailboxController, mailbox_http: str, http: httpx.AsyncClient, wait_until: Any
) -> None:
    await send(smtp, receipt_mail(attachment=b"%PDF-1.7 fake"))

    received = await wait_until(lambda: mails(http, mailbox_http), message="mail never arrived")

    assert received[0]["attachments"] == [{"filename": "biên-nhận.pdf", "content_type": "application/pdf", "size": 13}]
    assert received[0]["text"] is not None


async def test_filter_by_recipient_and_clear(
    smtp: MailboxController, mailbox_http: str, http: httpx.AsyncClient, wait_until: Any
) -> None:
    await send(smtp, receipt_mail(to=CITIZEN))
    await send(smtp, receipt_mail(to="other@example.vn"), recipients=["other@example.vn", "bcc@example.vn"])

    all_mails = await wait_until(lambda: _at_least(mails(http, mailbox_http), 2), message="mails never arrived")

    assert len(all_mails) == 2
    assert len(await mails(http, mailbox_http, to="BCC@example.vn")) == 1
    assert len(await mails(http, mailbox_http, to=CITIZEN)) == 1
    assert (await http.delete(f"{mailbox_http}/_control/mails")).json() == {"deleted": 2}
    assert await mails(http, mailbox_http) == []
    assert (await http.get(f"{mailbox_http}/_control/mails/nope/raw")).status_code == 404


async def _at_least(pending: Any, count: int) -> list[dict[str, Any]] | None:
    found: list[dict[str, Any]] = await pending
    return found if len(found) >= count else None


async def test_store_without_directory_keeps_mail_in_memory_only(wait_until: Any) -> None:
    store = MailStore()
    controller = await asyncio.to_thread(start_mailbox_smtp, store, "127.0.0.1", 0)
    try:
        await send(controller, receipt_mail())
        mail = (await wait_until(store.list, message="mail never arrived"))[0]
    finally:
        await asyncio.to_thread(controller.stop)

    assert mail.subject == SUBJECT
    assert mail.eml_path is None


async def test_a_mail_sent_again_with_the_same_message_id_is_kept_once(
    smtp: MailboxController, store: MailStore
) -> None:
    message = receipt_mail()
    await send(smtp, message)
    await send(smtp, message)  # the sender did not hear the first 250 and tried again
    other = receipt_mail()  # a new Message-ID: a new mail
    await send(smtp, other)
    kept = store.list(CITIZEN)
    assert [m.message_id for m in kept] == [message["Message-ID"], other["Message-ID"]]
    await send(smtp, message, recipients=[OFFICE])  # the same mail to someone else is theirs
    assert len(store.list(OFFICE)) == 1
