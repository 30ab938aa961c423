"""Processing's metrics: by agency and action, never by dossier."""

from __future__ import annotations

from prometheus_client import Counter

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
