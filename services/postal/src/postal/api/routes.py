"""Postal's routes: deliveries, pickups, hand-over minutes, the partner's day, carrier callbacks."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request

from motcua_kit.auth import Role
from motcua_kit.errors import Invalid
from postal.api.deps import CentreStaff, IdempotencyKey, MaybeStaff, Partner, RulesDep, Signer, Staff, UoW
from postal.api.schemas import (
    HandoverIn,
    HandoverOut,
    ManifestOut,
    OutcomeOut,
    PartnerDayOut,
    PartnerReportIn,
    PickupIn,
    RecipientIn,
    RejectIn,
    ShipmentOut,
    SignIn,
)
from postal.domain.addresses import PostalAddress
from postal.domain.tracking import Proof, Report
from postal.service import deliveries, handovers, pickups, tracking, views

router = APIRouter()


# --- result deliveries -----------------------------------------------------------------------------


@router.get("/deliveries/{code}", response_model=ShipmentOut, tags=["deliveries"])
async def get_delivery(code: str, uow: UoW, viewer: Staff) -> ShipmentOut:
    """The postal delivery of a dossier's result, with its tracking history."""
    return ShipmentOut.of(await views.delivery(uow, code, viewer))


@router.put("/deliveries/{code}/recipient", response_model=ShipmentOut, tags=["deliveries"])
async def correct_recipient(code: str, body: RecipientIn, uow: UoW, officer: CentreStaff) -> ShipmentOut:
    """Fix the recipient's address or phone before the carrier has the shipment; a refused order is placed again."""
    command = deliveries.CorrectRecipient(
        dossier_code=code, viewer=officer, address=body.address, phone=body.phone, name=body.name
    )
    return ShipmentOut.of(await deliveries.correct_recipient(command, uow))


@router.get("/shipments", response_model=list[ShipmentOut], tags=["deliveries"])
async def list_shipments(
    uow: UoW,
    viewer: Staff,
    rules: RulesDep,
    centre_code: str | None = None,
    purpose: Annotated[str | None, Query(pattern="^(delivery|pickup)$")] = None,
    status: Annotated[str | None, Query(max_length=40)] = None,
    late: bool | None = None,
) -> list[ShipmentOut]:
    """Shipments of the viewer's centre (or partner), newest change first, at most 500."""
    shipments = await views.list_shipments(
        uow, viewer, rules, centre_code=centre_code, purpose=purpose, status=status, late=late
    )
    return [ShipmentOut.of(s) for s in shipments]


@router.get("/manifest", response_model=ManifestOut, tags=["handovers"])
async def manifest(uow: UoW, viewer: Staff, rules: RulesDep, centre_code: str | None = None) -> ManifestOut:
    """What changes hands at the centre now: results for the postal worker, collected dossiers for the counter."""
    m = await views.manifest(uow, viewer, rules, centre_code=centre_code)
    return ManifestOut(**{k: [ShipmentOut.of(d) for d in v] for k, v in m.items()})


# --- home collection -------------------------------------------------------------------------------


@router.post("/pickups", response_model=ShipmentOut, status_code=201, tags=["pickups"])
async def request_pickup(
    body: PickupIn, uow: UoW, rules: RulesDep, staff: MaybeStaff, idempotency_key: IdempotencyKey = None
) -> ShipmentOut:
    """A citizen (no token) or a counter officer asks the post to collect a dossier at home."""
    if staff is not None and staff.role not in (Role.COUNTER_OFFICER, Role.CENTRE_ADMIN):
        raise Invalid(f"role {staff.role.value} does not request collections", code="role_not_allowed")
    a = body.address
    order = pickups.PickupOrder(
        centre_code=body.centre_code,
        procedure_code=body.procedure_code,
        applicant=body.applicant.model_dump() | {"address": f"{a.street}, {a.commune}, {a.province}"},
        address=PostalAddress(street=a.street, commune=a.commune, province=a.province),
        window_start=body.window_start,
        window_end=body.window_end,
        contact_phone=body.contact_phone,
        return_channel=body.return_channel,
        delivery_address=body.delivery_address,
        notify_channels=list(body.notify_channels),
        content=body.content,
        note=body.note,
    )
    command = pickups.RequestPickup(order, requested_by=staff, idempotency_key=idempotency_key)
    return ShipmentOut.of(await pickups.request_pickup(command, uow, rules=rules))


@router.get("/pickups/{pickup_id}", response_model=ShipmentOut, tags=["pickups"])
async def get_pickup(pickup_id: str, uow: UoW, viewer: Staff) -> ShipmentOut:
    return ShipmentOut.of(await views.pickup(uow, pickup_id, viewer))


# --- hand-over minutes -----------------------------------------------------------------------------


@router.post("/handovers", response_model=HandoverOut, status_code=201, tags=["handovers"])
async def prepare_handover(body: HandoverIn, uow: UoW, signer: Signer, rules: RulesDep) -> HandoverOut:
    """Minutes listing results handed to the post, or collected dossiers handed in; the other side confirms."""
    command = handovers.PrepareHandover(
        principal=signer,
        kind=body.kind,
        centre_code=body.centre_code,
        tracking_numbers=body.tracking_numbers,
        pickups=[
            handovers.PickupItem(p.pickup_id, [d.model_dump() for d in p.documents], p.fees_collected_vnd)
            for p in body.pickups
        ],
        signer_name=body.signer_name,
        note=body.note,
    )
    return HandoverOut.of(await handovers.prepare(command, uow, rules=rules))


@router.get("/handovers/{handover_id}", response_model=HandoverOut, tags=["handovers"])
async def get_handover(handover_id: str, uow: UoW, viewer: Staff) -> HandoverOut:
    return HandoverOut.of(await handovers.get(uow, handover_id, viewer))


@router.post("/handovers/{handover_id}/confirm", response_model=HandoverOut, tags=["handovers"])
async def confirm_handover(handover_id: str, body: SignIn, uow: UoW, signer: Signer, rules: RulesDep) -> HandoverOut:
    """The other side signs: results are handed to the post, collected dossiers registered at reception."""
    command = handovers.ConfirmHandover(handover_id, principal=signer, signer_name=body.signer_name)
    return HandoverOut.of(await handovers.confirm(command, uow, rules=rules))


@router.post("/handovers/{handover_id}/reject", response_model=HandoverOut, tags=["handovers"])
async def reject_handover(handover_id: str, body: RejectIn, uow: UoW, signer: Signer) -> HandoverOut:
    """The papers do not match the minutes: nothing changes hands, the shipments can go on new minutes."""
    command = handovers.RejectHandover(handover_id, principal=signer, reason=body.reason)
    return HandoverOut.of(await handovers.reject(command, uow))


# --- the postal partner ----------------------------------------------------------------------------


@router.get("/partner/day", response_model=PartnerDayOut, tags=["partner"])
async def partner_day(
    uow: UoW, partner: Partner, rules: RulesDep, centre_code: str | None = None, day: date | None = None
) -> PartnerDayOut:
    """The partner's round: collections booked, results to take from the centre, deliveries to make."""
    d = await views.partner_day(uow, partner, rules, centre_code=centre_code, day=day)
    return PartnerDayOut(
        date=d.date,
        collections=[ShipmentOut.of(x) for x in d.collections],
        results_to_take=[ShipmentOut.of(x) for x in d.results_to_take],
        deliveries=[ShipmentOut.of(x) for x in d.deliveries],
    )


@router.post("/partner/shipments/{tracking_number}/reports", response_model=OutcomeOut, tags=["partner"])
async def partner_report(
    tracking_number: str, body: PartnerReportIn, uow: UoW, partner: Partner, rules: RulesDep
) -> OutcomeOut:
    """A delivery step reported by the partner where the carrier has no webhook."""
    if body.status == "delivered" and body.proof is None:
        raise Invalid("a delivery needs its proof: who received it and how they were identified", code="proof_required")
    proof = Proof(**body.proof.model_dump()) if body.proof else None
    report = Report(
        status=body.status,
        at=body.at,
        attempt=body.attempt,
        reason=body.reason,
        failure_kind=body.failure_kind,
        proof=proof,
    )
    command = tracking.PartnerReport(
        tracking_number=tracking_number, report_id=body.report_id, report=report, partner_scope=partner.scope
    )
    return OutcomeOut(outcome=await tracking.report_by_partner(command, uow, rules=rules))


# --- carrier callbacks -----------------------------------------------------------------------------


@router.post("/carrier/webhooks", response_model=OutcomeOut, tags=["carrier"])
async def carrier_webhook(
    request: Request,
    uow: UoW,
    rules: RulesDep,
    x_carrier_timestamp: Annotated[str | None, Header()] = None,
    x_carrier_signature: Annotated[str | None, Header()] = None,
) -> OutcomeOut:
    """Signed tracking callbacks: HMAC-SHA256 over "<timestamp>.<body>" with the shared secret."""
    s = request.app.state.settings.carrier
    callback = tracking.CarrierCallback(await request.body(), x_carrier_timestamp, x_carrier_signature)
    outcome = await tracking.receive_webhook(
        callback,
        uow,
        secret=s.webhook_secret,
        tolerance_seconds=s.webhook_tolerance_seconds,
        rules=rules,
    )
    return OutcomeOut(outcome=outcome)
