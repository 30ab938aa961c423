"""Postal's collections.

shipments   one per (purpose, dossier or pickup): ``_id`` = ``delivery:<dossier code>`` or
            ``pickup:<pickup id>``, so a dossier resolved twice or a pickup requested twice still
            has one shipment. Fields: purpose, dossier_code | pickup_id, centre_code, carrier, partner,
            status (postal's), carrier_status + carrier_attempt (the last carrier step applied),
            tracking_number, sender / recipient {name, phone, address {street, commune, province}},
            cod_amount_vnd, weight_grams, task {kind create_order | request_return, due_at, attempts,
            lease_until, last_error, stuck} (the carrier call to make, None when none), problem
            {kind, reason} (what an officer must fix), target_date, late, failures,
            next_attempt_after, handed_over_at, handover_id, delivered {at, recipient_name, relation,
            id_checked, id_document}, returned {at, reason}, last_carrier_update_at, last_polled_at,
            history [{status, at, source, attempt, reason, kind}], pickup {...the request...}.
resolutions one per dossier resolved before postal read its receipt (cross-topic order is not kept).
carrier_events  one per carrier step seen (``_id`` = ``<carrier>:<event id>``): de-duplication.
handovers   hand-over minutes (biên bản giao nhận), prepared by one side and confirmed by the other.
centres / procedures / settings   what reception publishes: addresses, postal permissions, calendar.
"""

from __future__ import annotations

from dataclasses import dataclass

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from motcua_kit.mongo import Document, Indexes
from motcua_kit.uow import UnitOfWork

SHIPMENTS = "shipments"
CARRIER_EVENTS = "carrier_events"
HANDOVERS = "handovers"
CENTRES = "centres"
PROCEDURES = "procedures"
SETTINGS = "settings"
IDEMPOTENCY = "idempotency"
RESOLUTIONS = "resolutions"

INDEXES = (
    Indexes(
        SHIPMENTS,
        (
            IndexModel([("tracking_number", ASCENDING)], name="tracking", unique=True, sparse=True),
            IndexModel([("task.due_at", ASCENDING)], name="task_due", sparse=True),
            IndexModel([("centre_code", ASCENDING), ("status", ASCENDING)], name="centre_status"),
            IndexModel([("open", ASCENDING), ("last_carrier_update_at", ASCENDING)], name="open_silence"),
            IndexModel([("pickup_id", ASCENDING)], name="pickup", sparse=True),
        ),
    ),
    Indexes(
        CARRIER_EVENTS, (IndexModel([("received_at", ASCENDING)], name="received_ttl", expireAfterSeconds=400 * 86400),)
    ),
    Indexes(HANDOVERS, (IndexModel([("centre_code", ASCENDING), ("prepared_at", ASCENDING)], name="centre_day"),)),
    Indexes(RESOLUTIONS, (IndexModel([("created_at", ASCENDING)], name="created_ttl", expireAfterSeconds=90 * 86400),)),
    Indexes(IDEMPOTENCY, (IndexModel([("created_at", ASCENDING)], name="created_ttl", expireAfterSeconds=7 * 86400),)),
)


def delivery_id(dossier_code: str) -> str:
    return f"delivery:{dossier_code}"


def pickup_shipment_id(pickup_id: str) -> str:
    return f"pickup:{pickup_id}"


@dataclass
class Repositories:
    db: AsyncDatabase[Document]
    session: AsyncClientSession | None


UoW = UnitOfWork[Repositories]
