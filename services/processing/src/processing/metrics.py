"""Processing's metrics: by agency and action, never by dossier."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

CASES_OPENED = Counter("processing_cases_opened_total", "Cases opened, by the agency of the first step.", ["agency"])
ACTIONS = Counter("processing_actions_total", "Agency actions on steps, by action and agency.", ["action", "agency"])
STEPS_DONE = Counter("processing_steps_completed_total", "Steps approved, by agency and result.", ["agency", "result"])
SEND_BACKS = Counter("processing_send_backs_total", "Steps sent back by the leader.", ["agency"])


def record_case_opened(agency: str) -> None:
    CASES_OPENED.labels(agency).inc()


def record_action(action: str, agency: str) -> None:
    ACTIONS.labels(action, agency).inc()


def record_step_done(agency: str, result: str) -> None:
    STEPS_DONE.labels(agency, result).inc()


def record_send_back(agency: str) -> None:
    SEND_BACKS.labels(agency).inc()


OPEN_STEPS = Gauge("processing_open_steps", "Open cases by the agency of their current step.", ["agency"])
OVERDUE_STEPS = Gauge("processing_overdue_steps", "Open current steps past their deadline, by agency.", ["agency"])
TIME_IN_STEP = Histogram(
    "processing_step_working_hours",
    "Working hours from a step's start to its approval.",
    ["agency"],
    buckets=(1, 2, 4, 8, 16, 24, 40, 80, 120, 160, 240),
)
ALERTS = Counter("processing_deadline_alerts_total", "Deadline alerts published, by kind.", ["kind"])


def set_open_steps(open_by_agency: dict[str, int], overdue_by_agency: dict[str, int]) -> None:
    OPEN_STEPS.clear()
    OVERDUE_STEPS.clear()
    for agency, n in open_by_agency.items():
        OPEN_STEPS.labels(agency).set(n)
    for agency, n in overdue_by_agency.items():
        OVERDUE_STEPS.labels(agency).set(n)


def record_time_in_step(agency: str, working_hours: float) -> None:
    TIME_IN_STEP.labels(agency).observe(working_hours)


def record_alert(kind: str) -> None:
    ALERTS.labels(kind).inc()
