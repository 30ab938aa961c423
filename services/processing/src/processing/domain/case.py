"""A case: the agencies' steps on one dossier, each with its share of the legal limit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from motcua_worktime import WorkCalendar


@dataclass(frozen=True)
class PlannedStep:
    position: int
    agency_code: str
    due_at: datetime


def plan_steps(
    calendar: WorkCalendar,
    *,
    clock_started_at: datetime,
    appointment_at: datetime,
    limit_working_hours: float,
    chain: list[tuple[str, float]],
) -> list[PlannedStep]:
    """Each step's deadline is the clock start plus the cumulated shares of the limit;
    the last step's deadline is the appointment itself, so rounding never moves it."""
    steps, cumulated = [], 0.0
    for position, (agency, share) in enumerate(chain, start=1):
        cumulated += share
        if position == len(chain):
            due = appointment_at
        else:
            due = calendar.add_working_time(clock_started_at, timedelta(hours=limit_working_hours * cumulated))
        steps.append(PlannedStep(position, agency, due))
    return steps
