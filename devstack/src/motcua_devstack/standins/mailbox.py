"""An SMTP server that keeps what it receives, plus a small HTTP API to look at it.

The SMTP side is an aiosmtpd :class:`~aiosmtpd.controller.Controller`, which
runs its own event loop in a thread; :class:`MailStore` is therefore guarded
by a lock. Each message is parsed with the stdlib ``email`` package (policy
``default``, so RFC 2047 subjects and charsets are decoded) and, when a
directory is given, its raw bytes are written there as ``.eml``.

Bounces. A recipient bounces when its domain ends with ``.invalid`` (RFC 2606)
or its address was set with ``POST /_control/bounce-addresses``. The mail is
still accepted and stored (like a relay that accepts and bounces later), and:

* a delivery status notification is stored too: a ``multipart/report`` mail
  from ``MAILER-DAEMON@motcua.local`` to the envelope MAIL FROM (with the null
  envelope sender ``<>``, as real DSNs have), subject ``Undelivered Mail Returned to Sender``,
  naming the original Message-ID and, per recipient,
  ``550 5.1.1 <recipient>: Recipient address rejected: User unknown``.
  No DSN answers a mail with a null sender (a bounce is never bounced);
* when the app has a bounce webhook URL (:func:`create_mailbox_app`), one JSON
  event per bounced recipient is POSTed to it the way e-mail providers report
  bounces: ``{"event_id", "message_id" (the original Message-ID without angle
  brackets, or null), "recipient", "kind": "hard", "reason", "at"}``, with the
  retry policy of the other stand-ins' callbacks. The SMTP thread only hands
  the event to the app's event loop (``call_soon_threadsafe``); the POST runs
  there, so a slow receiver never holds up SMTP.

``GET /_control/bounces`` lists every bounce with its webhook delivery record.
"""

from __future__ import annotations

import asyncio
import builtins
import email
import email.policy
import email.utils
import logging
import threading
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from email.message import EmailMessage, Message, MIMEPart
from pathlib import Path
from typing import Annotated, Any, Literal

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from fastapi import APIRouter, FastAPI
from fastapi.responses import Response
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from motcua_kit.values import mask_email

from ._app import standin_app
from ._delivery import DeliveryPolicy, DeliveryRecord, TaskSet, deliver
from ._http import StandinError, check_http_url, iso, utc_now

logger = logging.getLogger(__name__)

SMTP_HOSTNAME = "mailbox.motcua.local"
MAILER_DAEMON = "MAILER-DAEMON@motcua.local"
DSN_SUBJECT = "Undelivered Mail Returned to Sender"
BOUNCING_DOMAIN_SUFFIX = ".invalid"
NULL_SENDER = "<>"
"""The envelope sender of bounces (``MAIL FROM:<>``), as aiosmtpd reports it."""
MAX_BOUNCE_ADDRESSES = 1000


class AttachmentInfo(BaseModel):
    filename: str | None
    content_type: str
    size: int


class StoredMail(BaseModel):
    id: str
    mail_from: str
    rcpt_tos: list[str]
    subject: str
    message_id: str | None
    text: str | None
    html: str | None
    attachments: list[AttachmentInfo]
    received_at: str
    eml_path: str | None = None


class Bounce(BaseModel):
    """One recipient of one mail that bounced; listed by ``GET /_control/bounces``.

    ``webhook`` is the delivery record of the bounce event, or null when the
    mailbox app has no bounce webhook URL (or is not running).
    """

    event_id: str
    mail_id: str
    dsn_mail_id: str | None
    message_id: str | None
    recipient: str
    kind: Literal["hard"] = "hard"
    reason: str
    at: str
    webhook: DeliveryRecord | None = None

    def event(self) -> dict[str, Any]:
        """The JSON body posted to the bounce webhook."""
        return {
            "event_id": self.event_id,
            "message_id": self.message_id,
            "recipient": self.recipient,
            "kind": self.kind,
            "reason": self.reason,
            "at": self.at,
        }


BounceSink = Callable[[Bounce], None]
"""Called (from the SMTP thread) with each new bounce before it is listed; must not block."""


def _body_text(message: EmailMessage, subtype: str) -> str | None:
    part = message.get_body(preferencelist=(subtype,))
    if part is None:
        return None
    try:
        content = part.get_content()
    except (LookupError, ValueError):
        payload = part.get_payload(decode=True)
        return payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else None
    return content if isinstance(content, str) else None


def _attachments(message: EmailMessage) -> list[AttachmentInfo]:
    infos = []
    for part in message.iter_attachments():
        payload = part.get_payload(decode=True)
        size = len(payload) if isinstance(payload, bytes) else 0
        infos.append(AttachmentInfo(filename=part.get_filename(), content_type=part.get_content_type(), size=size))
    return infos


def parse_mail(raw: bytes, mail_from: str, rcpt_tos: list[str]) -> StoredMail:
    """Turn raw RFC 5322 bytes plus the SMTP envelope into a :class:`StoredMail`."""
    parsed: Message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    subject = parsed.get("Subject")
    message_id = parsed.get("Message-ID")
    return StoredMail(
        id=uuid.uuid4().hex,
        mail_from=mail_from,
        rcpt_tos=list(rcpt_tos),
        subject=str(subject) if subject is not None else "",
        message_id=str(message_id).strip() if message_id is not None else None,
        text=_body_text(parsed, "plain"),
        html=_body_text(parsed, "html"),
        attachments=_attachments(parsed),
        received_at=iso(utc_now()),
    )


def bare_message_id(message_id: str | None) -> str | None:
    """``<abc@host>`` -> ``abc@host`` (the form e-mail providers use in their events)."""
    if message_id is None:
        return None
    bare = message_id.strip().removeprefix("<").removesuffix(">").strip()
    return bare or None


def rejection_reason(recipient: str) -> str:
    return f"550 5.1.1 <{recipient}>: Recipient address rejected: User unknown"


def domain_bounces(address: str) -> bool:
    """Whether the address's domain is (under) the reserved ``.invalid`` top-level domain."""
    _, at, domain = address.rpartition("@")
    domain = domain.strip().rstrip(".").casefold()
    return bool(at) and (domain == "invalid" or domain.endswith(BOUNCING_DOMAIN_SUFFIX))


def _header_block(raw: bytes) -> str:
    text = raw.decode("utf-8", errors="replace").replace("\r\n", "\n")
    return text.split("\n\n", 1)[0].strip("\n") + "\n"


def delivery_status_notification(original: StoredMail, raw: bytes, recipients: list[str]) -> bytes:
    """A ``multipart/report`` DSN for ``recipients`` of ``original``, as raw bytes (RFC 3464 shaped)."""
    reasons = [rejection_reason(recipient) for recipient in recipients]
    dsn: MIMEPart = EmailMessage()
    dsn["From"] = f"Mail Delivery System <{MAILER_DAEMON}>"
    dsn["To"] = original.mail_from
    dsn["Subject"] = DSN_SUBJECT
    dsn["Date"] = email.utils.format_datetime(utc_now())
    dsn["Message-ID"] = email.utils.make_msgid(domain=SMTP_HOSTNAME)
    dsn["Auto-Submitted"] = "auto-replied"
    dsn.make_mixed()
    dsn.replace_header("Content-Type", "multipart/report; report-type=delivery-status")

    explanation = MIMEPart()
    explanation.set_content(
        f"This is the mail system at host {SMTP_HOSTNAME}.\n\n"
        "I'm sorry to have to inform you that your message could not\n"
        "be delivered to one or more recipients.\n\n"
        f"Original Message-ID: {original.message_id or '(none)'}\n"
        f"Original subject: {original.subject}\n\n" + "".join(f"{reason}\n" for reason in reasons)
    )
    dsn.attach(explanation)

    status = MIMEPart()
    status["Content-Type"] = "message/delivery-status"
    per_message = MIMEPart()
    per_message["Reporting-MTA"] = f"dns; {SMTP_HOSTNAME}"
    blocks: list[Message | str] = [per_message]
    for recipient, reason in zip(recipients, reasons, strict=True):
        block = MIMEPart()
        block["Final-Recipient"] = f"rfc822; {recipient}"
        block["Action"] = "failed"
        block["Status"] = "5.1.1"
        block["Diagnostic-Code"] = f"smtp; {reason}"
        blocks.append(block)
    status.set_payload(blocks)
    dsn.attach(status)

    headers = MIMEPart()
    headers.set_content(_header_block(raw), subtype="rfc822-headers")
    dsn.attach(headers)
    return dsn.as_bytes(policy=email.policy.SMTPUTF8)


class MailStore:
    """Received mails and bounces, in memory (thread-safe) and optionally as ``.eml`` files."""

    def __init__(self, directory: Path | str | None = None) -> None:
        self.directory = Path(directory) if directory is not None else None
        if self.directory is not None:
            self.directory.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._mails: list[StoredMail] = []
        self._raw: dict[str, bytes] = {}
        self._bounce_addresses: set[str] = set()
        self._bounces: list[Bounce] = []
        self._bounce_sink: BounceSink | None = None

    def add(self, raw: bytes, mail_from: str, rcpt_tos: list[str]) -> StoredMail:
        mail, _ = self.receive(raw, mail_from, rcpt_tos)
        return mail

    def receive(self, raw: bytes, mail_from: str, rcpt_tos: list[str]) -> tuple[StoredMail, bool]:
        """Stores a mail; returns it and whether it is new. A mail with the Message-ID of one already
        delivered to the same recipients is that mail again (a sender's retry), as mail services treat
        it: it is not stored twice."""
        mail = parse_mail(raw, mail_from, rcpt_tos)
        with self._lock:
            if mail.message_id:
                for earlier in self._mails:
                    if earlier.message_id == mail.message_id and earlier.rcpt_tos == mail.rcpt_tos:
                        return earlier, False
            self._mails.append(mail)
            self._raw[mail.id] = raw
        if self.directory is not None:
            mail.eml_path = str(self._write_eml(mail, raw))
        return mail, True

    def _write_eml(self, mail: StoredMail, raw: bytes) -> Path:
        assert self.directory is not None
        stamp = mail.received_at.replace(":", "").replace("-", "").replace("+0000", "Z")
        path = self.directory / f"{stamp}-{mail.id}.eml"
        path.write_bytes(raw)
        return path

    def list(self, to: str | None = None) -> list[StoredMail]:
        with self._lock:
            mails = list(self._mails)
        if to is None:
            return mails
        wanted = to.casefold()
        return [mail for mail in mails if any(rcpt.casefold() == wanted for rcpt in mail.rcpt_tos)]

    def raw(self, mail_id: str) -> bytes | None:
        with self._lock:
            return self._raw.get(mail_id)

    def clear(self) -> int:
        """Forget every mail and bounce kept in memory (``.eml`` files stay on disk)."""
        with self._lock:
            count = len(self._mails)
            self._mails.clear()
            self._raw.clear()
            self._bounces.clear()
        return count

    # --- bounces ---------------------------------------------------------------------------------

    def set_bounce_addresses(self, addresses: builtins.list[str]) -> builtins.list[str]:
        """Replace the addresses that bounce (besides ``*.invalid``); compared case-insensitively."""
        with self._lock:
            self._bounce_addresses = {address.casefold() for address in addresses}
            return sorted(self._bounce_addresses)

    def bounce_addresses(self) -> builtins.list[str]:
        with self._lock:
            return sorted(self._bounce_addresses)

    def bounces_for(self, address: str) -> bool:
        with self._lock:
            configured = address.casefold() in self._bounce_addresses
        return configured or domain_bounces(address)

    def set_bounce_sink(self, sink: BounceSink | None) -> None:
        with self._lock:
            self._bounce_sink = sink

    def bounces(self) -> builtins.list[Bounce]:
        with self._lock:
            return list(self._bounces)

    def bounce(self, mail: StoredMail, raw: bytes) -> builtins.list[Bounce]:
        """Bounce ``mail``'s bouncing recipients: store a DSN, hand each bounce to the sink, list it."""
        recipients = [rcpt for rcpt in mail.rcpt_tos if self.bounces_for(rcpt)]
        if not recipients:
            return []
        null_sender = mail.mail_from.strip() in ("", NULL_SENDER)
        dsn_mail_id = None if null_sender else self._store_dsn(mail, raw, recipients)
        at = iso(utc_now())
        bounces = [
            Bounce(
                event_id=str(uuid.uuid4()),
                mail_id=mail.id,
                dsn_mail_id=dsn_mail_id,
                message_id=bare_message_id(mail.message_id),
                recipient=recipient,
                reason=rejection_reason(recipient),
                at=at,
            )
            for recipient in recipients
        ]
        with self._lock:
            sink = self._bounce_sink
        for bounce in bounces:
            if sink is not None:
                try:
                    sink(bounce)
                except Exception:
                    logger.exception("could not hand a bounce to the webhook", extra={"fields": _fields(bounce)})
        with self._lock:
            self._bounces.extend(bounces)
        for bounce in bounces:
            logger.info("mail bounced", extra={"fields": _fields(bounce)})
        return bounces

    def _store_dsn(self, mail: StoredMail, raw: bytes, recipients: builtins.list[str]) -> str | None:
        try:
            dsn = delivery_status_notification(mail, raw, recipients)
            return self.add(dsn, NULL_SENDER, [mail.mail_from]).id
        except Exception:
            # Still report the bounce through the webhook.
            logger.exception("could not store a delivery status notification", extra={"fields": {"mail_id": mail.id}})
            return None


def _fields(bounce: Bounce) -> dict[str, Any]:
    return {
        "event_id": bounce.event_id,
        "mail_id": bounce.mail_id,
        "dsn_mail_id": bounce.dsn_mail_id,
        "recipient": mask_email(bounce.recipient),
    }


class MailboxHandler:
    """aiosmtpd handler: accept every message, keep it in the store, bounce what must bounce."""

    def __init__(self, store: MailStore) -> None:
        self.store = store

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        mail_from = envelope.mail_from or ""
        try:
            mail, new = self.store.receive(raw, mail_from, list(envelope.rcpt_tos))
        except Exception:
            logger.exception("could not store mail")
            return "451 Requested action aborted: local error in processing"
        if not new:
            logger.info("mail received again, kept once", extra={"fields": {"mail_id": mail.id}})
            return "250 Message accepted for delivery"
        fields = {
            "mail_id": mail.id,
            "mail_from": mask_email(mail_from),
            "rcpt_tos": [mask_email(rcpt) for rcpt in mail.rcpt_tos],
            "bytes": len(raw),
        }
        logger.info("mail received", extra={"fields": fields})
        try:
            self.store.bounce(mail, raw)
        except Exception:
            # The mail is stored; a failure to bounce must not make the sender retry it.
            logger.exception("could not bounce mail", extra={"fields": {"mail_id": mail.id}})
        return "250 Message accepted for delivery"


class MailboxController(Controller):
    """A Controller that also works with ``port=0``: ``.port`` is the bound port once started."""

    def _create_server(self) -> Awaitable[asyncio.AbstractServer]:
        return self._bind()

    async def _bind(self) -> asyncio.AbstractServer:
        server = await self.loop.create_server(
            self._factory_invoker, host=self.hostname, port=self.port, ssl=self.ssl_context
        )
        sockets: Any = getattr(server, "sockets", None)
        if sockets:
            self.port = sockets[0].getsockname()[1]
        return server


def start_mailbox_smtp(store: MailStore, host: str = "127.0.0.1", port: int = 1025) -> MailboxController:
    """Start the SMTP server (blocking; from async code use ``asyncio.to_thread``).

    Stop it with ``controller.stop()`` (also blocking).
    """
    controller = MailboxController(
        MailboxHandler(store),
        hostname=host,
        port=port,
        server_hostname=SMTP_HOSTNAME,
        enable_SMTPUTF8=True,
    )
    controller.start()
    logger.info("smtp mailbox listening", extra={"fields": {"host": host, "port": controller.port}})
    return controller


class BounceWebhook:
    """Posts bounce events to one URL from the app's event loop, whichever thread saw the bounce.

    :meth:`__call__` is the store's bounce sink: it attaches a :class:`DeliveryRecord`
    to the bounce and schedules the POST on the loop (never blocks the caller).
    """

    def __init__(self, url: str, policy: DeliveryPolicy) -> None:
        self.url = url
        self.policy = policy
        self.tasks = TaskSet()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False

    def open(self) -> None:
        """Bind to the running loop (the app's lifespan startup)."""
        self._loop = asyncio.get_running_loop()
        self._closed = False

    @asynccontextmanager
    async def serving(self, store: MailStore) -> AsyncIterator[None]:
        """While the app runs: ``store``'s bounces come here; pending POSTs are cancelled at the end."""
        self.open()
        store.set_bounce_sink(self)
        try:
            yield
        finally:
            store.set_bounce_sink(None)
            await self.aclose()

    async def aclose(self) -> None:
        self._closed = True
        self._loop = None
        await self.tasks.aclose()

    def __call__(self, bounce: Bounce) -> None:
        record = DeliveryRecord(kind="email_bounce", url=self.url, payload=bounce.event())
        bounce.webhook = record
        loop = self._loop
        try:
            if loop is None:
                raise RuntimeError("no event loop")
            loop.call_soon_threadsafe(self._start, record, bounce.event_id)
        except RuntimeError:
            self._give_up(record)

    def _start(self, record: DeliveryRecord, event_id: str) -> None:
        if self._closed:
            self._give_up(record)
            return
        self.tasks.spawn(deliver(record, self.policy), name=f"email-bounce-{event_id}")

    @staticmethod
    def _give_up(record: DeliveryRecord) -> None:
        record.last_error = "mailbox stopped before the bounce could be reported"
        record.finished_at = iso(utc_now())
        logger.warning("callback given up", extra={"fields": {"kind": record.kind, "error": record.last_error}})


def _check_address(value: str) -> str:
    local, at, domain = value.rpartition("@")
    if not at or not local or not domain or any(char.isspace() or char in "<>,;" for char in value):
        raise ValueError("must be an e-mail address: local@domain")
    return value


BounceAddress = Annotated[str, Field(min_length=3, max_length=254), AfterValidator(_check_address)]


class BounceAddresses(BaseModel):
    """Body of ``POST /_control/bounce-addresses``: replaces the set (``[]`` clears it)."""

    model_config = ConfigDict(extra="forbid")

    addresses: Annotated[list[BounceAddress], Field(max_length=MAX_BOUNCE_ADDRESSES)]


def _control_router(store: MailStore) -> APIRouter:
    router = APIRouter(prefix="/_control")

    @router.get("/mails")
    async def list_mails(to: str | None = None) -> list[StoredMail]:
        return store.list(to)

    @router.get("/mails/{mail_id}/raw")
    async def raw_mail(mail_id: str) -> Response:
        raw = store.raw(mail_id)
        if raw is None:
            raise StandinError(404, "not_found", f"no mail with id {mail_id}")
        return Response(raw, media_type="message/rfc822")

    @router.delete("/mails")
    async def clear_mails() -> dict[str, int]:
        return {"deleted": store.clear()}

    @router.get("/bounce-addresses")
    async def get_bounce_addresses() -> BounceAddresses:
        return BounceAddresses(addresses=store.bounce_addresses())

    @router.post("/bounce-addresses")
    async def set_bounce_addresses(body: BounceAddresses) -> BounceAddresses:
        addresses = store.set_bounce_addresses(body.addresses)
        logger.info("bounce addresses set", extra={"fields": {"addresses": [mask_email(a) for a in addresses]}})
        return BounceAddresses(addresses=addresses)

    @router.get("/bounces")
    async def list_bounces() -> list[Bounce]:
        return store.bounces()

    return router


def create_mailbox_app(
    store: MailStore,
    bounce_webhook_url: str | None = None,
    *,
    delivery_policy: DeliveryPolicy | None = None,
) -> FastAPI:
    """HTTP inspection API over ``store`` (the same store the SMTP handler fills).

    With ``bounce_webhook_url``, every bounce seen while the app runs is POSTed
    there (see the module docstring); the app's state is at ``app.state.standin``
    (the store) and ``app.state.bounce_webhook`` (:class:`BounceWebhook` or None).
    """
    webhook = (
        BounceWebhook(check_http_url(bounce_webhook_url), delivery_policy or DeliveryPolicy())
        if bounce_webhook_url is not None
        else None
    )

    app = standin_app(
        "mailbox",
        "mailbox",
        state=store,
        running=None if webhook is None else lambda: webhook.serving(store),
        routers=[_control_router(store)],
    )
    app.state.bounce_webhook = webhook
    return app
