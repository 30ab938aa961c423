"""Notify's use cases, one async function each, with their ports passed in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from motcua_kit.errors import Conflict, Invalid, NotFound
from motcua_kit.events import DossierEvent, Envelope
from motcua_kit.logs import get_logger
from motcua_kit.mongo import Document
from motcua_kit.outbox import Tx
from notify import metrics, store
from notify.domain import rules, templates
from notify.domain.contacts import DossierContacts, normalize_email, normalize_phone
from notify.domain.messages import OutgoingMessage, messages_for, notification_id, render
from notify.domain.templates import Channel, Template

log = get_logger(__name__)


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
        for channel in ("sms", "email")
        if contacts.recipient(channel)
    }
    source = lambda _key, channel: chosen[channel]  # noqa: E731
    alternatives = {m.channel: m for m in messages_for(rule, event, contacts.with_every_channel(), tz, source)}
    created = 0
    for message in messages_for(rule, event, contacts, tz, source):
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
        other = alternatives.get("email" if message.channel == "sms" else "sms")
        if other is not None and other.channel not in contacts.notify_channels:
            doc["fallback"] = _fallback_fields(other)  # sent only if this channel fails for good
        if await store.is_opted_out(tx.db, message.channel, message.recipient, tx.session):
            doc |= {"status": "opted_out", "next_attempt_at": None}
            doc["history"].append(store.history_entry("opted_out", now, "the citizen opted out"))
        created += await store.insert_if_new(tx.db, doc, tx.session)
    log.info("notifications recorded", count=created, template=rule.template)
    return created


def _fallback_fields(message: OutgoingMessage) -> Document:
    return {
        "channel": message.channel,
        "recipient": message.recipient,
        "subject": message.subject,
        "text": message.text,
        "html": message.html,
        "segments": message.segments,
        "template_version": message.template_version,
    }


# --- opt-outs ------------------------------------------------------------------------------------


async def opt_out(db: AsyncDatabase[Document], channel: Channel, recipient: str, *, by: str) -> str:
    """The citizen asks not to be told on ``channel`` at ``recipient`` any more; returns the stored form."""
    normalised = _normalised(channel, recipient)
    await store.save_opt_out(db, channel, normalised, by=by, at=datetime.now(UTC))
    log.info("citizen opted out", channel=channel)
    return normalised


async def opt_in(db: AsyncDatabase[Document], channel: Channel, recipient: str) -> bool:
    return await store.delete_opt_out(db, channel, _normalised(channel, recipient))


def _normalised(channel: Channel, recipient: str) -> str:
    return normalize_phone(recipient) if channel == "sms" else normalize_email(recipient).casefold()


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
