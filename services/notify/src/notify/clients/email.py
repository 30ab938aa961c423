"""E-mail through an SMTP relay with aiosmtplib; text plus an HTML alternative."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate

import aiosmtplib

from notify.clients.errors import PermanentSendError, RetryableSendError, SendError
from notify.settings import SmtpSettings

PROVIDER = "smtp"


def build_message(
    *, sender: str, recipient: str, subject: str, text: str, html: str | None, message_id: str
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = message_id
    message.set_content(text, charset="utf-8")
    if html is not None:
        message.add_alternative(html, subtype="html", charset="utf-8")
    return message


def message_id_for(notification_id: str) -> str:
    return f"<{notification_id}@motcua>"


class SmtpEmailClient:
    name = PROVIDER

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    async def aclose(self) -> None:
        return None  # one connection per message: nothing kept open

    async def send(self, *, notification_id: str, recipient: str, subject: str, text: str, html: str | None) -> str:
        """Sends one e-mail; returns its Message-ID."""
        s = self.settings
        message_id = message_id_for(notification_id)
        message = build_message(
            sender=s.sender, recipient=recipient, subject=subject, text=text, html=html, message_id=message_id
        )
        try:
            await aiosmtplib.send(
                message,
                sender=s.bounce_address,  # the envelope sender: where bounces go
                hostname=s.host,
                port=s.port,
                timeout=s.timeout_seconds,
                use_tls=s.use_tls,
                start_tls=s.start_tls,
                username=s.username,
                password=s.password,
            )
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise classify_smtp_error(exc) from exc
        return message_id


def classify_smtp_error(exc: Exception) -> SendError:
    """5xx answers are permanent; 4xx answers, time-outs and broken connections are retryable."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [r.code for r in exc.recipients]
        if any(code >= 500 for code in codes) or not codes:
            return PermanentSendError("recipient_refused", str(exc))
        return RetryableSendError("recipient_deferred", str(exc))
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        if exc.code >= 500:
            return PermanentSendError(_response_kind(exc), f"{exc.code} {exc.message}")
        return RetryableSendError(_response_kind(exc), f"{exc.code} {exc.message}")
    if isinstance(exc, TimeoutError):
        return RetryableSendError("timeout", repr(exc))
    if isinstance(exc, OSError):
        return RetryableSendError("connection", repr(exc))
    if isinstance(exc, aiosmtplib.SMTPNotSupported):
        return PermanentSendError("not_supported", str(exc))
    return RetryableSendError("smtp_error", repr(exc))


def _response_kind(exc: aiosmtplib.SMTPResponseException) -> str:
    if isinstance(exc, aiosmtplib.SMTPRecipientRefused):
        return "recipient_refused"
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return "auth_refused"
    if isinstance(exc, aiosmtplib.SMTPSenderRefused):
        return "sender_refused"
    return "smtp_refused" if exc.code >= 500 else "smtp_deferred"
