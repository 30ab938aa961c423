from __future__ import annotations

from pymongo import ASCENDING, IndexModel

from motcua_kit.mongo import Indexes

DELIVERIES = "deliveries"

INDEXES = (
    Indexes(DELIVERIES, (IndexModel([("centre_code", ASCENDING), ("status", ASCENDING)], name="centre_status"),)),
)
