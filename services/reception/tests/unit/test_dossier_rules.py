from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from motcua_worktime import WorkCalendar
from reception.domain.catalogue import Procedure
from reception.domain.dossier import (
    Status,
    SubmittedDocument,
    TransitionRefused,
    appointment_for,
    check_action,
    dossier_code,
    missing_documents,
    next_status,
    normalise_phone,
    pause_hours,
    search_name,
)

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def procedure(**overrides: object) -> Procedure:
    data: dict[str, object] = {
        "code": "1.001193.000.00.00.H56",
        "name": "Thủ tục đăng ký khai sinh",
        "field": "Hộ tịch",
        "level": "commune",
        "documents": [
            {"name": "Tờ khai đăng ký khai sinh", "originals": 1, "copies": 0, "mandatory": True},
            {"name": "Giấy chứng sinh", "originals": 1, "copies": 1, "mandatory": True},
            {"name": "Văn bản ủy quyền", "originals": 1, "copies": 0, "mandatory": False},
        ],
        "limit": {"unit": "working_days", "value": 5},
        "competent_agency": "000.16.22.H56",
        "agency_chain": ["000.16.22.H56"],
    }
    data.update(overrides)
    return Procedure.model_validate(data)


def test_dossier_code_has_agency_date_and_four_digit_daily_sequence() -> None:
    assert dossier_code("000.00.06.H56", date(2023, 10, 27), 361) == "000.00.06.H56-231027-0361"
    assert dossier_code("000.17.22.H56", date(2021, 5, 31), 1) == "000.17.22.H56-210531-0001"
    for bad in (0, 10_000):
        with pytest.raises(ValueError, match="out of range"):
            dossier_code("000.00.06.H56", date(2023, 10, 27), bad)


def test_missing_documents_names_each_problem() -> None:
    submitted = [SubmittedDocument("tờ khai đăng ký khai sinh ", 1, 0), SubmittedDocument("Giấy chứng sinh", 1, 0)]
    assert missing_documents(procedure(), submitted) == ["Giấy chứng sinh: cần 1 bản sao, có 0"]
    assert missing_documents(procedure(), []) == [
        "thiếu giấy tờ bắt buộc: Tờ khai đăng ký khai sinh",
        "thiếu giấy tờ bắt buộc: Giấy chứng sinh",
    ]


def test_appointment_follows_the_worked_example_and_the_cutoff() -> None:
    calendar = WorkCalendar()
    example = appointment_for(calendar, procedure(), datetime(2023, 10, 27, 9, 32, tzinfo=VN), online=False)
    assert example.appointment_at == datetime(2023, 11, 3, 9, 32, tzinfo=VN) and example.limit_working_hours == 40
    late = appointment_for(
        calendar,
        procedure(cutoff_after_15h=True, limit={"unit": "working_hours", "value": 8}),
        datetime(2023, 10, 26, 15, 30, tzinfo=VN),
        online=False,
    )
    assert late.clock_started_at == datetime(2023, 10, 27, 7, 0, tzinfo=VN)
    assert late.appointment_at == datetime(2023, 10, 27, 17, 0, tzinfo=VN)
    online = appointment_for(
        calendar,
        procedure(limit={"unit": "working_days", "value": 5, "online_value": 3}),
        datetime(2023, 10, 27, 9, 32, tzinfo=VN),
        online=True,
    )
    assert online.appointment_at == datetime(2023, 11, 1, 9, 32, tzinfo=VN)


@pytest.mark.parametrize(
    ("action", "status"),
    [("receive", 2), ("refuse", 2), ("return_result", 4), ("rate", 9), ("withdraw", 10), ("receive_supplement", 4)],
)
def test_illegal_actions_are_refused_with_the_status_named(action: str, status: int) -> None:
    with pytest.raises(TransitionRefused, match=f"status {status}"):
        check_action(action, status)


def test_a_received_dossier_awaiting_a_supplement_cannot_be_refused() -> None:
    check_action("refuse", Status.SUPPLEMENT_REQUESTED, clock_running=False)
    with pytest.raises(TransitionRefused, match="already received"):
        check_action("refuse", Status.SUPPLEMENT_REQUESTED, clock_running=True)


@pytest.mark.parametrize(
    ("current", "proposed", "expected"),
    [
        (Status.RECEIVED, Status.PROCESSING, Status.PROCESSING),
        (Status.RESOLVED, Status.PROCESSING, Status.RESOLVED),  # a late CaseOpened does not reopen
        (Status.RETURNED, Status.RESOLVED, Status.RETURNED),
        (Status.PROCESSING, Status.SUPPLEMENT_REQUESTED, Status.SUPPLEMENT_REQUESTED),
        (Status.SUPPLEMENT_REQUESTED, Status.PROCESSING, Status.PROCESSING),
        (Status.PAYMENT_REQUESTED, Status.RESOLVED, Status.RESOLVED),
        (Status.WITHDRAWN, Status.RESOLVED, Status.WITHDRAWN),
        (Status.PROCESSING, Status.STOPPED, Status.STOPPED),
        (Status.RESOLVED, Status.STOPPED, Status.RESOLVED),
    ],
)
def test_statuses_from_other_services_only_move_forward(current: Status, proposed: Status, expected: Status) -> None:
    assert next_status(current, proposed) is expected


def test_pause_counts_working_hours_only() -> None:
    calendar = WorkCalendar()
    friday_noon = datetime(2026, 12, 4, 11, 0, tzinfo=VN)
    monday_eight = datetime(2026, 12, 7, 8, 0, tzinfo=VN)
    assert pause_hours(calendar, friday_noon, monday_eight) == pytest.approx(0.5 + 3.5 + 1.0)


def test_names_and_phones_are_normalised_for_search_and_lookup() -> None:
    assert search_name("  Đặng   Thị Đào ") == "dang thi dao"
    assert normalise_phone("+84 905 123 456") == normalise_phone("0905.123.456") == "0905123456"
