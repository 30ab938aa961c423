"""The II.06a report built from hand-made dossier facts: every bucket and its boundaries."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from reception.domain.statistics import (
    DossierFacts,
    InvalidReportRequest,
    PeriodReport,
    ReportRow,
    build_report,
)

VN = ZoneInfo("Asia/Ho_Chi_Minh")
FIRST, LAST = date(2026, 10, 1), date(2026, 10, 31)
PROVINCE = "000.00.06.H56"
NHA_TRANG = "000.17.22.H56"


def at(month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=VN)


def dossier(**overrides: Any) -> DossierFacts:
    """A birth registration received at the province centre's counter on 5 October, due on the 15th."""
    facts: dict[str, Any] = {
        "centre_code": PROVINCE,
        "centre_name": "Trung tâm Phục vụ hành chính công tỉnh Khánh Hòa",
        "competent_agency": "000.16.22.H56",
        "field": "Hộ tịch",
        "procedure_code": "1.001193.000.00.00.H56",
        "procedure_name": "Thủ tục đăng ký khai sinh",
        "status": 4,
        "intake_channel": 1,
        "received_at": at(10, 5),
        "appointment_at": at(10, 15, 9, 0),
    }
    return DossierFacts(**(facts | overrides))


def october(*facts: DossierFacts, by: str = "centre") -> PeriodReport:
    return build_report(facts, period_from=FIRST, period_to=LAST, by=by, tz=VN)


def only_row(report: PeriodReport) -> ReportRow:
    assert len(report.rows) == 1, report.rows
    return report.rows[0]


# --- received --------------------------------------------------------------------------------------


def test_received_within_the_period_split_by_channel() -> None:
    row = only_row(october(dossier(intake_channel=1), dossier(intake_channel=2), dossier(intake_channel=3)))
    assert row.received.model_dump() == {"carried_over": 0, "online": 1, "direct_and_postal": 2, "total": 3}


def test_carried_over_when_received_before_and_not_ended_before_the_period() -> None:
    still_open = dossier(received_at=at(9, 20), appointment_at=at(10, 20))
    resolved_in_october = dossier(status=9, received_at=at(9, 21), appointment_at=at(10, 2), resolved_at=at(10, 2, 10))
    resolved_on_first_day_at_midnight = dossier(status=9, received_at=at(9, 22), resolved_at=at(10, 1, 0, 0))
    row = only_row(october(still_open, resolved_in_october, resolved_on_first_day_at_midnight))
    assert row.received.carried_over == 3 and row.received.total == 3
    assert row.received.online == row.received.direct_and_postal == 0


def test_finished_before_the_period_does_not_count() -> None:
    resolved = dossier(status=10, received_at=at(9, 1), resolved_at=at(9, 30, 23, 59), returned_at=at(10, 3))
    withdrawn = dossier(status=7, received_at=at(9, 2), withdrawn_at=at(9, 10))
    stopped = dossier(status=8, received_at=at(9, 3), stopped_at=at(9, 11))
    report = october(resolved, withdrawn, stopped)
    assert report.rows == []
    assert report.total.received.total == report.total.resolved.total == report.total.in_progress.total == 0


def test_refused_at_intake_and_submitted_only_are_never_received() -> None:
    refused = dossier(status=3, received_at=None, appointment_at=None, refused_at=at(10, 6))
    submitted = dossier(status=1, intake_channel=2, received_at=None, appointment_at=None)
    supplement_before_receipt = dossier(status=5, received_at=None, appointment_at=None)
    assert october(refused, submitted, supplement_before_receipt).rows == []


def test_received_after_the_period_does_not_count() -> None:
    assert october(dossier(received_at=at(11, 2))).rows == []


def test_period_edges_are_local_midnights() -> None:
    first_minute = dossier(intake_channel=2, received_at=datetime(2026, 9, 30, 17, 0, tzinfo=UTC))  # 1/10 00:00
    before = dossier(received_at=datetime(2026, 9, 30, 16, 59, tzinfo=UTC))  # 30/9 23:59, still open
    after = dossier(received_at=datetime(2026, 10, 31, 17, 0, tzinfo=UTC))  # 1/11 00:00
    row = only_row(october(first_minute, before, after))
    assert (row.received.online, row.received.carried_over, row.received.direct_and_postal) == (1, 1, 0)


# --- resolved --------------------------------------------------------------------------------------


def test_resolution_compared_with_the_appointment_by_local_date() -> None:
    due = at(10, 15, 9, 0)  # the appointment is in the morning: the whole day is on time
    early = dossier(status=9, appointment_at=due, resolved_at=at(10, 14, 16, 59))
    on_time = dossier(status=9, appointment_at=due, resolved_at=at(10, 15, 16, 59))
    late = dossier(status=9, appointment_at=due, resolved_at=at(10, 16, 7, 30))
    row = only_row(october(early, on_time, late))
    assert row.resolved.model_dump() == {"early": 1, "on_time": 1, "late": 1, "total": 3}
    assert row.on_time_rate == 0.6667
    assert row.in_progress.total == 0


def test_returned_dossiers_count_as_resolved_when_resolved() -> None:
    returned = dossier(status=10, resolved_at=at(10, 15, 16), returned_at=at(10, 20))
    returned_without_resolution_time = dossier(status=10, returned_at=at(10, 14))
    row = only_row(october(returned, returned_without_resolution_time))
    assert (row.resolved.early, row.resolved.on_time, row.resolved.late) == (1, 1, 0)


def test_resolved_after_the_period_is_in_progress_at_its_end() -> None:
    row = only_row(october(dossier(status=9, appointment_at=at(11, 3), resolved_at=at(11, 2))))
    assert row.resolved.total == 0 and row.in_progress.model_dump() == {"in_time": 1, "late": 0, "total": 1}
    assert row.on_time_rate is None


def test_withdrawn_or_stopped_within_the_period_is_neither_resolved_nor_in_progress() -> None:
    withdrawn = dossier(status=7, withdrawn_at=at(10, 8))
    stopped = dossier(status=8, stopped_at=at(10, 9))
    stopped_then_resolution_reported = dossier(status=8, stopped_at=at(10, 9), resolved_at=at(10, 12))
    row = only_row(october(withdrawn, stopped, stopped_then_resolution_reported))
    assert row.received.total == 3 and row.resolved.total == 0 and row.in_progress.total == 0


# --- in progress -----------------------------------------------------------------------------------


def test_in_progress_at_the_end_is_in_time_until_the_appointment_date() -> None:
    due_on_last_day = dossier(appointment_at=at(10, 31, 8, 0))
    due_after = dossier(appointment_at=at(11, 5))
    due_the_day_before = dossier(appointment_at=at(10, 30, 16, 59))
    carried_and_overdue = dossier(received_at=at(8, 1), appointment_at=at(9, 1))
    row = only_row(october(due_on_last_day, due_after, due_the_day_before, carried_and_overdue))
    assert row.in_progress.model_dump() == {"in_time": 2, "late": 2, "total": 4}
    assert row.received.carried_over == 1


def test_ended_exactly_at_the_end_of_the_period_is_in_progress() -> None:
    resolved_at_midnight = dossier(status=9, resolved_at=datetime(2026, 10, 31, 17, 0, tzinfo=UTC))  # 1/11 00:00
    row = only_row(october(resolved_at_midnight))
    assert row.resolved.total == 0 and row.in_progress.late == 1


# --- satisfaction ----------------------------------------------------------------------------------


def test_satisfaction_counts_ratings_given_within_the_period() -> None:
    def rated(level: str, when: datetime) -> DossierFacts:
        return dossier(status=10, resolved_at=at(10, 10), returned_at=at(10, 11), rating=level, rated_at=when)

    row = only_row(
        october(
            rated("very_satisfied", at(10, 12)),
            rated("satisfied", at(10, 13)),
            rated("not_satisfied", at(10, 14)),
            rated("not_satisfied", at(11, 1, 8)),  # rated after the period
        )
    )
    assert row.satisfaction.model_dump() == {"very_satisfied": 1, "satisfied": 1, "not_satisfied": 1, "rated": 3}
    assert row.satisfaction_rate == 0.6667


def test_a_rating_counts_even_when_the_dossier_ended_before_the_period() -> None:
    resolved_in_september = dossier(
        status=10,
        received_at=at(9, 1),
        appointment_at=at(9, 10),
        resolved_at=at(9, 9),
        returned_at=at(9, 29),
        rating="satisfied",
        rated_at=at(10, 2),
    )
    row = only_row(october(resolved_in_september))
    assert row.received.total == row.resolved.total == row.in_progress.total == 0
    assert row.satisfaction.satisfied == 1 and row.satisfaction_rate == 1.0
    assert row.on_time_rate is None


# --- groups, totals, rates --------------------------------------------------------------------------


def test_rows_per_group_and_the_total_row() -> None:
    land = {"field": "Đất đai", "procedure_code": "1.012753.000.00.00.H56", "competent_agency": "000.00.13.H56"}
    facts = [
        dossier(),
        dossier(centre_code=NHA_TRANG, centre_name="Trung tâm phường Nha Trang", intake_channel=2),
        dossier(**land, procedure_name="Đăng ký đất đai", status=9, resolved_at=at(10, 20)),
    ]
    by_centre = october(*facts, by="centre")
    assert [(r.key, r.received.total) for r in by_centre.rows] == [(PROVINCE, 2), (NHA_TRANG, 1)]
    assert by_centre.total.key == "" and by_centre.total.name == "Tổng cộng"
    assert by_centre.total.received.model_dump() == {"carried_over": 0, "online": 1, "direct_and_postal": 2, "total": 3}
    assert by_centre.total.resolved.late == 1 and by_centre.total.in_progress.total == 2
    assert by_centre.total.on_time_rate == 0.0

    by_field = october(*facts, by="field")
    assert [(r.key, r.name, r.received.total) for r in by_field.rows] == [
        ("Hộ tịch", "Hộ tịch", 2),
        ("Đất đai", "Đất đai", 1),
    ]
    by_procedure = october(*facts, by="procedure")
    assert [(r.key, r.name) for r in by_procedure.rows] == [
        ("1.001193.000.00.00.H56", "Thủ tục đăng ký khai sinh"),
        ("1.012753.000.00.00.H56", "Đăng ký đất đai"),
    ]
    names = {"000.00.13.H56": "Sở Nông nghiệp và Môi trường tỉnh Khánh Hòa"}
    by_agency = build_report(facts, period_from=FIRST, period_to=LAST, by="agency", tz="Asia/Ho_Chi_Minh", names=names)
    assert [(r.key, r.name) for r in by_agency.rows] == [
        ("000.00.13.H56", "Sở Nông nghiệp và Môi trường tỉnh Khánh Hòa"),
        ("000.16.22.H56", "000.16.22.H56"),  # no name known: the code
    ]


def test_empty_period_has_no_rows_and_no_rates() -> None:
    report = october()
    assert report.rows == [] and report.timezone == "Asia/Ho_Chi_Minh"
    assert report.total.received.total == report.total.resolved.total == report.total.in_progress.total == 0
    assert report.total.on_time_rate is None and report.total.satisfaction_rate is None


def test_on_time_rate_is_rounded_to_four_decimals() -> None:
    due = at(10, 15)
    facts = [dossier(status=9, appointment_at=due, resolved_at=at(10, 15, 16)) for _ in range(5)]
    facts += [dossier(status=9, appointment_at=due, resolved_at=at(10, 20)) for _ in range(2)]
    assert october(*facts).total.on_time_rate == 0.7143  # 5/7 = 0.714285...


def test_naive_instants_from_the_database_are_utc() -> None:
    naive = dossier(received_at=datetime(2026, 9, 30, 17, 30), appointment_at=datetime(2026, 10, 10, 2, 0))
    assert only_row(october(naive)).received.direct_and_postal == 1  # 1/10 00:30 in Vietnam


# --- requests --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "last", "by", "code"),
    [
        (date(2026, 10, 31), date(2026, 10, 1), "field", "period_reversed"),
        (date(2025, 9, 30), date(2026, 10, 1), "field", "period_too_long"),  # 367 days
        (date(2026, 10, 1), date(2026, 10, 31), "officer", "unknown_grouping"),
    ],
)
def test_refuses_what_makes_no_report(first: date, last: date, by: str, code: str) -> None:
    with pytest.raises(InvalidReportRequest) as refused:
        build_report([], period_from=first, period_to=last, by=by)
    assert refused.value.code == code


def test_a_leap_year_is_the_longest_period() -> None:
    report = build_report([], period_from=date(2028, 1, 1), period_to=date(2028, 12, 31), by="field")
    assert report.period_to == date(2028, 12, 31)
