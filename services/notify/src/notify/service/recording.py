"""Recording what an event owes the citizen: one ``pending`` notification per message the rules name."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from motcua_kit.events import DossierEvent, Envelope
from motcua_kit.logs import get_logger
from motcua_kit.uow import UnitOfWork, use_case
from notify import metrics
from notify.domain import rules, templates
from notify.domain.contacts import DossierContacts
from notify.domain.messages import messages_for
from notify.domain.notification import Fallback, Notification
from notify.domain.templates import Channel, Template
from notify.store import Repositories, Templates

log = get_logger(__name__)


@dataclass(frozen=True)
class RecordNotifications:
    """An event about a dossier, as the consumer received it; ``tz`` dates the messages."""

    event: DossierEvent
    event_id: str
    event_type: str
    occurred_at: datetime
    tz: tzinfo

    @classmethod
    def of(cls, event: DossierEvent, envelope: Envelope, tz: tzinfo) -> RecordNotifications:
        return cls(
            event=event,
            event_id=envelope.event_id,
            event_type=envelope.event_type,
            occurred_at=envelope.occurred_at,
            tz=tz,
        )


async def current_template(repo: Templates, key: str, channel: Channel) -> Template:
    """The version in use: the latest edit, else the built-in (version 1)."""
    stored = await repo.current(key, channel)
    return stored.template if stored else templates.default(key, channel)


async def remember_dossier(uow: UnitOfWork[Repositories], event: DossierEvent, now: datetime) -> DossierContacts | None:
    """Keeps what the event tells about the dossier's contacts and appointment; returns what is known."""
    dossiers = uow.repos.dossiers
    if event.event_type in rules.CONTACT_EVENTS:
        contacts = DossierContacts.from_event(event)  # type: ignore[arg-type]  # a DossierReceived or DossierSubmitted
        await dossiers.save(contacts, now)
        return contacts
    attr = rules.APPOINTMENT_EVENTS.get(event.event_type)
    if attr is not None and (appointment := getattr(event, attr)) is not None:
        await dossiers.set_appointment(event.dossier_code, appointment, now)
    return await dossiers.get(event.dossier_code)


@use_case
async def record_notifications(cmd: RecordNotifications, uow: UnitOfWork[Repositories]) -> int:
    """One ``pending`` notification per message the rules owe (``opted_out`` for a citizen who opted out).

    The id is deterministic, so a replay or a second replica adds nothing. An event for a dossier
    notify does not know is recorded as skipped. Returns how many notifications were new.
    """
    event = cmd.event
    async with uow:
        now = datetime.now(UTC)
        contacts = await remember_dossier(uow, event, now)
        rule = rules.match(event.event_type, event)
        if rule is None:
            await uow.commit()
            return 0
        if contacts is None:
            await uow.repos.skipped_events.record(
                event_id=cmd.event_id,
                event_type=event.event_type,
                dossier_code=event.dossier_code,
                reason="unknown_dossier",
                at=now,
            )
            event_type = event.event_type
            uow.after_commit(lambda: metrics.record_skipped(event_type, "unknown_dossier"))
            await uow.commit()
            log.info("event for an unknown dossier skipped", template=rule.template)
            return 0
        chosen = {
            channel: await current_template(uow.repos.templates, rule.template, channel)
            for channel in ("sms", "email")
            if contacts.recipient(channel)
        }
        source = lambda _key, channel: chosen[channel]  # noqa: E731
        alternatives = {m.channel: m for m in messages_for(rule, event, contacts.with_every_channel(), cmd.tz, source)}
        created = 0
        for message in messages_for(rule, event, contacts, cmd.tz, source):
            other = alternatives.get("email" if message.channel == "sms" else "sms")
            notification = Notification.owed(
                message,
                dossier_code=event.dossier_code,
                centre_code=contacts.centre_code,
                trigger_event_id=cmd.event_id,
                trigger_event_type=cmd.event_type,
                trigger_occurred_at=cmd.occurred_at,
                now=now,
                # sent only if this channel fails for good
                fallback=Fallback.of(other) if other and other.channel not in contacts.notify_channels else None,
            )
            if await uow.repos.opt_outs.contains(message.channel, message.recipient):
                notification.opt_out(now)
            created += await uow.repos.notifications.add_if_new(notification)
        await uow.commit()
    log.info("notifications recorded", count=created, template=rule.template)
    return created
