"""Processing's collections.

``cases`` (``_id`` = dossier code): procedure, centre_code, competent_agency, status (CaseStatus),
steps [{position, agency_code, due_at, status (StepStatus), assignee, work: [{at, by, note,
document_ref}], started_at, completed_at, result}], ``current`` (a copy of the current step's
position, agency_code, status, assignee, due_at: what the work queues filter on), received_at,
``current.queue`` names the work queue the case is in (``<agency>:<step status>`` or ``<agency>:paused``, None
once closed). deadline_at (reception's appointment, moved by supplements and apologies), paused_at, history.

``audit``: one immutable row per action (case, action, by, role, agency, at, details); only inserted.
``province_settings``: the calendar config copied from reception's CalendarChanged.
"""

from __future__ import annotations

from pymongo import ASCENDING, IndexModel

from motcua_kit.mongo import Indexes

CASES = "cases"
AUDIT = "audit"
SETTINGS = "province_settings"

INDEXES = (
    Indexes(
        CASES,
        (
            IndexModel([("steps.agency_code", ASCENDING), ("status", ASCENDING)], name="agency_status"),
            IndexModel([("deadline_at", ASCENDING)], name="deadline"),
            IndexModel([("current.queue", ASCENDING), ("current.due_at", ASCENDING)], name="queue"),
            IndexModel([("current.assignee", ASCENDING), ("current.status", ASCENDING)], name="mine"),
        ),
    ),
    Indexes(AUDIT, (IndexModel([("case", ASCENDING), ("at", ASCENDING)], name="case_at"),)),
)
