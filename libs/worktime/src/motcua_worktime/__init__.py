"""Working-time arithmetic for Vietnamese public administration (motcua).

Limits are counted in working days (8 working hours by default) or working hours,
over configurable working periods and workdays, Vietnamese public holidays from
the ``holidays`` package, and per-province overrides (extra days off, swapped
working days). Every public function takes and returns timezone-aware datetimes.
"""

from .classify import FinishStatus, classify_finish
from .config import CalendarConfig, OverrideConfig
from .models import CalendarOverride, WorkingPeriod
from .work_calendar import DEFAULT_PERIODS, DEFAULT_TIMEZONE, DEFAULT_WORKDAYS, WorkCalendar

__all__ = [
    "DEFAULT_PERIODS",
    "DEFAULT_TIMEZONE",
    "DEFAULT_WORKDAYS",
    "CalendarConfig",
    "CalendarOverride",
    "FinishStatus",
    "OverrideConfig",
    "WorkCalendar",
    "WorkingPeriod",
    "classify_finish",
]
