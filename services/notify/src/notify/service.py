"""Notify's use cases, one async function each, with their ports passed in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Protocol

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from motcua_kit.errors import Conflict, Invalid, NotFound
from motcua_kit.events import DossierEvent, Envelope, NotificationSent
from motcua_kit.logs import get_logger, mask_text
from motcua_kit.mongo import Document
from motcua_kit.outbox import Tx, UnitOfWork
from notify import metrics, store
from notify.clients import email as email_client_module
from notify.clients import sms as sms_client_module
from notify.clients.errors import PermanentSendError, RetryableSendError, SendError
from notify.domain import rules, templates
from notify.domain.contacts import DossierContacts
from notify.domain.messages import OutgoingMessage, messages_for, notification_id, render
from notify.domain.templates import Channel, Template
from notify.settings import NotifySettings

log = get_logger(__name__)


class SmsSender(Protocol):
    async def send(self, phone: str, text: str, client_ref: str) -> str: ...


class EmailSender(Protocol):
    async def send(self, *, notification_id: str, recipient: str, subject: str, text: str, html: str | None) -> str: ...


@dataclass(frozen=True)
class Senders:
    sms: SmsSender
    email: EmailSender


PROVIDERS = {"sms": sms_client_module.PROVIDER, "email": email_client_module.PROVIDER}


# --- recording what is owed ----------------------------------------------------------------------


def template_from_doc(doc: Document) -> Template:
    return Template(text=doc["text"], subject=doc.get("subject"), html=doc.get("html"), version=doc["version"])


async def current_template(
    db: AsyncDatabase[Document], key: str, channel: Channel, session: AsyncClientSession | None = None
) -> Template:
    """The version in use: the latest edit, else the built-in (version 1)."""
    doc = await store.current_template(db, key, channel, session)
    return template_from_doc(doc) if doc else templates.default(key, channel)


async def remember_dossier(tx: Tx, event: DossierEvent, now: datetime) -> DossierContacts | None:
    """Keeps what the event tells about the dossier's contacts and appointment; returns what is known."""
    if event.event_type in rules.CONTACT_EVENTS:
        contacts = DossierContacts.from_event(event)  # type: ignore[arg-type]  # a DossierReceived or DossierSubmitted
        await store.save_dossier(tx.db, tx.session, contacts.code, contacts.to_fields(), now)
        return contacts
    attr = rules.APPOINTMENT_EVENTS.get(event.event_type)
    if attr is not None and (appointment := getattr(event, attr)) is not None:
        await store.set_appointment(tx.db, tx.session, event.dossier_code, appointment, now)
    doc = await store.get_dossier(tx.db, event.dossier_code, tx.session)
    return DossierContacts.from_doc(doc) if doc else None


async def record_notifications(tx: Tx, event: DossierEvent, envelope: Envelope, tz: tzinfo) -> int:
    """Inside the consumer's transaction: one ``pending`` notification per message the rules owe.

    The id is deterministic, so a replay or a second replica adds nothing. An event for a dossier
    notify does not know is recorded as skipped. Returns how many notifications were new.
    """
    now = datetime.now(UTC)
    contacts = await remember_dossier(tx, event, now)
    rule = rules.match(event.event_type, event)
    if rule is None:
        return 0
    if contacts is None:
        await store.record_skip(
            tx.db,
            tx.session,
            event_id=envelope.event_id,
            event_type=event.event_type,
            dossier_code=event.dossier_code,
            reason="unknown_dossier",
            at=now,
        )
        metrics.record_skipped(event.event_type, "unknown_dossier")
        log.info("event for an unknown dossier skipped", template=rule.template)
        return 0
    chosen = {
        channel: await current_template(tx.db, rule.template, channel, tx.session)
        for channel, _ in contacts.chosen_channels()
    }
    created = 0
    for message in messages_for(rule, event, contacts, tz, lambda _key, channel: chosen[channel]):
        doc = store.new_notification(
            notification_id=notification_id(envelope.event_id, message.channel, message.recipient),
            message=message,
            dossier_code=event.dossier_code,
            centre_code=contacts.centre_code,
            trigger_event_id=envelope.event_id,
            trigger_event_type=envelope.event_type,
            trigger_occurred_at=envelope.occurred_at,
            now=now,
        )
        created += await store.insert_if_new(tx.db, doc, tx.session)
    log.info("notifications recorded", count=created, template=rule.template)
    return created


# --- sending -------------------------------------------------------------------------------------


async def deliver(doc: Document, senders: Senders) -> str:
    """Hands one claimed notification to its provider; returns the provider's reference.

    The notification id travels as the SMS ``client_ref`` and the e-mail Message-ID,
    so sending the same notification again is recognised by the provider.
    """
    if doc["channel"] == "sms":
        return await senders.sms.send(doc["recipient"], doc["text"], doc["_id"])
    return await senders.email.send(
        notification_id=doc["_id"],
        recipient=doc["recipient"],
        subject=doc["subject"] or "",
        text=doc["text"],
        html=doc["html"],
    )


async def mark_sent(uow: UnitOfWork, doc: Document, provider_reference: str) -> bool:
    """In one transaction: the notification becomes ``sent`` and ``NotificationSent`` is published."""
    sent_at = datetime.now(UTC)
    provider = PROVIDERS[doc["channel"]]

    async def work(tx: Tx) -> bool:
        if not await store.mark_sent(
            tx.db, tx.session, doc["_id"], provider=provider, provider_reference=provider_reference, sent_at=sent_at
        ):
            return False  # another sender got there first (it had taken over an expired lease)
        await tx.publish(
            NotificationSent(
                dossier_code=doc["dossier_code"],
                notification_id=doc["_id"],
                trigger_event_type=doc["trigger_event_type"],
                channel=doc["channel"],
                provider=provider,
                provider_reference=provider_reference,
                sent_at=sent_at,
            )
        )
        return True

    marked = await uow.run(work)
    if marked:
        metrics.record_sent(doc["channel"], provider, (sent_at - doc["trigger_occurred_at"]).total_seconds())
        log.info("notification sent", notification_id=doc["_id"], channel=doc["channel"], attempts=doc["attempts"])
    return marked


def retry_delay(attempts: int, settings: NotifySettings, retry_after_seconds: float | None = None) -> timedelta:
    """Exponential backoff from the first retry, capped; never sooner than the provider asked."""
    seconds = min(settings.send_backoff_max_seconds, settings.send_backoff_initial_seconds * 2 ** max(0, attempts - 1))
    if retry_after_seconds is not None:
        seconds = max(seconds, min(retry_after_seconds, settings.send_backoff_max_seconds))
    return timedelta(seconds=seconds)


async def mark_failed_attempt(
    db: AsyncDatabase[Document], doc: Document, error: SendError, settings: NotifySettings, now: datetime
) -> str:
    """Schedules the next attempt, or gives up; returns the new status."""
    channel, provider = doc["channel"], PROVIDERS[doc["channel"]]
    note = mask_text(str(error))
    metrics.record_provider_error(provider, error.kind)
    if isinstance(error, RetryableSendError) and doc["attempts"] < settings.send_max_attempts:
        next_at = now + retry_delay(doc["attempts"], settings, error.retry_after_seconds)
        await store.mark_unsent(
            db, doc["_id"], status="pending", provider=provider, error=note, at=now, next_attempt_at=next_at
        )
        metrics.record_retry(channel)
        log.warning(
            "send failed, will retry",
            notification_id=doc["_id"],
            channel=channel,
            error=note,
            attempts=doc["attempts"],
            next_attempt_at=next_at.isoformat(),
        )
        return "pending"
    status: store.Status = "failed" if isinstance(error, PermanentSendError) else "technical_failure"
    await store.mark_unsent(db, doc["_id"], status=status, provider=provider, error=note, at=now)
    metrics.record_given_up(channel, provider, status)
    log.error(
        "send failed, giving up",
        notification_id=doc["_id"],
        channel=channel,
        status=status,
        error=note,
        attempts=doc["attempts"],
    )
    return status


async def send_one(
    db: AsyncDatabase[Document],
    uow: UnitOfWork,
    doc: Document,
    senders: Senders,
    settings: NotifySettings,
    now: datetime,
) -> str:
    """Sends one claimed notification and records the outcome; returns its new status."""
    try:
        reference = await deliver(doc, senders)
    except SendError as exc:
        return await mark_failed_attempt(db, doc, exc, settings, now)
    except Exception as exc:  # a client bug must not leave the notification stuck until its lease ends
        error = RetryableSendError("unexpected", repr(exc))
        log.exception("unexpected error while sending", notification_id=doc["_id"])
        return await mark_failed_attempt(db, doc, error, settings, now)
    await mark_sent(uow, doc, reference)
    return "sent"


async def send_due(
    db: AsyncDatabase[Document],
    uow: UnitOfWork,
    sms_client: SmsSender,
    email_client: EmailSender,
    settings: NotifySettings,
    now: datetime,
) -> int:
    """Sends every notification due at ``now``, one claim at a time; returns how many were processed.

    A notification put back for a later attempt is due after ``now``, so the loop ends.
    """
    senders = Senders(sms=sms_client, email=email_client)
    lease = timedelta(seconds=settings.sending_lease_seconds)
    processed = 0
    while (doc := await store.claim_due(db, now, lease)) is not None:
        await send_one(db, uow, doc, senders, settings, now)
        processed += 1
    return processed


# --- staff view ----------------------------------------------------------------------------------


async def dossier_notifications(db: AsyncDatabase[Document], dossier_code: str) -> list[Document]:
    """Every notification of a dossier, oldest first."""
    return await store.for_dossier(db, dossier_code)


# --- templates -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TemplateVersion:
    key: str
    channel: Channel
    template: Template
    builtin: bool
    created_at: datetime | None = None
    created_by: str | None = None


@dataclass(frozen=True)
class Preview:
    key: str
    channel: Channel
    version: int | None
    message: OutgoingMessage


def _version_of(doc: Document) -> TemplateVersion:
    return TemplateVersion(
        key=doc["key"],
        channel=doc["channel"],
        template=template_from_doc(doc),
        builtin=False,
        created_at=doc["created_at"],
        created_by=doc["created_by"],
    )


def _builtin(key: str, channel: Channel) -> TemplateVersion:
    return TemplateVersion(key=key, channel=channel, template=templates.default(key, channel), builtin=True)


def _known(key: str, channel: str) -> Channel:
    if not templates.known(key, channel):
        raise NotFound(f"no template {key!r} for channel {channel!r}", code="unknown_template")
    return channel  # type: ignore[return-value]  # a known pair has a valid channel


async def list_templates(db: AsyncDatabase[Document]) -> list[TemplateVersion]:
    """The version in use of every template, in rule order."""
    edited = {(d["key"], d["channel"]): _version_of(d) for d in await store.current_templates(db)}
    return [edited.get((key, channel)) or _builtin(key, channel) for key, channel in templates.DEFAULTS]


async def template_history(db: AsyncDatabase[Document], key: str, channel: str) -> list[TemplateVersion]:
    """Every version of one template, the built-in first; the last is the one in use."""
    known = _known(key, channel)
    return [_builtin(key, known), *(_version_of(d) for d in await store.template_versions(db, key, known))]


def checked(key: str, channel: Channel, template: Template) -> Template:
    try:
        templates.validate(key, channel, template)
    except templates.TemplateError as exc:
        raise Invalid(
            f"template {key}/{channel} refused: {exc}", code="invalid_template", details=exc.problems
        ) from exc
    return template


async def edit_template(
    db: AsyncDatabase[Document], key: str, channel: str, template: Template, *, by: str
) -> TemplateVersion:
    """Stores ``template`` as the next version of (key, channel); the next message uses it."""
    known = _known(key, channel)
    checked(key, known, template)
    for _ in range(5):  # two edits at once: the loser takes the next number
        current = await store.current_template(db, key, known)
        version = (current["version"] if current else 1) + 1
        now = datetime.now(UTC)
        doc = {
            "_id": store.template_version_id(key, known, version),
            "key": key,
            "channel": known,
            "version": version,
            "subject": template.subject,
            "text": template.text,
            "html": template.html,
            "created_at": now,
            "created_by": by,
        }
        if await store.insert_template_version(db, doc):
            log.info("template edited", template=key, channel=known, version=version)
            return _version_of(doc)
    raise Conflict(f"template {key}/{channel} is being edited by someone else, try again")


async def preview_template(
    db: AsyncDatabase[Document], key: str, channel: str, template: Template | None = None
) -> Preview:
    """Renders ``template`` (checked first), or the version in use, with the built-in sample data."""
    known = _known(key, channel)
    version: int | None = None
    if template is None:
        template = await current_template(db, key, known)
        version = template.version
    else:
        checked(key, known, template)
    sample = {name: templates.SAMPLE_VALUES.get(name, "") for name in rules.placeholders(key)}
    return Preview(key=key, channel=known, version=version, message=render(template, known, "preview", sample))
