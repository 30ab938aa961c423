"""Turning an event into the messages owed to the citizen: rule, placeholders, templates, channels.

SMS texts are unaccented ASCII (their segment count is kept: a long one is still sent); e-mails are
full Vietnamese with diacritics, as text and HTML (user data escaped in the HTML).
"""

from __future__ import annotations

import hashlib
import html
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, tzinfo
from typing import Any

from notify.domain import rules
from notify.domain.contacts import DossierContacts
from notify.domain.rules import FieldSpec, Rule
from notify.domain.templates import RETURN_METHODS, Channel, Template
from notify.domain.text import sms_segments, unaccent


@dataclass(frozen=True)
class OutgoingMessage:
    channel: Channel
    recipient: str
    subject: str | None
    text: str
    html: str | None
    template_key: str | None = None
    template_version: int | None = None
    segments: int | None = None
    """SMS parts the text takes (None for e-mail)."""


TemplateSource = Callable[[str, Channel], Template]
"""Gives the template to use for (template key, channel): the current version."""


def date_vn(moment: datetime | date, tz: tzinfo) -> str:
    if isinstance(moment, datetime):
        moment = moment.astimezone(tz)
    return moment.strftime("%d/%m/%Y")


def datetime_vn(moment: datetime, tz: tzinfo) -> str:
    return moment.astimezone(tz).strftime("%H:%M ngày %d/%m/%Y")


def vnd(amount: int) -> str:
    """``1500000`` -> ``1.500.000`` (Vietnamese thousands separator)."""
    return f"{amount:,}".replace(",", ".")


def format_value(spec: FieldSpec, value: Any, tz: tzinfo) -> str:
    if value is None:
        return spec.default
    match spec.kind:
        case "date":
            return date_vn(value, tz)
        case "datetime":
            return datetime_vn(value, tz)
        case "list":
            return "; ".join(str(item) for item in value)
        case "vnd":
            return vnd(int(value))
        case _:
            return str(value)


def common_fields(contacts: DossierContacts, tz: tzinfo) -> dict[str, str]:
    appointment = contacts.appointment_at
    return {
        "code": contacts.code,
        "full_name": contacts.full_name,
        "centre_name": contacts.centre_name,
        "procedure_name": contacts.procedure_name,
        "lookup_url": contacts.lookup_url,
        "appointment": datetime_vn(appointment, tz) if appointment else "",
        "appointment_date": date_vn(appointment, tz) if appointment else "",
        "return_method": RETURN_METHODS.get(contacts.return_channel, "").format(centre_name=contacts.centre_name),
    }


def fields_for(rule: Rule, event: Any, contacts: DossierContacts, tz: tzinfo) -> dict[str, str]:
    """Every placeholder of ``rule``'s templates, written for the citizen."""
    fields = common_fields(contacts, tz)
    for name, spec in rule.fields.items():
        fields[name] = format_value(spec, getattr(event, spec.attr), tz)
    return fields


class _Fields(dict[str, str]):
    """Placeholders a template names but no rule gives any more are left as written, not an error."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def render(template: Template, channel: Channel, recipient: str, values: Mapping[str, str]) -> OutgoingMessage:
    fields = _Fields(values)
    text = template.text.format_map(fields)
    if channel == "sms":
        text = unaccent(text)
        return OutgoingMessage(channel, recipient, None, text, None, segments=sms_segments(text))
    escaped = _Fields({name: html.escape(value, quote=True) for name, value in fields.items()})
    return OutgoingMessage(
        channel=channel,
        recipient=recipient,
        subject=template.subject.format_map(fields) if template.subject else None,
        text=text,
        html=template.html.format_map(escaped) if template.html else None,
    )


def messages_for(
    rule: Rule, event: Any, contacts: DossierContacts, tz: tzinfo, templates: TemplateSource
) -> list[OutgoingMessage]:
    """The messages ``rule`` owes the citizen: one per chosen channel they have an address for."""
    fields = fields_for(rule, event, contacts, tz)
    messages = []
    for channel, recipient in contacts.chosen_channels():
        template = templates(rule.template, channel)
        message = render(template, channel, recipient, fields)
        messages.append(replace(message, template_key=rule.template, template_version=template.version))
    return messages


def plan(event: Any, contacts: DossierContacts | None, tz: tzinfo, templates: TemplateSource) -> list[OutgoingMessage]:
    """Pure shortcut: the matching rule's messages for ``event`` (none without a rule or contacts)."""
    rule = rules.match(event.event_type, event)
    if rule is None or contacts is None:
        return []
    return messages_for(rule, event, contacts, tz, templates)


def notification_id(event_id: str, channel: Channel, recipient: str) -> str:
    """Deterministic id of one message: the same event, channel and recipient give the same id.

    The recipient only enters hashed, so the id (used as SMS client reference and
    e-mail Message-ID) carries no personal data. 53 characters.
    """
    recipient_hash = hashlib.sha256(recipient.casefold().encode()).hexdigest()
    digest = hashlib.sha256(f"{event_id}\x1f{channel}\x1f{recipient_hash}".encode()).hexdigest()
    return f"{channel}-{digest[:48]}"
