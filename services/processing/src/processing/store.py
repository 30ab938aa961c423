from __future__ import annotations

from pymongo import ASCENDING, IndexModel

from motcua_kit.mongo import Indexes

CASES = "cases"

INDEXES = (
    Indexes(
        CASES,
        (
            IndexModel([("steps.agency_code", ASCENDING), ("status", ASCENDING)], name="agency_status"),
            IndexModel([("deadline_at", ASCENDING)], name="deadline"),
        ),
    ),
)
