"""An SMTP server that keeps what it receives, plus a small HTTP API to look at it.

The SMTP side is an aiosmtpd :class:`~aiosmtpd.controller.Controller`, which
runs its own event loop in a thread; :class:`MailStore` is therefore guarded
by a lock. Each message is parsed with the stdlib ``email`` package (policy
``default``, so RFC 2047 subjects and charsets are decoded) and, when a
directory is given, its raw bytes are written there as ``.eml``.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import logging
import threading
import uuid
from collections.abc import Awaitable
from email.message import EmailMessage, Message
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from fastapi import APIRouter, FastAPI
from fastapi.responses import Response
from pydantic import BaseModel

from ._http import StandinError, health_router, install_error_handlers, iso, utc_now
from .phones import mask_email

logger = logging.getLogger(__name__)

SMTP_HOSTNAME = "mailbox.motcua.local"


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


class MailStore:
    """Received mails, in memory (thread-safe) and optionally as ``.eml`` files."""

    def __init__(self, directory: Path | str | None = None) -> None:
        self.directory = Path(directory) if directory is not None else None
        if self.directory is not None:
            self.directory.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._mails: list[StoredMail] = []
        self._raw: dict[str, bytes] = {}

    def add(self, raw: bytes, mail_from: str, rcpt_tos: list[str]) -> StoredMail:
        mail = parse_mail(raw, mail_from, rcpt_tos)
        if self.directory is not None:
            mail.eml_path = str(self._write_eml(mail, raw))
        with self._lock:
            self._mails.append(mail)
            self._raw[mail.id] = raw
        return mail

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
        """Forget every mail kept in memory (``.eml`` files stay on disk)."""
        with self._lock:
            count = len(self._mails)
            self._mails.clear()
            self._raw.clear()
        return count


class MailboxHandler:
    """aiosmtpd handler: accept every message and keep it in the store."""

    def __init__(self, store: MailStore) -> None:
        self.store = store

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        mail_from = envelope.mail_from or ""
        try:
            mail = self.store.add(raw, mail_from, list(envelope.rcpt_tos))
        except Exception:
            logger.exception("could not store mail")
            return "451 Requested action aborted: local error in processing"
        fields = {
            "mail_id": mail.id,
            "mail_from": mask_email(mail_from),
            "rcpt_tos": [mask_email(rcpt) for rcpt in mail.rcpt_tos],
            "bytes": len(raw),
        }
        logger.info("mail received", extra={"fields": fields})
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

    return router


def create_mailbox_app(store: MailStore) -> FastAPI:
    """HTTP inspection API over ``store`` (the same store the SMTP handler fills)."""
    app = FastAPI(title="motcua stand-in: mailbox")
    app.state.standin = store
    install_error_handlers(app)
    app.include_router(health_router("mailbox"))
    app.include_router(_control_router(store))
    return app
