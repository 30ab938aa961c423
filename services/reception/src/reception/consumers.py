"""Thin consumers, one style: the kit validates each event into its schema and opens the transaction
(with the inbox); each handler builds the command from the event and calls one use case."""

from __future__ import annotations

from motcua_kit.consumer import Handler, PermanentError
from motcua_kit.events import Envelope, PickupHandedOver
from motcua_kit.events.base import DossierEvent
from motcua_kit.events.topics import NOTIFY_NOTIFICATIONS, POSTAL_SHIPMENTS, PROCESSING_CASES
from motcua_kit.runtime import ConsumerSpec
from motcua_kit.values import normalise_phone
from reception.domain.dossier import FOLLOWED, ApplicantInfo, DossierDraft, SubmittedDocument
from reception.service import UoW, intake, register


def consumer_specs(*, lookup_base_url: str) -> list[ConsumerSpec]:
    async def on_dossier_fact(event: DossierEvent, uow: UoW, _: Envelope) -> None:
        await register.follow(event, uow)

    async def on_pickup(event: PickupHandedOver, uow: UoW, _: Envelope) -> None:
        await intake.register_pickup(pickup_command(event, lookup_base_url=lookup_base_url), uow)

    handlers: dict[type, Handler] = {cls: on_dossier_fact for cls in FOLLOWED}
    handlers[PickupHandedOver] = on_pickup
    return [ConsumerSpec("register", [PROCESSING_CASES, POSTAL_SHIPMENTS, NOTIFY_NOTIFICATIONS], handlers)]


def pickup_command(event: PickupHandedOver, *, lookup_base_url: str) -> intake.RegisterPickup:
    """The intake command of a signed hand-over; a pickup no intake would accept goes to the dead letters."""
    a = event.applicant
    phone = normalise_phone(a.phone) if a.phone else None
    if a.phone and phone is None:
        raise PermanentError(f"pickup {event.pickup_id}: the applicant's phone is not a Vietnamese number")
    if event.return_channel == "post" and not (event.delivery_address or a.address):
        raise PermanentError(f"pickup {event.pickup_id}: a result returned by post needs a delivery address")
    if len(set(event.notify_channels)) != len(event.notify_channels):
        raise PermanentError(f"pickup {event.pickup_id}: notify_channels lists a channel twice")
    draft = DossierDraft(
        procedure_code=event.procedure_code,
        applicant=ApplicantInfo(a.full_name, a.id_number, phone, a.email, a.address),
        documents=tuple(SubmittedDocument(d.name, d.originals, d.copies) for d in event.documents),
        content=event.content,
        return_channel=event.return_channel,
        delivery_address=event.delivery_address,
        notify_channels=tuple(event.notify_channels),
    )
    return intake.RegisterPickup(
        pickup_id=event.pickup_id,
        centre_code=event.centre_code,
        draft=draft,
        handed_over_at=event.handed_over_at,
        officer=event.officer,
        postal_worker=event.postal_worker,
        lookup_base_url=lookup_base_url,
    )
