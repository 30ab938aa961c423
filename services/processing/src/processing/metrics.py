from __future__ import annotations

from prometheus_client import Counter

CASES_OPENED = Counter("processing_cases_opened_total", "Cases opened, by the agency of the first step.", ["agency"])


def record_case_opened(agency: str) -> None:
    CASES_OPENED.labels(agency).inc()
