"""Classifying a finished dossier against its appointment."""

from __future__ import annotations

import datetime as _dt
from typing import Literal

from ._checks import load_zone, require_aware

__all__ = ["FinishStatus", "classify_finish"]

FinishStatus = Literal["early", "on_time", "late"]


def classify_finish(
    finished_at: _dt.datetime,
    appointment: _dt.datetime,
    tz: str | _dt.tzinfo = "Asia/Ho_Chi_Minh",
) -> FinishStatus:
    """Compare by calendar date in ``tz``: before the appointment's date is ``"early"``,
    the same date ``"on_time"``, a later date ``"late"``.
    """
    zone = load_zone(tz) if isinstance(tz, str) else tz
    if not isinstance(zone, _dt.tzinfo):
        raise TypeError(f"tz must be an IANA name or a tzinfo, got {tz!r}")
    finished = require_aware(finished_at, "finished_at").astimezone(zone).date()
    due = require_aware(appointment, "appointment").astimezone(zone).date()
    if finished < due:
        return "early"
    if finished == due:
        return "on_time"
    return "late"
